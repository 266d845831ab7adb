"""Goals: validation, CRUD with audit rows, progress maths (actual, pace, each op, statuses)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support.accounts import WON, Account
from support.template import copy_template

from data_layer import store
from programme import goals as G

APRIL = (date(2024, 4, 1), date(2024, 4, 30))
APR10 = date(2024, 4, 10)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Path:
    """April 2024: A (referral) 10 leads on the 5th, 3 won at 1 000; B (sales) 4 leads on the 20th;
    2 direct leads on the 25th; A has 3 000 of marketing in April (100 a day)."""
    path = tmp_path_factory.mktemp("goals") / "goals.duckdb"
    copy_template(template_db, path)
    acc = Account()
    acc.partner("A", "referral")
    acc.partner("B", "sales")
    acc.lead("2024-04-05", partner="A", status=WON, price=1000, n=3)
    acc.lead("2024-04-05", partner="A", status="new", n=7)
    acc.lead("2024-04-20", partner="B", status="new", n=4)
    acc.lead("2024-04-25", status="new", n=2)
    acc.cost("A", "2024-04", "marketing", 3000)
    return acc.build(path)


@pytest.fixture
def con(db: Path):
    """A write connection whose goals and audit rows are removed afterwards."""
    with store.connect(db) as c:
        yield c
        c.execute("delete from goals")
        c.execute("delete from audit_log")


def ids(con) -> dict[str, int]:
    """Partner name -> id."""
    return dict(con.execute("select name, partner_id from partners").fetchall())


def progress(con, today: date, **goal) -> dict:
    """Progress of one stored goal as a dict."""
    goal.setdefault("scope", "program")
    goal.setdefault("date_from", APRIL[0])
    goal.setdefault("date_to", APRIL[1])
    gid = G.add_goal(con, **goal)
    df = G.goal_progress(con, today=today)
    return df[df["goal_id"] == gid].iloc[0].to_dict()


# ---------- pace and status ----------

def test_additive_pace_projects_to_the_period_end(con) -> None:
    row = progress(con, APR10, metric="leads", op=">=", target=30)
    assert (row["actual"], row["days_elapsed"], row["days_total"]) == (10, 10, 30)
    assert row["pace"] == pytest.approx(30) and row["on_track"] is True and row["status"] == "on_track"
    assert row["as_of"] == APR10 and row["progress"] == pytest.approx(10 / 30) and row["additive"]
    behind = progress(con, APR10, metric="leads", op=">=", target=31)
    assert behind["on_track"] is False and behind["status"] == "off_track"


def test_an_additive_total_over_the_bar_is_achieved_early(con) -> None:
    row = progress(con, APR10, metric="revenue", op=">=", target=2500)
    assert row["actual"] == 3000 and row["status"] == "achieved" and row["on_track"] is True


def test_at_most_on_an_additive_metric_uses_the_pace(con) -> None:
    a = ids(con)["A"]
    over = progress(con, APR10, scope="partner", partner_id=a, metric="costs", op="<=", target=2000)
    assert over["actual"] == pytest.approx(1000) and over["pace"] == pytest.approx(3000)
    assert over["status"] == "off_track"  # under budget today, over it at this rate by the end
    fits = progress(con, APR10, scope="partner", partner_id=a, metric="costs", op="<=", target=3000)
    assert fits["status"] == "on_track" and not fits["finished"]


def test_ratio_pace_is_the_current_value_for_both_ops(con) -> None:
    a = ids(con)["A"]
    up = progress(con, APR10, scope="partner", partner_id=a, metric="conversion", op=">=", target=0.25)
    assert up["actual"] == pytest.approx(0.3) == up["pace"] and up["status"] == "on_track" and not up["additive"]
    down = progress(con, APR10, scope="partner", partner_id=a, metric="conversion", op="<=", target=0.25)
    assert down["status"] == "off_track"
    roi = progress(con, APR10, scope="partner", partner_id=a, metric="roi", op=">=", target=1.5)
    assert roi["actual"] == pytest.approx(2.0) == roi["pace"] and roi["status"] == "on_track"
    cpa = progress(con, APR10, scope="partner", partner_id=a, metric="cpa", op="<=", target=300)
    assert cpa["actual"] == pytest.approx(1000 / 3) and cpa["status"] == "off_track"


def test_not_started_goal_has_no_actual(con) -> None:
    row = progress(con, APR10, metric="leads", op=">=", target=5, date_from=date(2024, 5, 1),
                   date_to=date(2024, 5, 31))
    assert row["status"] == "not_started" and row["on_track"] is None and pd.isna(row["actual"])
    assert row["days_elapsed"] == 0 and pd.isna(row["pace"]) and row["as_of"] is None


def test_finished_goal_is_achieved_or_missed_on_the_final_value(con) -> None:
    may5 = date(2024, 5, 5)
    hit = progress(con, may5, metric="leads", op=">=", target=16)
    assert hit["finished"] and hit["actual"] == 16 and hit["pace"] == 16 and hit["status"] == "achieved"
    assert hit["as_of"] == APRIL[1] and hit["days_elapsed"] == 30
    miss = progress(con, may5, metric="leads", op=">=", target=17)
    assert miss["status"] == "off_track" and miss["on_track"] is False
    under = progress(con, may5, metric="won_deals", op="<=", target=3)
    assert under["status"] == "achieved"


def test_model_scope_and_direct(con) -> None:
    may1 = date(2024, 5, 1)
    assert progress(con, may1, scope="model", model="sales", metric="leads", op=">=", target=4)["actual"] == 4
    assert progress(con, may1, scope="model", model="direct", metric="leads", op=">=", target=3)["status"] == "off_track"


def test_missing_value_is_no_data(con) -> None:
    b = ids(con)["B"]
    row = progress(con, APR10, scope="partner", partner_id=b, metric="roi", op=">=", target=1)
    assert row["status"] == "no_data" and row["on_track"] is None


def test_progress_of_unsaved_goals_and_by_scope(con) -> None:
    frame = pd.DataFrame([{"goal_id": -1, "scope": "program", "model": None, "partner_id": None,
                           "partner_name": None, "metric": "won_deals", "op": ">=", "target": 6,
                           "date_from": "2024-04-01", "date_to": "2024-04-30", "note": None}])
    row = G.goal_progress(con, frame, today=date(2024, 4, 15)).iloc[0]
    assert row["actual"] == 3 and row["pace"] == pytest.approx(6) and row["status"] == "on_track"
    a = ids(con)["A"]
    G.add_goal(con, "partner", "leads", ">=", 1, *APRIL, partner_id=a)
    G.add_goal(con, "program", "leads", ">=", 1, *APRIL)
    only_a = G.goal_progress_for(con, "partner", None, a, APR10)
    assert only_a["partner_id"].tolist() == [a] and only_a["partner_name"].tolist() == ["A"]
    assert list(G.goal_progress(con, today=APR10).columns) == G.PROGRESS_COLUMNS


def test_goals_off_track_lists_running_and_just_missed_goals(con) -> None:
    G.add_goal(con, "program", "leads", ">=", 1000, *APRIL, note="running, behind")
    G.add_goal(con, "program", "leads", ">=", 1, *APRIL, note="running, fine")
    G.add_goal(con, "program", "leads", ">=", 1000, date(2024, 3, 1), date(2024, 3, 31), note="missed long ago")
    G.add_goal(con, "program", "leads", ">=", 1000, date(2024, 4, 1), date(2024, 4, 5), note="just missed")
    notes = set(G.goals_off_track(con, today=APR10)["note"])
    assert notes == {"running, behind", "just missed"}


def test_today_defaults_to_the_account_day(con) -> None:
    G.add_goal(con, "program", "leads", ">=", 1, *APRIL)
    assert G.goal_progress(con).iloc[0]["finished"]  # April 2024 is long over
    assert isinstance(G.account_today(con), date)


# ---------- validation and CRUD ----------

@pytest.mark.parametrize(("kwargs", "code"), [
    ({"metric": "nonsense"}, "metric"),
    ({"metric": "roi_band"}, "metric"),
    ({"op": ">"}, "op"),
    ({"target": float("nan")}, "target"),
    ({"target": "abc"}, "target"),
    ({"target": -1}, "target_negative"),
    ({"date_from": date(2024, 5, 1)}, "date_order"),
    ({"date_from": "2024-13-01"}, "dates"),
    ({"date_from": date(2020, 1, 1)}, "too_long"),
    ({"scope": "team"}, "scope"),
    ({"scope": "model"}, "model"),
    ({"scope": "model", "model": "unassigned"}, "model"),
    ({"model": "sales"}, "model_extra"),
    ({"scope": "partner"}, "partner"),
    ({"scope": "partner", "partner_id": 999}, "partner_unknown"),
    ({"partner_id": 1}, "partner_extra"),
])
def test_invalid_goals_are_refused_with_a_sentence(con, kwargs, code) -> None:
    goal = {"scope": "program", "metric": "leads", "op": ">=", "target": 10,
            "date_from": APRIL[0], "date_to": APRIL[1], **kwargs}
    with pytest.raises(G.GoalError) as info:
        G.add_goal(con, **goal)
    assert info.value.code == code and info.value.text("ru") and info.value.text("en").endswith(".")
    assert G.list_goals(con).empty


def test_negative_targets_allowed_where_the_metric_can_be_negative(con) -> None:
    G.add_goal(con, "program", "profit", ">=", -5000, *APRIL)
    G.add_goal(con, "program", "roi", ">=", -0.2, *APRIL)
    assert len(G.list_goals(con)) == 2


def test_add_list_delete_with_audit(con) -> None:
    a = ids(con)["A"]
    gid = G.add_goal(con, "partner", "revenue", ">=", 1e6, "2024-04-01", "2024-06-30", partner_id=a,
                     note="  квартал  ", who="anna")
    goals = G.list_goals(con)
    assert list(goals.columns) == G.GOAL_COLUMNS and goals.iloc[0]["note"] == "квартал"
    assert goals.iloc[0]["date_to"] == date(2024, 6, 30) and G.list_goals(con, scope="program").empty
    G.delete_goal(con, gid, who="boris")
    assert G.list_goals(con).empty
    with pytest.raises(G.GoalError, match="no goal"):
        G.delete_goal(con, gid)
    audit = con.execute("select who, action, entity, entity_key, before, after from audit_log "
                        "where entity = 'goal' order by event_id").fetchall()
    assert [(r[0], r[1], r[3]) for r in audit] == [("anna", "add", str(gid)), ("boris", "delete", str(gid))]
    assert json.loads(audit[0][5])["target"] == 1e6 and json.loads(audit[1][4])["metric"] == "revenue"


def test_goal_metrics_come_from_the_registry() -> None:
    names = G.goal_metrics()
    assert {"leads", "revenue", "won_deals", "roi", "conversion", "cpa"} <= set(names)
    assert "roi_band" not in names and "too_few" not in names
    assert G.is_additive("revenue") and not G.is_additive("roi") and not G.is_additive("cpa")
    assert set(G.MESSAGES["ru"]) == set(G.MESSAGES["en"])
