"""The meeting page through AppTest: six screens by URL and by the previous / next buttons, each drawn from the same
weekly pack as the e-mailed report — the numbers on every screen equal reports.weekly's tables for that week."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import WON, Account
from support.app import ARTEFACTS, metric_values, new_app, page_texts, run_ok

from data_layer import store
from metrics.filters import Filters
from presentation import fmt
from programme import decisions, goals
from reports import cells
from reports import weekly as report
from ui.i18n import band_label, metric_label
from ui.meeting import STEPS
from ui.meeting_actions import MAX_DECISIONS
from ui.meeting_changes import MAX_ROWS

PAGE = "pages/meeting.py"


@pytest.fixture(scope="module")
def meeting_db(tmp_path_factory: pytest.TempPathFactory, app_db: Path) -> tuple[Path, date]:
    """A copy of the demo with goals off track, and a week whose pack has movers, band changes and anomalies."""
    path = tmp_path_factory.mktemp("meeting") / "meeting.duckdb"
    shutil.copy(app_db, path)
    end = report.last_sunday(date.today())
    with store.connect(path) as con:
        goals.add_goal(con, "program", "leads", ">=", 1e6, end - timedelta(days=200), end + timedelta(days=30),
                       who="test")
        goals.add_goal(con, "program", "revenue", ">=", 1e12, end - timedelta(days=200), end + timedelta(days=30),
                       who="test")
    with store.connect(path, read_only=True) as con:
        for back in range(30):
            week = end - timedelta(days=7 * back)
            pack = report.build_weekly(con, week, Filters(week, week), "close")
            if len(pack.anomalies) and len(pack.bands) and len(pack.movers):
                return path, week
    raise AssertionError("no demo week with anomalies, band changes and movers")


@pytest.fixture(scope="module")
def pack(meeting_db: tuple[Path, date]) -> report.WeeklyPack:
    """The weekly report's pack for the meeting's week (what the e-mail of that week is made of)."""
    path, week = meeting_db
    with store.connect(path, read_only=True) as con:
        return report.build_weekly(con, week, Filters(week, week), "close")


def _open(query: dict[str, str], monkeypatch: pytest.MonkeyPatch, db: Path):
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    at = run_ok(new_app(query))
    return run_ok(at.switch_page(PAGE))


def _click(at, key: str) -> None:
    at.button(key=key).click()
    run_ok(at)


def _table(at) -> pd.DataFrame:
    """The screen's one table (st.table of a Styler: the raw values, numbers still numbers)."""
    assert len(at.table) == 1 and not at.dataframe, "a meeting screen draws one static table, no scrolling grid"
    value = at.table[0].value
    return getattr(value, "data", value)


def _plain(text: str) -> str:
    """A cell's Markdown-escaped CRM text back to the name (with non-breaking spaces as spaces)."""
    return text.replace("\\", "").replace("\u2060", "").replace("\u00a0", " ")


# ---------- navigation ----------

def test_the_page_opens_on_screen_one_and_steps_with_the_buttons(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open({"present": "1"}, monkeypatch, app_env)
    assert at.title[0].value == "1. Неделя к неделе"
    assert at.button(key="meeting.prev").disabled and not at.button(key="meeting.next").disabled
    for step in range(2, len(STEPS) + 1):
        _click(at, "meeting.next")
        assert at.title[0].value.startswith(f"{step}. ") and at.query_params["step"] in (str(step), [str(step)])
    assert at.button(key="meeting.next").disabled, "the last screen has no next"
    _click(at, "meeting.prev")
    assert at.title[0].value == "5. Цели, которые отстают"
    assert at.session_state["step"] == 5


@pytest.mark.parametrize("step", range(1, len(STEPS) + 1))
def test_a_link_opens_its_screen(meeting_db: tuple[Path, date], monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    db, week = meeting_db
    at = _open({"present": "1", "step": str(step), "week": week.isoformat()}, monkeypatch, db)
    assert at.title[0].value.startswith(f"{step}. ")
    bad = sorted({s for s in page_texts(at) if ARTEFACTS.search(s)})
    assert not bad, f"screen {step}: raw artefacts {bad[:8]}"
    assert at.date_input(key="week").value == week
    assert at.get("button_group")[0].key == "step" and at.session_state["step"] == step


def test_a_bad_step_in_the_link_opens_screen_one(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open({"step": "9"}, monkeypatch, app_env)
    assert at.title[0].value.startswith("1. ")


def test_english_and_the_meeting_mode_hint(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open({"lang": "en", "step": "6"}, monkeypatch, app_env)
    assert at.title[0].value == "6. Decisions to take"
    assert any("Meeting mode" in c.value for c in at.caption), "outside meeting mode the page says how to switch it on"


# ---------- one implementation: the screens show the weekly report's numbers ----------

def test_screen_one_cards_are_the_reports_summary(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    cards = metric_values(_open({"week": week.isoformat()}, monkeypatch, db))  # outside meeting mode: st.metric cards
    summary = report.summary_table(pack, "ru")
    rows = dict(zip(summary.frame["metric"], cells.pdf_rows(summary, "ru", pack.currency), strict=True))
    for metric in ("leads", "won_deals", "qualified_leads", "new_clients"):
        label = metric_label(metric, "ru")
        assert cards[label] == rows[label][1], metric  # the report's "this week" cell, character for character
    assert "Доля выигранных среди закрытых" in cards and "Конверсия" not in cards


def test_screen_two_movers_are_the_reports(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    shown = _table(_open({"present": "1", "step": "2", "week": week.isoformat()}, monkeypatch, db))
    movers = report.movers_table(pack, "ru").frame
    assert [_plain(p) for p in shown["Партнёр"]] == list(movers["partner"])
    for col, theirs in (("Выручка, прошлая", "revenue_before"), ("Выручка, эта", "revenue_now"),
                        ("Изменение", "change")):
        assert shown[col].tolist() == pytest.approx(movers[theirs].astype(float).tolist()), col
    assert [x == "мало\u00a0лидов" for x in shown["Выборка"]] == [x != "" for x in movers["sample"]]


def test_screen_three_band_changes_are_the_reports(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    shown = _table(_open({"present": "1", "step": "3", "week": week.isoformat()}, monkeypatch, db))
    bands = report.bands_table(pack, "ru").frame.head(MAX_ROWS)
    assert [_plain(p) for p in shown["Партнёр"]] == list(bands["partner"])
    assert list(shown["Стало"]) == list(bands["band_now"]) == [band_label(b, "ru") for b in pack.bands["band_now"]
                                                               ][:MAX_ROWS]
    assert shown["ROI, стало"].tolist() == pytest.approx(bands["roi_now"].astype(float).tolist())


def test_screen_four_anomalies_are_the_reports(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    shown = _table(_open({"present": "1", "step": "4", "week": week.isoformat()}, monkeypatch, db))
    anomalies = report.anomalies_table(pack, "ru")
    assert shown["Отклонение"].tolist() == pytest.approx(anomalies.frame["z"].astype(float).tolist())
    texts = [row[2] for row in cells.pdf_rows(anomalies, "ru", pack.currency)]  # the report's "actual" cells
    assert [_plain(x) for x in shown["За неделю"]] == [_plain(x) for x in texts][:MAX_ROWS]
    assert len(shown) == min(len(pack.anomalies), MAX_ROWS)


def test_screen_five_goals_are_the_reports(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    shown = _table(_open({"present": "1", "step": "5", "week": week.isoformat()}, monkeypatch, db))
    goals_table = report.goals_table(pack, "ru").frame
    assert len(shown) == len(goals_table) == 2
    assert [_plain(m) for m in shown["Показатель"]] == list(goals_table["metric"])


def test_screen_five_without_goals_says_none_are_set(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a programme with no goals read "every goal is on track" — it must say none are set and where."""
    at = _open({"step": "5"}, monkeypatch, app_db)
    assert [i.value for i in at.info if "Целей пока нет" in i.value] and not at.success


def test_screen_six_decisions_come_from_the_same_facts(meeting_db: tuple[Path, date], pack: report.WeeklyPack,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, week = meeting_db
    shown = _table(_open({"present": "1", "step": "6", "week": week.isoformat()}, monkeypatch, db))
    found = decisions.decisions(pack)
    assert len(shown) == min(len(found), MAX_DECISIONS)
    losing = pack.partners[(pack.partners["roi_band"] == "loss") & ~pack.partners["too_few"].astype(bool)]
    assert (found["kind"] == "loss").sum() == len(losing)
    assert (found["kind"] == "anomaly").sum() == len(pack.anomalies) and (found["kind"] == "goal").sum() == 2
    whys = list(shown["Почему"])
    for row, why in zip(found.head(MAX_DECISIONS).to_dict("records"), whys, strict=True):
        if row["kind"] == "loss":  # the number that triggers it, formatted as on every other screen
            assert _plain(fmt.pct(row["value"], "ru")) in _plain(why) and str(int(row["leads"])) in why


# ---------- the partner lifecycle's week ----------

@pytest.fixture
def lifecycle_db(tmp_db: Path) -> Path:
    """Alpha: a won lead 2025-01-20 and none since (falls asleep 03-21); Beta: leads 2024-11-01 and 2025-03-20
    (wakes up); «*Гамма*»: joined 2025-03-18 (new), its name Markdown-like."""
    acc = Account()
    acc.partner("Alpha", "referral", "2025-01-01")
    acc.partner("Beta", "sales", "2024-10-01")
    acc.partner("*Гамма*", "service", "2025-03-18")
    acc.lead("2025-01-20", partner="Alpha", status=WON, price=5000)
    acc.lead("2024-11-01", partner="Beta")
    acc.lead("2025-03-20", partner="Beta")
    return acc.build(tmp_db)


@pytest.mark.parametrize(("code", "line"), [
    ("ru", "За неделю: новые — *Гамма*; проснулись — Beta; уснули — Alpha."),
    ("en", "This week: new — *Гамма*; woke up — Beta; fell asleep — Alpha."),
])
def test_screen_two_says_who_is_new_woke_up_and_fell_asleep(lifecycle_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                            code: str, line: str) -> None:
    at = _open({"present": "1", "step": "2", "week": "2025-03-23", "lang": code}, monkeypatch, lifecycle_db)
    shown = [_plain(m.value) for m in at.markdown if "—" in m.value and ";" in m.value]
    assert shown == [":material/conversion_path: " + line]
    with store.connect(lifecycle_db, read_only=True) as con:
        pack = report.build_weekly(con, date(2025, 3, 23), Filters(date(2025, 3, 23), date(2025, 3, 23)), "close")
    assert report.lifecycle_line(pack, code) == line, "the meeting's line is the weekly report's"
