"""Access in the app: open mode by default, a partner sees only their own portal whatever the URL says,
viewers cannot edit, and changes are recorded in the audit log under the person's name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.app import new_app, run_ok

from data_layer import store
from metrics import lookups
from pages import settings as settings_page
from ui import auth


def partner_names(db: Path) -> list[str]:
    with store.connect(db, read_only=True) as con:
        return [str(n) for n in lookups.partners(con)["name"]]


def page_text(at) -> str:
    """Everything rendered, tables included, as one string."""
    parts = [str(getattr(e, "value", "")) for e in at.main] + [str(getattr(e, "value", "")) for e in at.sidebar]
    parts += [df.value.to_string() for df in at.dataframe]
    parts += [m.label + str(m.value) for m in at.metric]
    return " ".join(parts)


def test_open_mode_says_so_in_the_sidebar(app_env: Path) -> None:
    at = run_ok(new_app())
    assert any("Открытый режим" in c.value for c in at.sidebar.caption)


@pytest.fixture
def as_partner(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Sign in as the first demo partner (the OIDC part is covered by the browser test)."""
    me = partner_names(app_env)[0]
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("p@partner.ru", "P", "partner", partner=me))
    return me


def test_a_partner_sees_only_their_portal_even_with_a_crafted_url(app_env: Path, as_partner: str) -> None:
    others = [n for n in partner_names(app_env) if n != as_partner]
    at = run_ok(new_app({"partner": ["1", "2", "3"], "selected": "2", "model": "sales"}))
    assert at.selectbox(key="portal.period")
    text = page_text(at)
    assert as_partner in text
    leaked = [n for n in others if n in text]
    assert not leaked, f"other partners visible to a partner: {leaked}"
    assert not at.sidebar.multiselect, "no filters for a partner"
    for page in ("pages/partners.py", "pages/costs.py", "pages/settings.py"):
        with pytest.raises(ValueError, match="Known pages: .*portal.py"):
            at.switch_page(page)  # no other page is even registered for a partner


def test_a_viewer_cannot_change_costs_but_may_play_what_if(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("v@acme.ru", "V", "viewer"))
    at = run_ok(new_app())
    for page, edit_keys in (("pages/costs.py", ("costs.ledger_save",)),
                            ("pages/settings.py", ("settings.sync_now", "settings.apply_mapping", "settings.save"))):
        at.switch_page(page)
        run_ok(at)
        assert any("Только просмотр" in i.value for i in at.info), page
        present = {b.key for b in at.button} | {b.key for b in at.get("form_submit_button")}
        if page == "pages/settings.py":  # lazy tabs: look into each one
            for tab in ("conn", "mapping", "calc", "access"):
                at.session_state[settings_page.K_TAB] = settings_page.TEXT["ru"][tab]
                run_ok(at)
                assert any("Только просмотр" in i.value for i in at.info), tab
                present |= {b.key for b in at.button} | {b.key for b in at.get("form_submit_button")}
        assert not present & set(edit_keys), f"{page} offers edits to a viewer"


def test_changes_are_audited_under_the_signed_in_name(app_db: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "audit.duckdb"
    shutil.copy(app_db, db)
    store.bump_version(db)
    monkeypatch.setenv("PARTNER_ROI_DB", str(db))
    monkeypatch.setattr(auth, "current", lambda: auth.Principal("editor@acme.ru", "E", "editor"))
    with store.connect(db, read_only=True) as con:
        before = con.execute("select coalesce(max(event_id), 0) from audit_log").fetchone()[0]
    at = run_ok(new_app())
    at.switch_page("pages/settings.py")
    run_ok(at)
    at.session_state[settings_page.K_TAB] = settings_page.TEXT["ru"]["calc"]
    run_ok(at)
    at.number_input(key="settings.min_leads").set_value(12)
    at.button(key="settings.calc_save").click()
    run_ok(at)
    with store.connect(db, read_only=True) as con:
        who = con.execute("select distinct who from audit_log where event_id > ?", [before]).fetchall()
    assert who == [("editor@acme.ru",)]
