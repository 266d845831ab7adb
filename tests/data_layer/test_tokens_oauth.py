"""OAuth 2.0 with rotating refresh tokens: exchange, refresh ahead and on 401, single flight, crash safety."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import httpx
import pytest
from emulator import Emulator, make_records
from emulator.harness import oauth_config

from data_layer.client import AmoClient, open_client
from data_layer.config import describe
from data_layer.errors import REVOKED_SENTENCE, AuthError
from data_layer.tokens import TokenStore


def _emulator(**options: object) -> Emulator:
    return Emulator(make_records(5), rate_limit=None, long_lived_token=None, **options)


def _client(emu: Emulator, tmp: Path, code: str | None = "emu-code-1") -> AmoClient:
    return open_client(oauth_config(emu, tmp, code=code))


def _stored(tmp: Path) -> dict:
    return TokenStore(tmp / "amocrm_tokens.json").oauth()


def test_token_file_is_written_atomically_with_mode_0600(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    store.update("oauth", {"refresh_token": "a", "access_token": "b"})
    store.update("oauth", {"access_token": "c", "gone": None})
    assert store.oauth() == {"refresh_token": "a", "access_token": "c"}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    store.path.write_text("{broken", encoding="utf-8")
    assert store.read() == {}  # a damaged file never crashes a long-lived-token setup


def test_code_exchange_happens_once_and_is_persisted(tmp_path: Path) -> None:
    with _emulator() as emu:
        with _client(emu, tmp_path) as client:
            assert client.get("/api/v4/account")["id"]
        with _client(emu, tmp_path) as client:  # the code is still configured: not exchanged again
            assert client.get("/api/v4/account")["id"]
        assert emu.token_requests == 1
    stored = _stored(tmp_path)
    assert stored["refresh_token"].startswith("rt-") and stored["code_hash"]
    assert "emu-code-1" not in (tmp_path / "amocrm_tokens.json").read_text()  # only a fingerprint is kept


def test_refused_code_is_a_clear_sentence(tmp_path: Path) -> None:
    with _emulator() as emu, _client(emu, tmp_path, code="wrong-code") as client:
        with pytest.raises(AuthError, match="did not accept the authorization code"):
            client.get("/api/v4/account")


def test_refresh_ahead_of_expiry_rotates_and_persists_first(tmp_path: Path) -> None:
    with _emulator() as emu:
        with _client(emu, tmp_path) as client:
            client.get("/api/v4/account")
        first = _stored(tmp_path)
        store = TokenStore(tmp_path / "amocrm_tokens.json")
        store.update("oauth", {"expires_at": first["expires_at"] - 86400 + 60})  # one minute left
        with _client(emu, tmp_path) as client:
            client.get("/api/v4/account")
        second = _stored(tmp_path)
        assert emu.token_requests == 2
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]


def test_401_triggers_one_refresh_and_a_replay(tmp_path: Path) -> None:
    with _emulator() as emu, _client(emu, tmp_path) as client:
        client.get("/api/v4/account")
        emu.expire_access_tokens()  # e.g. an admin re-saved the integration
        assert client.get("/api/v4/account")["id"]
        assert emu.token_requests == 2
        assert emu.count(status=401) == 1


def test_threads_share_one_refresh(tmp_path: Path) -> None:
    with _emulator(strict_refresh=True) as emu, _client(emu, tmp_path) as client:
        client.get("/api/v4/account")
        stale = _stored(tmp_path)["access_token"]
        barrier = threading.Barrier(8)

        def refresh() -> None:
            barrier.wait()
            client.auth.refresh(stale)  # type: ignore[union-attr]

        threads = [threading.Thread(target=refresh) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert emu.token_requests == 2  # the exchange + exactly one refresh


def _refresh_in_child(url: str, tmp: str, stale: str, options: dict, ready: object, go: object) -> None:
    """Another process refreshing the same token file."""
    from data_layer.config import AmoConfig

    config = AmoConfig(base_url=url, token_path=Path(tmp) / "amocrm_tokens.json", **options)
    with open_client(config) as client:
        ready.set()  # type: ignore[attr-defined]
        go.wait()  # type: ignore[attr-defined]
        client.auth.refresh(stale)  # type: ignore[union-attr]
        client.get("/api/v4/account")


def test_processes_share_one_refresh_through_the_file_lock(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    with _emulator(strict_refresh=True) as emu:
        with _client(emu, tmp_path) as client:
            client.get("/api/v4/account")
        stale = _stored(tmp_path)["access_token"]
        opts = {"client_id": emu.options.client_id, "client_secret": emu.options.client_secret,
                "redirect_uri": emu.options.redirect_uri, "retry_base": 0.01}
        go = ctx.Event()
        readies = [ctx.Event() for _ in range(3)]
        procs = [ctx.Process(target=_refresh_in_child, args=(emu.url, str(tmp_path), stale, opts, r, go))
                 for r in readies]
        for p in procs:
            p.start()
        for r in readies:
            assert r.wait(60)
        go.set()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0]
        assert emu.token_requests == 2  # strict mode: a second use of the same refresh token would have failed


def test_revoked_refresh_token_rereads_the_store(tmp_path: Path) -> None:
    """Another machine rotated the pair behind our back: the revoked answer sends us back to the file."""
    with _emulator() as emu:
        with _client(emu, tmp_path) as client:
            client.get("/api/v4/account")
        opts = emu.options
        ours = _stored(tmp_path)

        def rotate_elsewhere(payload: dict[str, str]) -> httpx.Response:
            rt = ours["refresh_token"]
            for _ in range(2):  # RT1 -> RT2 -> RT3 revokes RT1 under the grace rule
                body = httpx.post(f"{emu.url}/oauth2/access_token", json={
                    "client_id": opts.client_id, "client_secret": opts.client_secret,
                    "redirect_uri": opts.redirect_uri, "grant_type": "refresh_token", "refresh_token": rt}).json()
                rt = body["refresh_token"]
            TokenStore(tmp_path / "amocrm_tokens.json").update("oauth", {
                "access_token": body["access_token"], "refresh_token": rt})
            provider._post = real_post  # only the first call is intercepted
            return real_post(payload)

        with _client(emu, tmp_path) as client:
            provider = client.auth
            real_post = provider._post  # type: ignore[union-attr]
            provider._post = rotate_elsewhere  # type: ignore[union-attr]
            token = provider.refresh(ours["access_token"])  # type: ignore[union-attr]
            assert token == _stored(tmp_path)["access_token"] != ours["access_token"]
            assert client.get("/api/v4/account")["id"]


class SimulatedCrash(BaseException):
    """Stands for SIGKILL between amoCRM's answer and our write."""


@pytest.mark.parametrize("strict", [False, True], ids=["grace", "strict"])
def test_crash_between_rotation_and_write(tmp_path: Path, strict: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with _emulator(strict_refresh=strict) as emu:
        with _client(emu, tmp_path) as client:
            client.get("/api/v4/account")
        before = _stored(tmp_path)
        real_update = TokenStore.update

        def crash(self: TokenStore, section: str, values: dict) -> dict:
            if section == "oauth" and values.get("refresh_token"):
                raise SimulatedCrash
            return real_update(self, section, values)

        monkeypatch.setattr(TokenStore, "update", crash)
        with _client(emu, tmp_path) as client, pytest.raises(SimulatedCrash):
            client.auth.refresh(before["access_token"])  # type: ignore[union-attr]
        monkeypatch.setattr(TokenStore, "update", real_update)
        assert _stored(tmp_path)["refresh_token"] == before["refresh_token"]  # the old pair is still on disk
        with _client(emu, tmp_path) as client:  # the "next process"
            emu.expire_access_tokens()
            if strict:
                with pytest.raises(AuthError) as info:
                    client.get("/api/v4/account")
                assert str(info.value) == REVOKED_SENTENCE
            else:
                assert client.get("/api/v4/account")["id"]  # grace rule: the old refresh token still works


def test_lost_token_responses_are_retried_under_the_grace_rule(tmp_path: Path) -> None:
    with _emulator(fault_rate=0.4, faults=("lost",), faults_on_oauth=True, seed=11) as emu:
        config = oauth_config(emu, tmp_path, code="emu-code-1", max_retries=12)
        with open_client(config) as client:
            for _ in range(6):
                client.get("/api/v4/account")
                emu.expire_access_tokens()
        lost = [e for e in emu.api_log() if e.path.startswith("/oauth2") and e.fault == "lost"]
        assert lost  # amoCRM rotated, the answer never arrived, and the retry still worked


def test_secrets_stay_out_of_repr_and_descriptions(tmp_path: Path) -> None:
    with _emulator() as emu:
        config = oauth_config(emu, tmp_path, code="emu-code-1")
    text = repr(config) + json.dumps(describe(config))
    assert "emu-secret" not in text and "emu-code-1" not in text
    assert describe(config)["client_secret"] == "set"


def test_token_file_never_holds_a_readable_umask_copy(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        TokenStore(tmp_path / "t.json").update("credentials", {"token": "x"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "t.json").stat().st_mode) == 0o600
