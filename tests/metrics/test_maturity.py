"""Maturing cohorts (metrics.maturity): given rows -> the time-to-close curve, maturing / incomplete flags,
projections at maturity, and no anomaly, trend arrow or mover from a maturing period."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import WON, Account

from data_layer import store
from metrics import changes, engine, maturity, query
from metrics.__main__ import main
from metrics.filters import Filters


def call(path: Path, fn, *args, **kw):
    """Any function of a read-only connection."""
    with store.connect(path, read_only=True) as con:
        return fn(con, *args, **kw)


def _day(text: str, days: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def won(acc: Account, created: str, close_after: int, n: int = 1, price: float = 100, **kw) -> None:
    """n won deals created on a day and closed close_after days later."""
    acc.lead(created, status=WON, price=price, closed=_day(created, close_after), n=n, **kw)


# ---------- the curve ----------

def test_curve_is_the_cumulative_share_of_known_close_times(tmp_db: Path) -> None:
    acc = Account()
    for days in (0, 10, 10, 20, 20, 20, 30, 30, 40, 50):
        won(acc, "2024-01-10", days)
    acc.lead("2024-06-30")  # the as-of date: every deal is old enough to have shown its close
    curve = call(acc.build(tmp_db), maturity.curve)
    overall = curve[curve["pipeline_id"].isna()].set_index("day")["share"]
    expected = {0: 0.1, 9: 0.1, 10: 0.3, 19: 0.3, 20: 0.6, 30: 0.8, 49: 0.9, 50: 1.0, 730: 1.0}
    assert {d: overall[d] for d in expected} == pytest.approx(expected)
    assert set(curve["pipeline_id"].dropna()) == set()  # fewer than 30 won deals: no pipeline curve of its own
    assert pd.Timestamp(curve["as_of"].iloc[0]).date() == date(2024, 6, 30) and curve["deals"].iloc[0] == 10
    info = call(tmp_db, maturity.bind_curve)  # once returned the young-leads table instead
    assert isinstance(info, maturity.CurveInfo) and info.as_of == date(2024, 6, 30)


def test_curve_corrects_for_young_deals_seen_only_when_fast(tmp_db: Path) -> None:
    # half the old deals close at once, half after 60 days; young deals (30 days old) show only their fast half
    acc = Account()
    won(acc, "2024-01-10", 0, n=5)
    won(acc, "2024-01-10", 60, n=5)
    won(acc, "2024-05-31", 0, n=10)
    acc.lead("2024-06-30")
    curve = call(acc.build(tmp_db), maturity.curve)
    overall = curve[curve["pipeline_id"].isna()].set_index("day")["share"]
    assert overall[0] == pytest.approx(0.5) and overall[59] == pytest.approx(0.5)  # a plain share would say 0.75
    assert overall[60] == pytest.approx(1.0)


def test_curve_is_computed_once_per_data_version(tmp_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    acc = Account()
    won(acc, "2024-01-10", 5)
    path = acc.build(tmp_db)
    call(path, maturity.curve)
    computed = []
    real = maturity.sql.load
    monkeypatch.setattr(maturity.sql, "load", lambda name: computed.append(name) or real(name))
    call(path, maturity.curve)
    call(path, engine.kpis, Filters(date(2024, 1, 1), date(2024, 1, 31)))
    assert "close_curve" not in computed


# ---------- maturing, incomplete, projections ----------

@pytest.fixture
def young(tmp_db: Path) -> Path:
    """Old deals: half close at once, half after 30 days. May's leads are 41 days old at the as-of date (June 30),
    those of June 20 ten days old with 2 of their 10 leads won so far."""
    acc = Account()
    acc.partner("Сервисная", "service")
    won(acc, "2024-01-10", 0, n=10, partner="Сервисная", price=1000)
    won(acc, "2024-01-10", 30, n=10, partner="Сервисная", price=1000)
    acc.lead("2024-05-20", partner="Сервисная", n=10)
    won(acc, "2024-06-20", 0, n=2, partner="Сервисная", price=1000)
    acc.lead("2024-06-20", partner="Сервисная", n=8)
    acc.lead("2024-06-30")
    acc.cost("Сервисная", "2024-06", "marketing", 1000)
    return acc.build(tmp_db)


def test_a_period_below_the_threshold_is_maturing_one_above_is_not(young: Path) -> None:
    june = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 25)), "partner").iloc[0]
    may = call(young, engine.kpis, Filters(date(2024, 5, 1), date(2024, 5, 31)), "partner").iloc[0]
    assert june["maturity"] == pytest.approx(0.5) and bool(june["maturing"]) is True
    assert may["maturity"] == pytest.approx(1.0) and bool(may["maturing"]) is False
    assert not june["incomplete"] and not may["incomplete"]  # both end before the as-of date
    assert pd.isna(may["projected_won_deals"])


def test_close_view_is_never_maturing(young: Path) -> None:
    row = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 25), view="close")).iloc[0]
    assert bool(row["maturing"]) is False and pd.isna(row["maturity"]) and pd.isna(row["projected_won_deals"])


def test_projection_is_so_far_over_share_inside_its_interval(young: Path) -> None:
    row = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 25))).iloc[0]
    assert (row["won_deals"], row["revenue"], row["leads"]) == (2, 2000, 10)
    assert row["projected_won_deals"] == pytest.approx(4.0)
    assert row["projected_revenue"] == pytest.approx(4000.0)
    assert row["projected_conversion"] == pytest.approx(0.4)
    for m in ("won_deals", "revenue", "conversion"):
        assert row[f"projected_{m}_low"] <= row[f"projected_{m}"] <= row[f"projected_{m}_high"]
    assert row["projected_won_deals_low"] >= row["won_deals"]  # never fewer than the deals already won
    assert row["projected_won_deals_high"] > row["projected_won_deals"]


def test_remaining_interval_is_the_negative_binomial_one() -> None:
    assert maturity.remaining_interval(0, 1.0) == (0.0, 0.0)
    low, high = maturity.remaining_interval(100, 0.5)  # mean 100.5 still to close, sd ≈ 14.2
    assert 80 <= low <= 84 and 118 <= high <= 122
    low, high = maturity.remaining_interval(1000, 0.5)  # normal approximation: mean 1000.5, sd ≈ 44.7
    assert 941 <= low <= 945 and 1056 <= high <= 1060


def test_the_threshold_is_a_setting(young: Path) -> None:
    with store.connect(young) as con:
        con.execute("insert into settings (key, value) values ('maturity_threshold', '0.4')")
    row = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 25))).iloc[0]
    assert row["maturity"] == pytest.approx(0.5) and bool(row["maturing"]) is False


def test_the_period_holding_the_as_of_date_or_today_is_incomplete(young: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rows = call(young, engine.kpis, Filters(date(2024, 4, 1), date(2024, 6, 30)), "month")
    assert list(rows["incomplete"]) == [False, True]  # May, June (which holds the as-of date)
    monkeypatch.setattr(maturity, "today", lambda tz: date(2024, 5, 20))  # May is the current month then
    rows = call(young, engine.kpis, Filters(date(2024, 4, 1), date(2024, 6, 30)), "month")
    assert list(rows["incomplete"]) == [True, True]
    close = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 30), view="close")).iloc[0]
    assert bool(close["incomplete"]) is True and bool(close["maturing"]) is False


def test_every_kpi_frame_carries_the_flags(young: Path) -> None:
    f = Filters(date(2024, 5, 1), date(2024, 6, 25))
    frames = call(young, engine.kpis_many, ((f, "none"), (f, "month", engine.LITE), (f, ("month", "partner")),
                                            (f, "model"), (f, "pipeline"), (f, "source")))
    for frame in frames:
        assert set(maturity.COLUMNS) <= set(frame.columns)
    by_month = frames[2].set_index("period")
    assert bool(by_month.loc[date(2024, 6, 1), "maturing"]) and not by_month.loc[date(2024, 5, 1), "maturing"]
    assert set(maturity.COLUMNS) <= set(call(young, engine.monthly, f).columns)
    deltas = call(young, engine.deltas, Filters(date(2024, 6, 1), date(2024, 6, 25)))
    assert deltas["maturing"].all() and not deltas["maturing_prev"].any()


def test_json_cli_carries_maturing(young: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--db", str(young), "--from", "2024-05-01", "--to", "2024-06-25", "--by", "month",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["month"], r["maturing"], r["incomplete"]) for r in rows] == [("2024-05", False, False),
                                                                           ("2024-06", True, False)]
    assert rows[1]["projected_won_deals"] == pytest.approx(4.0) and rows[0]["projected_won_deals"] is None


# ---------- no verdict from a maturing period ----------

@pytest.fixture
def steady(tmp_db: Path) -> Path:
    """The issue's case: Сервисная wins 20 deals a month (half at once, half after 30 days) from January to August;
    September's leads are 11 days old at the as-of date (October 1) and have won 1 deal so far: 20x below."""
    acc = Account()
    acc.partner("Сервисная", "service")
    for month in range(1, 9):
        day = f"2024-{month:02d}-10"
        won(acc, day, 0, n=10, partner="Сервисная")
        won(acc, day, 30, n=10, partner="Сервисная")
        acc.lead(day, partner="Сервисная", n=20)
    won(acc, "2024-09-20", 0, n=1, partner="Сервисная")
    acc.lead("2024-09-20", partner="Сервисная", n=39)
    acc.lead("2024-10-01")
    return acc.build(tmp_db)


def _months(path: Path) -> pd.DataFrame:
    return call(path, engine.kpis, Filters(date(2024, 1, 1), date(2024, 9, 30), models=("service",)), "month")


def test_a_maturing_month_is_never_an_anomaly(steady: Path) -> None:
    rows = _months(steady)
    september = rows[rows["period"] == date(2024, 9, 1)].iloc[0]
    assert september["won_deals"] == 1 and bool(september["maturing"]) and not september["incomplete"]
    assert september["maturity"] == pytest.approx(0.5)
    flagged = changes.flag(rows.rename(columns={"won_deals": "value"}))
    assert not flagged["is_anomaly"].any()
    assert pd.isna(flagged["band_low"].iloc[-1])  # no verdict, not a verdict of "normal"
    # the same value in a mature month is far outside the corridor
    mature = rows.assign(maturing=False, value=rows["won_deals"])
    assert changes.flag(mature)["is_anomaly"].iloc[-1]


def test_the_trend_arrow_ignores_maturing_periods(steady: Path) -> None:
    rows = _months(steady)
    assert changes.trend(rows, "won_deals") == "flat"
    assert changes.direction(rows["won_deals"].tolist()) == "down"  # what the arrow said before


def test_movers_and_band_changes_leave_maturing_partners_out(young: Path) -> None:
    from metrics.changes import bands_frame, movers_frame

    now = call(young, engine.kpis, Filters(date(2024, 6, 1), date(2024, 6, 25)), "partner")
    before = call(young, engine.kpis, Filters(date(2024, 5, 1), date(2024, 5, 25)), "partner")
    assert bool(now.loc[now["partner"] == "Сервисная", "maturing"].iloc[0])
    assert len(movers_frame(now, before)) == 1  # without the rule: June's young deals are a mover
    settled = maturity.settled(now, before)
    assert "Сервисная" not in set(settled[0]["partner"]) | set(settled[1]["partner"])
    assert movers_frame(*settled).empty and bands_frame(*settled).empty


def test_the_weekly_report_gives_a_maturing_week_no_verdict() -> None:
    from metrics.changes import latest_anomalies
    from programme.weekly import ANOMALY_METRICS

    def anomalies_frame(rows: pd.DataFrame, label: str) -> pd.DataFrame:
        return latest_anomalies(rows, label, ANOMALY_METRICS)

    weeks = [date(2024, 1, 7) + timedelta(days=7 * i) for i in range(10)]
    series = pd.DataFrame({"week": weeks, "leads": [50.0] * 10, "won_deals": [20.0] * 9 + [1.0],
                           "revenue": [2000.0] * 9 + [100.0]})
    assert set(anomalies_frame(series, "")["metric"]) == {"won_deals", "revenue"}  # a mature week: flagged
    young = series.assign(maturing=[False] * 9 + [True])
    assert anomalies_frame(young, "").empty


def test_frames_read_together_get_the_maturity_they_get_alone(steady: Path) -> None:
    f = Filters(date(2024, 7, 1), date(2024, 9, 30))
    requests = ((f, "none"), (f, "month"), (f, ("month", "model")), (f, "partner"), (f, "week"),
                (Filters(date(2024, 9, 1), date(2024, 9, 30)), "partner"))
    together = call(steady, engine.kpis_many, requests)
    for request, got in zip(requests, together, strict=True):
        alone = call(steady, engine.kpis_many, (request,))[0]
        assert got["maturity"].tolist() == pytest.approx(alone["maturity"].tolist(), nan_ok=True)
        assert got["maturing"].tolist() == alone["maturing"].tolist()


# ---------- the young leads read once per data version ----------

@pytest.fixture
def mixed(tmp_db: Path) -> Path:
    """Two pipelines (the first with a curve of its own), partners of two models and direct leads, UTM and source
    names, young leads over the last weeks before the as-of date (June 30)."""
    from support.accounts import pipeline_record

    acc = Account()
    acc.pipelines.append(pipeline_record(2))
    acc.partner("Сервисная", "service")
    acc.partner("Рефералы", "referral")
    won(acc, "2024-01-10", 0, n=20, partner="Сервисная", utm="ya")
    won(acc, "2024-01-10", 30, n=20, partner="Рефералы", source="Сайт")
    won(acc, "2024-02-10", 15, n=6, pipeline=2, utm="vk")
    for i, day in enumerate(("2024-05-28", "2024-06-03", "2024-06-12", "2024-06-20", "2024-06-27")):
        partner = (None, "Сервисная", "Рефералы")[i % 3]
        acc.lead(day, partner=partner, n=3 + i, utm=("ya", None)[i % 2], source=("Сайт", "Звонок")[i % 2])
        acc.lead(day, partner="Рефералы", pipeline=2, n=2, utm="vk")
        won(acc, day, 0, n=1, partner=partner, utm="ya")
    acc.lead("2024-06-30")
    return acc.build(tmp_db)


GROUPINGS = ("none", "partner", "model", "month", "week", "pipeline", "source", ("month", "partner"),
             ("week", "source"), ("partner", "model"), ("month", "pipeline"))


def test_the_young_leads_give_what_the_maturity_query_gives(mixed: Path) -> None:
    f = Filters(date(2024, 4, 1), date(2024, 6, 30))
    narrowed = [f, Filters(date(2024, 6, 1), date(2024, 6, 25)), replace(f, pipelines=(2,)),
                replace(f, sources=("ya",)), replace(f, sources=("Звонок",)), replace(f, models=("referral",)),
                replace(f, pipelines=(1,), sources=("Сайт", "vk")), Filters(date(2024, 1, 1), date(2024, 2, 28))]
    with store.connect(mixed, read_only=True) as con:
        for g in narrowed:
            requests = tuple((g, by) for by in GROUPINGS)
            frames = [(g, engine.frame_dims(by)) for by in GROUPINGS]
            fast = engine.kpis_many(con, requests)
            direct = maturity.annotate(con, frames, fast, maturity.direct_shortfalls)
            for got, want in zip(fast, direct, strict=True):
                for col in maturity.COLUMNS:
                    assert got[col].tolist() == pytest.approx(want[col].tolist(), rel=1e-12, abs=1e-12, nan_ok=True)
            assert any(frame["maturing"].any() for frame in fast) or g.date_to < date(2024, 3, 1)


def test_a_repeat_on_the_same_data_version_runs_no_maturity_query(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = Filters(date(2024, 4, 1), date(2024, 6, 30))
    requests = tuple((f, by) for by in GROUPINGS)
    first = call(mixed, engine.kpis_many, requests)
    ran: list[str] = []
    real = maturity.sql.load
    monkeypatch.setattr(maturity.sql, "load", lambda name: ran.append(name) or real(name))
    real_scope_run = query.scope_run
    monkeypatch.setattr(query, "scope_run", lambda con, name, *a, **k: ran.append(name) or real_scope_run(
        con, name, *a, **k))
    again = call(mixed, engine.kpis_many, requests)  # a new connection, as a rerun opens
    assert "maturity" not in ran and "maturity_young" not in ran and "close_curve" not in ran
    assert ran.count("kpis") == 1
    for a, b in zip(first, again, strict=True):
        assert a["maturity"].tolist() == pytest.approx(b["maturity"].tolist(), nan_ok=True)
