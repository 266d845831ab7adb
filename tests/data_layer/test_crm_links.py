"""The amoCRM card link rule (data_layer.crm_links): the demo links nowhere, a synced account to its cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_layer import crm_links, store


def test_the_rule_is_base_leads_detail_id() -> None:
    assert crm_links.lead_url("https://acme.amocrm.ru/", 31000005) == "https://acme.amocrm.ru/leads/detail/31000005"
    assert crm_links.lead_url(None, 31000005) is None


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMOCRM_BASE_URL", raising=False)
    monkeypatch.setenv("AMOCRM_SECRETS_FILE", "")


def test_demo_has_no_base_and_a_synced_account_has_its_own(tmp_db: Path, no_env: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connect(tmp_db) as con:
        store.set_meta(con, "source", "demo")
        con.execute("insert or replace into settings (key, value) values ('amocrm_connection', ?)",
                    [json.dumps({"base_url": "acme.kommo.com"})])
        assert crm_links.account_base(con) is None  # a demo never links, whatever is saved
        store.set_meta(con, "source", "amocrm")
        assert crm_links.account_base(con) == "https://acme.kommo.com"
        monkeypatch.setenv("AMOCRM_BASE_URL", "https://other.amocrm.ru/")  # the environment wins, as in config
        assert crm_links.account_base(con) == "https://other.amocrm.ru"
        monkeypatch.setenv("AMOCRM_BASE_URL", "ftp://nowhere")
        assert crm_links.account_base(con) is None  # a malformed address links nowhere
