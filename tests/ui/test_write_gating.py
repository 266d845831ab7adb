"""Every write is role-gated in one place (ui.writes.write / ui.writes.act): a viewer or a partner finds no enabled
widget that writes on any page, and a write called anyway is refused with a sentence and an audit row."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from support.app import APP, ROOT, new_app, run_ok

from data_layer import admin, config, costs_io, plausibility, store, sync, userdata
from data_layer.userdata import ScenarioInputs
from pages import settings as settings_page
from pages import what_if as what_if_page
from programme import alerts, goals, payouts, planning
from reports import alert_send
from ui import auth, data, writes

# Widgets that change shared data (buttons, form buttons, data editors), by key. Every button a page draws must
# be listed here or in READS: a new button has to be classified before this test passes.
WRITES = (
    r"costs\.(ledger_save|import|partners_save|rules_save)", r"costs\.(editor|partners|rules)",
    r"costs\.rules(\.\d+)?\.tier_rows",
    r"forecast\.plan_save", r"goals\.(save|delete)", r"payouts\.(accrue|submit)",
    r"settings\.(save|forget|sync_now|apply_mapping|calc_save|roles_save)", r"what_if\.(save|delete|apply)",
    r"trends\.events\.(add|delete)",
    r"settings\.alerts_(save|delete|test_(email|telegram|webhook))",  # a test send sends: a write
)
# Widgets that only read, download, navigate or change this session's own what-if / plan inputs.
READS = (
    r"auth\.(login|logout|logout_denied)", r"filters\.reset", r"partners\.back", r"settings\.test",
    r"what_if\.(load|reset|rate_set|realloc_add)", r"what_if\.(costs|rules)", r"what_if\.rules(\.\d+)?\.tier_rows",
    r"forecast\.plan_budgets",
    r"reports\.(weekly_build|download_.+)", r"costs\.download", r"portal\.(pdf|xlsx)", r"meeting\.(prev|next)",
    # drill-through (ui.drill): a KPI card's list button, the dialog's downloads and its "partner's page" button
    r"[a-z_-]+\.kpi\.\d+\.drill", r"models\.card\.[a-z]+\.drill", r"drill\.(csv|xlsx|action)",
)
ADMIN_SCENARIO = "Сценарий администратора"


def classify(key: str | None) -> str:
    """"write", "read" or "unclassified" for a widget key (a trailing editor generation ignored)."""
    bare = re.sub(r"\.\d+$", "", key or "")
    if any(re.fullmatch(p, bare) for p in WRITES):
        return "write"
    return "read" if any(re.fullmatch(p, bare) for p in READS) else "unclassified"


def widgets(at: AppTest) -> Iterator[tuple[str | None, bool]]:
    """(key, disabled) of every button, form button, download button and data editor on screen."""
    for kind in ("button", "form_submit_button", "download_button"):
        for w in at.get(kind):
            yield w.key, bool(w.proto.disabled)
    for editor in at.data_editor:
        yield editor.key, bool(editor.proto.disabled)


def views(at: AppTest, page: str) -> Iterator[str]:
    """Run each view of a page (lazy tabs, sections, one partner) and yield its name after the run."""
    at.switch_page(page)
    run_ok(at)
    yield page
    sub: dict[str, tuple[str, list[object]]] = {
        "pages/settings.py": (settings_page.K_TAB, [settings_page.TEXT["ru"][t] for t in
                                                    ("conn", "mapping", "calc", "alerts", "access", "audit",
                                                     "glossary")]),
        "pages/forecast.py": ("forecast.section", ["pipeline", "plan"]),
        "pages/what_if.py": ("what_if.view", [what_if_page.TEXT["ru"][t] for t in
                                              ("by_model", "breakeven", "realloc", "compare")]),
    }
    if page in sub:
        key, values = sub[page]
        for value in values:
            at.session_state[key] = value
            run_ok(at)
            yield f"{page} [{value}]"
    if page == "pages/partners.py":
        with store.connect(data.db_path(), read_only=True) as con:
            at.session_state["partners.selected"] = con.execute("select min(partner_id) from partners").fetchone()[0]
        run_ok(at)
        yield f"{page} [one partner]"


@pytest.fixture
def gated_db(app_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo database with a scenario an administrator saved; the dashboard reads it."""
    db = tmp_path / "gated.duckdb"
    shutil.copy(app_db, db)
    with store.connect(db) as con:
        userdata.save_scenario(con, ADMIN_SCENARIO, ScenarioInputs(margin={"account": 0.3}))
    store.bump_version(db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    return db


def sign_in(monkeypatch: pytest.MonkeyPatch, person: auth.Principal) -> None:
    """The app signs this person in (the OIDC part is covered by the browser test)."""
    monkeypatch.setattr(auth, "current", lambda: person)


VIEWER = auth.Principal("v@acme.ru", "V", "viewer")
EDITOR = auth.Principal("e@acme.ru", "E", "editor")


def walk(pages: tuple[str, ...]) -> tuple[dict[str, set[str]], list[str]]:
    """Every page's views: the enabled writing widgets per view, and every unclassified widget key."""
    at = run_ok(new_app())
    enabled: dict[str, set[str]] = {}
    unclassified: list[str] = []
    for page in pages:
        for view in views(at, page):
            for key, disabled in widgets(at):
                kind = classify(key)
                if kind == "unclassified":
                    unclassified.append(f"{view}: {key}")
                elif kind == "write" and not disabled:
                    enabled.setdefault(view, set()).add(str(key))
    return enabled, sorted(set(unclassified))


def app_pages() -> tuple[str, ...]:
    text = APP.read_text(encoding="utf-8")
    return tuple(re.findall(r'^\s*\("(pages/\w+\.py)",', text, re.M))  # app.PAGES, not the portal


def test_a_viewer_finds_no_enabled_widget_that_writes(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(monkeypatch, VIEWER)
    enabled, unclassified = walk(app_pages())
    assert not unclassified, f"classify these widget keys in WRITES or READS: {unclassified}"
    assert not enabled, f"writing widgets enabled for a viewer: {enabled}"


def test_the_viewer_cannot_delete_the_admins_scenario(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(monkeypatch, VIEWER)
    at = run_ok(new_app())
    at.switch_page("pages/what_if.py")
    run_ok(at)
    assert at.selectbox(key="what_if.open").value == ADMIN_SCENARIO
    assert at.button(key="what_if.delete").proto.disabled, "a viewer may delete a shared scenario"
    assert at.button(key="what_if.save").proto.disabled, "a viewer may save a shared scenario"
    assert not at.button(key="what_if.load").proto.disabled, "opening a scenario to play with stays open"
    with store.connect(gated_db, read_only=True) as con:
        assert ADMIN_SCENARIO in set(userdata.list_scenarios(con)["name"])


def test_an_editor_still_gets_the_writing_widgets(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(monkeypatch, EDITOR)
    at = run_ok(new_app())
    at.switch_page("pages/what_if.py")
    run_ok(at)
    assert not at.button(key="what_if.delete").proto.disabled and not at.button(key="what_if.save").proto.disabled


def test_a_partner_finds_no_widget_that_writes(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connect(gated_db, read_only=True) as con:
        name = str(con.execute("select name from partners order by partner_id limit 1").fetchone()[0])
    sign_in(monkeypatch, auth.Principal("p@partner.ru", "P", "partner", partner=name))
    at = run_ok(new_app())
    found = list(widgets(at))
    assert found, "the portal draws its downloads"
    assert not [k for k, _ in found if classify(k) == "unclassified"], found
    assert not [k for k, disabled in found if classify(k) == "write" and not disabled], found


# ---------------------------------------------------------------- the write paths themselves

LEDGER = pd.DataFrame(columns=["partner", "month", "category", "amount"])
# Each function pages hand to ui.writes.write / ui.writes.act, with arguments (never reached when refused).
WRITE_CALLS: dict[str, tuple[Callable[..., object], tuple, dict]] = {
    "userdata.replace_ledger": (userdata.replace_ledger, (LEDGER,), {}),
    "plausibility.save_ledger": (plausibility.save_ledger, (LEDGER,), {}),
    "plausibility.save_rules": (plausibility.save_rules, (pd.DataFrame(),), {}),
    "costs_io.import_file": (costs_io.import_file, (b"partner,month,category,amount\n", "x.csv"), {}),
    "userdata.save_partners": (userdata.save_partners, (pd.DataFrame(),), {}),
    "userdata.replace_rules": (userdata.replace_rules, (pd.DataFrame(),), {}),
    "planning.save_plan": (planning.save_plan, ("План", {}), {}),
    "goals.add_goal": (goals.add_goal, ("program", "leads", ">=", 1.0, date(2024, 1, 1), date(2024, 1, 31)), {}),
    "goals.delete_goal": (goals.delete_goal, (1,), {}),
    "admin.save_mapping": (admin.save_mapping, ({}, {}), {}),
    "admin.save_calculation": (admin.save_calculation, (10, [], {}, {}), {}),
    "userdata.set_setting": (userdata.set_setting, ("roles", {"admin": ["v@acme.ru"]}), {}),
    "userdata.save_scenario": (userdata.save_scenario, ("Мой", ScenarioInputs()), {}),
    "userdata.delete_scenario": (userdata.delete_scenario, (ADMIN_SCENARIO,), {}),
    "userdata.apply_scenario": (userdata.apply_scenario, (ScenarioInputs(margin={"account": 0.9}),), {}),
    "userdata.add_event": (userdata.add_event, ("07.12.2026", "Событие"), {}),
    "userdata.delete_event": (userdata.delete_event, (1,), {}),
    "payouts.accrue": (payouts.accrue, (date(2024, 1, 1), "v"), {}),
    "payouts.approve": (payouts.approve, (1, 1.0, "v"), {}),
    "payouts.pay": (payouts.pay, (1, 1.0, date(2024, 1, 1), None, "v"), {}),
    "payouts.reverse": (payouts.reverse, (1, 1.0, "", "v"), {}),
    "config.save_connection": (config.save_connection, (Path("x.duckdb"), "https://x.amocrm.ru"), {}),
    "config.forget_credentials": (config.forget_credentials, (Path("x.duckdb"),), {}),
    "sync.start_background_sync": (sync.start_background_sync, (Path("x.duckdb"),), {}),
    "alerts.add_rule": (alerts.add_rule, ({"name": "x"},), {}),
    "alerts.update_rule": (alerts.update_rule, (1, {"name": "x"}), {}),
    "alerts.delete_rule": (alerts.delete_rule, (1,), {}),
    "alert_send.test_send": (alert_send.test_send, ({"kind": "webhook", "url": "http://127.0.0.1:9/"},), {}),
}
NOT_DB = {"config.save_connection", "config.forget_credentials", "sync.start_background_sync",
          "alert_send.test_send"}  # ui.writes.act


def used_write_paths() -> set[str]:
    """module.function of every write(...) / act(...) call in pages/ and ui/."""
    found: set[str] = set()
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= {m for m in re.findall(r"\b(?:data\.)?(?:write|act)\(\s*(\w+\.\w+)\s*,", text)}
    return found


def test_every_write_path_pages_use_is_listed_here() -> None:
    assert used_write_paths() <= set(WRITE_CALLS), used_write_paths() - set(WRITE_CALLS)


def refusals(db: Path, since: int) -> list[tuple[str, str, str]]:
    with store.connect(db, read_only=True) as con:
        return con.execute("select who, entity, entity_key from audit_log where action = 'refused' and event_id > ? "
                           "order by event_id", [since]).fetchall()


def last_event(db: Path) -> int:
    with store.connect(db, read_only=True) as con:
        return con.execute("select coalesce(max(event_id), 0) from audit_log").fetchone()[0]


@pytest.mark.parametrize("name", sorted(WRITE_CALLS))
def test_a_viewer_write_is_refused_and_audited(gated_db: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(auth, "principal", lambda: VIEWER)
    fn, args, kwargs = WRITE_CALLS[name]
    before = last_event(gated_db)
    run = writes.act if name in NOT_DB else writes.write
    with pytest.raises(writes.WriteRefused, match="просмотр|viewer"):
        run(fn, *args, **kwargs)
    assert refusals(gated_db, before) == [("v@acme.ru", auth.write_name(fn), auth.write_action(fn))]
    assert auth.write_name(fn).count(".") == 2, "the package's name, not its job module's"
    with store.connect(gated_db, read_only=True) as con:
        assert ADMIN_SCENARIO in set(userdata.list_scenarios(con)["name"]), "the shared scenario is still there"


def test_a_partner_write_is_refused_too(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "principal", lambda: auth.Principal("p@x.ru", "P", "partner", partner="Альфа"))
    with pytest.raises(writes.WriteRefused):
        writes.write(userdata.delete_scenario, ADMIN_SCENARIO)


def test_an_editor_deletes_but_may_not_set_roles(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "principal", lambda: EDITOR)
    before = last_event(gated_db)
    assert writes.write(userdata.delete_scenario, ADMIN_SCENARIO)
    with pytest.raises(writes.WriteRefused, match="администратор"):
        writes.write(userdata.set_setting, "roles", {"admin": ["e@acme.ru"]})
    assert refusals(gated_db, before) == [("e@acme.ru", "data_layer.userdata.set_setting", "admin")]


def test_every_button_an_administrator_sees_is_classified(gated_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editors and admins see buttons a viewer never gets: they must be classified too."""
    sign_in(monkeypatch, auth.Principal(None, None, "admin", open_mode=True))
    _, unclassified = walk(app_pages())
    assert not unclassified, f"classify these widget keys in WRITES or READS: {unclassified}"
