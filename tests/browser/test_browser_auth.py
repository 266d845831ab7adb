"""A real sign-in in headless chromium against a local OIDC provider (oidc-provider-mock on 127.0.0.1):
each role sees and may do what it should, and a partner cannot reach other partners by editing the URL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import browser, free_port, require_chromium, shot, streamlit_server, wait_ready

from data_layer import store
from metrics import lookups

pytestmark = pytest.mark.browser
TIMEOUT = 120_000


@pytest.fixture(scope="module")
def partners(app_db: Path) -> list[str]:
    with store.connect(app_db, read_only=True) as con:
        return [str(n) for n in lookups.partners(con)["name"]]


@pytest.fixture(scope="module")
def secured(app_db: Path, partners: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard with [auth] pointing at a local OIDC provider and roles for four people."""
    require_chromium()
    from oidc_provider_mock import run_server_in_thread

    tmp = tmp_path_factory.mktemp("auth")
    db = tmp / "auth.duckdb"
    shutil.copy(app_db, db)
    store.bump_version(db)
    port = free_port()
    with run_server_in_thread(port=0) as idp:
        issuer = f"http://127.0.0.1:{idp.server_port}"
        secrets = tmp / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-long-random-cookie-secret-for-tests-only-0123456789"\n'
            'client_id = "partner-roi"\nclient_secret = "test-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
            "[roles]\n"
            'admin = ["admin@acme.ru"]\nviewer = ["viewer@acme.ru"]\n'
            f'"partner:{partners[0]}" = ["boss@partner.ru"]\n',
            encoding="utf-8")
        env = {"STREAMLIT_SECRETS_FILES": str(secrets)}
        with streamlit_server(db, log=tmp / "server.log", extra_env=env, port=port) as url:
            yield url


@pytest.fixture(scope="module")
def chrome(secured: str) -> Iterator[object]:
    with browser() as b:
        yield b


def sign_in(chrome, url: str, email: str, path: str = ""):
    """A fresh browser context signed in as email through the provider's form; returns the page."""
    page = chrome.new_context(viewport={"width": 1440, "height": 1000}, locale="ru-RU").new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_selector("input[name=sub]")
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    if path:
        page.goto(f"{url}/{path}")
    wait_ready(page)
    return page


def test_anonymous_visitors_see_only_the_sign_in_screen(chrome, secured: str, partners: list[str]) -> None:
    page = chrome.new_context().new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{secured}/partners")
    page.get_by_role("button", name="Войти").wait_for()
    text = page.inner_text("body")
    assert not [p for p in partners if p in text]


def test_admin_sees_everything_and_may_edit(chrome, secured: str) -> None:
    page = sign_in(chrome, secured, "admin@acme.ru", "settings")
    page.get_by_text("admin@acme.ru").first.wait_for()
    page.get_by_role("tab", name="Доступ").click()
    page.get_by_role("button", name="Сохранить роли").wait_for()
    shot(page, "auth-admin-settings")


def test_viewer_cannot_edit(chrome, secured: str) -> None:
    page = sign_in(chrome, secured, "viewer@acme.ru", "settings")
    page.get_by_text("Только просмотр").first.wait_for()
    assert page.get_by_role("button", name="Синхронизировать сейчас").count() == 0
    shot(page, "auth-viewer-settings")


def test_partner_sees_only_its_portal_whatever_the_url(chrome, secured: str, partners: list[str]) -> None:
    page = sign_in(chrome, secured, "boss@partner.ru", "partners?partner=2&partner=3&selected=3")
    page.get_by_text(partners[0]).first.wait_for()
    text = page.inner_text("body")
    leaked = [p for p in partners[1:] if p in text]
    assert not leaked, leaked
    shot(page, "auth-partner-portal")


def test_unknown_people_are_refused(chrome, secured: str) -> None:
    page = sign_in(chrome, secured, "stranger@else.ru")
    page.get_by_text("нет доступа").first.wait_for()
