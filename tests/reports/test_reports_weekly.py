"""Weekly pack: robust anomaly rule, week arithmetic, numbers equal metrics.kpis, CLI end to end with SMTP."""

from __future__ import annotations

import email
import io
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.reports import WEEK_ENDING
from support.smtp import PASSWORD, USER, free_port, start

from data_layer import store
from metrics import changes
from metrics.engine import kpis
from metrics.filters import Filters
from programme import weekly as pack_rules
from programme.weekly import ANOMALY_METRICS
from reports import weekly
from reports.__main__ import main

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def anomalies_frame(rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """The week's anomalies by the one rule (metrics.changes) over the pack's metrics."""
    return changes.latest_anomalies(rows, label, ANOMALY_METRICS)


def series(values: list[float]) -> pd.DataFrame:
    """A weekly series ending on WEEK_ENDING with the same values for every metric."""
    weeks = [WEEK_ENDING - timedelta(days=7 * i) for i in range(len(values))][::-1]
    return pd.DataFrame({"week": weeks, "leads": values, "won_deals": values, "revenue": values})


def test_spike_is_an_anomaly() -> None:
    found = anomalies_frame(series([20, 22, 19, 21, 20, 23, 18, 21, 60]), "")
    assert set(found["metric"]) == {"leads", "won_deals", "revenue"} and (found["z"] > 0).all()


def test_drop_is_an_anomaly() -> None:
    found = anomalies_frame(series([40, 42, 39, 41, 40, 43, 38, 41, 5]), "ACME")
    assert (found["z"] < 0).all() and set(found["series"]) == {"ACME"}


def test_usual_week_is_not() -> None:
    assert anomalies_frame(series([20, 22, 19, 21, 20, 23, 18, 21, 24]), "").empty


def test_flat_history_needs_a_real_jump() -> None:
    # MAD = 0: the floor (√median for counts, 10 % of the median) keeps a small change quiet
    assert anomalies_frame(series([10] * 8 + [13]), "").empty
    assert not anomalies_frame(series([10] * 8 + [30]), "").empty


def test_short_series_is_skipped() -> None:
    assert anomalies_frame(series([1, 2, 100]), "").empty


@pytest.mark.parametrize(("today", "sunday"), [(date(2025, 6, 30), date(2025, 6, 29)),   # Monday
                                              (date(2025, 6, 29), date(2025, 6, 22)),   # Sunday
                                              (date(2025, 7, 3), date(2025, 6, 29))])   # Thursday
def test_last_sunday(today: date, sunday: date) -> None:
    assert weekly.last_sunday(today) == sunday


def test_change() -> None:
    assert weekly.change(15, 10) == (5, 0.5) and weekly.change(3, 0) == (3, None)
    assert weekly.change(None, 4) == (None, None)


@pytest.fixture(scope="module")
def pack(db: Path) -> weekly.WeeklyPack:
    with store.connect(db, read_only=True) as con:
        return weekly.build_weekly(con, WEEK_ENDING)


def test_pack_numbers_equal_kpis(db: Path, pack: weekly.WeeklyPack) -> None:
    week = Filters(WEEK_ENDING - timedelta(days=6), WEEK_ENDING, view="close")
    with store.connect(db, read_only=True) as con:
        now, before = kpis(con, week).iloc[0], kpis(con, week.previous()).iloc[0]
    s = pack.summary.set_index("metric")
    for metric in ("leads", "won_deals", "revenue", "costs"):
        assert s.at[metric, "this_week"] == pytest.approx(float(now[metric]))
        assert s.at[metric, "last_week"] == pytest.approx(float(before[metric]))
    assert pack.series["leads"].iloc[-1] == now["leads"] and len(pack.series) == weekly.SERIES_WEEKS


def test_week_buckets_equal_per_week_queries(db: Path) -> None:
    with store.connect(db, read_only=True) as con:
        fast = pack_rules._bucketed_rows(con, WEEK_ENDING, None, "close", 2)
        slow = [[kpis(con, weekly.week_filters(WEEK_ENDING, None, "close", b))] for b in range(2)]
        slow_p = [kpis(con, weekly.week_filters(WEEK_ENDING, None, "close", b), by="partner") for b in range(2)]
    for b in range(2):
        for metric in ("leads", "won_deals", "revenue", "costs"):
            assert fast[0][b][metric].iloc[0] == pytest.approx(slow[b][0][metric].iloc[0])
        merged = fast[1][b].merge(slow_p[b], on="partner_id", how="outer", suffixes=("", "_slow"))
        assert (merged["leads"].fillna(0) == merged["leads_slow"].fillna(0)).all()
        assert merged["revenue"].fillna(0).to_numpy() == pytest.approx(merged["revenue_slow"].fillna(0).to_numpy())


def test_pack_movers_sorted(pack: weekly.WeeklyPack) -> None:
    changes = list(pack.movers["change"].abs())
    assert changes == sorted(changes, reverse=True) and len(changes) <= weekly.TOP_MOVERS


def test_pack_files(pack: weekly.WeeklyPack, tmp_path: Path) -> None:
    pdf, xlsx_path = weekly.write_weekly(pack, tmp_path, "ru")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\u00a0", " ")
    assert "Недельный отчёт" in text and "Неделя к неделе" in text and "Аномалии" in text
    wb = load_workbook(xlsx_path)
    assert wb.sheetnames[1:] == ["Неделя к неделе", "Главные изменения", "Смена оценки ROI", "Аномалии",
                                 "Цели, которые отстают", "Жизненный цикл за неделю", "По неделям"]
    leads = [r for r in wb["Неделя к неделе"].iter_rows(min_row=2, values_only=True) if r[0] == "Лиды"][0]
    assert leads[1] == pack.summary.set_index("metric").at["leads", "this_week"]


def test_email_text_english(pack: weekly.WeeklyPack) -> None:
    subject, body = weekly.email_text(pack, "en")
    assert subject.startswith("Partner ROI: weekly report") and "Leads:" in body and "Revenue:" in body


@pytest.fixture
def cached_pack(pack: weekly.WeeklyPack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure-path CLI tests reuse the module's pack instead of recomputing it."""
    monkeypatch.setattr(weekly, "build_weekly", lambda *a, **k: pack)


def _args(db: Path, out: Path, *extra: str) -> list[str]:
    return ["weekly", "--db", str(db), "--out", str(out), "--week-ending", WEEK_ENDING.isoformat(), *extra]


@pytest.mark.usefixtures("cached_pack")
def test_cli_weekly_without_email(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(db, tmp_path, "--lang", "en")) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["partner-roi-weekly-2025-06-29-en.pdf", "partner-roi-weekly-2025-06-29-en.xlsx"]
    assert "Wrote" in capsys.readouterr().out


def test_cli_weekly_sends_with_login(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ctl, inbox = start(auth=True)
    try:
        for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(ctl.port), "SMTP_USER": USER,
                           "SMTP_PASSWORD": PASSWORD, "SMTP_FROM": "roi@example.ru", "SMTP_STARTTLS": "false"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
        assert main(_args(db, tmp_path / "out", "--to-email", "team@example.ru", "boss@example.ru")) == 0
    finally:
        ctl.stop()
    assert inbox.envelopes == [["team@example.ru", "boss@example.ru"]]
    msg = inbox.messages[0]
    files = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk() if p.get_filename()}
    assert set(files) == {"partner-roi-weekly-2025-06-29-ru.pdf", "partner-roi-weekly-2025-06-29-ru.xlsx"}
    assert files["partner-roi-weekly-2025-06-29-ru.pdf"].startswith(b"%PDF")
    load_workbook(io.BytesIO(files["partner-roi-weekly-2025-06-29-ru.xlsx"]))
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert subject.startswith("Partner ROI: недельный отчёт")
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err


@pytest.mark.usefixtures("cached_pack")
def test_cli_weekly_refused_keeps_files(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()), "SMTP_USER": USER,
                       "SMTP_PASSWORD": PASSWORD, "SMTP_FROM": "roi@example.ru", "SMTP_STARTTLS": "0"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    assert main(_args(db, tmp_path / "out", "--to-email", "team@example.ru", "--lang", "en")) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert "refused the connection" in first and first.count(". ") == 0 and PASSWORD not in err
    assert len(list((tmp_path / "out").iterdir())) == 2


@pytest.mark.usefixtures("cached_pack")
def test_cli_weekly_missing_smtp_settings(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_STARTTLS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(_args(db, tmp_path / "out", "--to-email", "team@example.ru", "--lang", "en")) == 1
    assert "SMTP_HOST" in capsys.readouterr().err and len(list((tmp_path / "out").iterdir())) == 2


@pytest.mark.usefixtures("cached_pack")
def test_cli_secrets_toml_is_read(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctl, inbox = start(auth=False)
    try:
        for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_STARTTLS"):
            monkeypatch.delenv(key, raising=False)
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {ctl.port}\nfrom = "roi@example.ru"\nstarttls = false\n',
            encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        assert main(_args(db, tmp_path / "out", "--to-email", "team@example.ru")) == 0
    finally:
        ctl.stop()
    assert len(inbox.messages) == 1


def test_cli_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weekly", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 1
    assert "none.duckdb" in capsys.readouterr().err
