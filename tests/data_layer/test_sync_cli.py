"""The CLI's output, the progress file, and the helpers the Settings page calls."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from emulator import Emulator, make_records
from emulator.harness import config_for, env_for, run_cli
from support.template import copy_template

from data_layer import mapping, store, sync
from data_layer.sync import Progress, RunStats, progress_path, read_progress, start_background_sync

SUMMARY = re.compile(r"^Synced \(full\): [\d ]+ leads, [\d ]+ deleted, [\d ]+ events, [\d ]+ contacts, "
                     r"[\d ]+ companies; [\d ]+ requests, 0 × 429, [\d.]+ s\.$")


def test_cli_ends_with_one_summary_line_and_writes_progress(tmp_path: Path) -> None:
    with Emulator(make_records(100), rate_limit=None) as emu:
        progress = tmp_path / "progress.json"
        done = run_cli(tmp_path / "a.duckdb", config_for(emu, tmp_path), "--progress-file", str(progress))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and SUMMARY.match(lines[0]), lines
    doc = json.loads(progress.read_text(encoding="utf-8"))
    assert doc["status"] == "ok" and doc["message"] == lines[0]
    assert doc["entities"]["leads"]["done"] and doc["entities"]["leads"]["fraction"] == 1.0
    assert doc["requests"] > 5 and doc["throttled"] == 0


def test_background_sync_and_read_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "app.duckdb"
    with Emulator(make_records(60), rate_limit=None) as emu:
        for key, value in env_for(config_for(emu, tmp_path)).items():
            monkeypatch.setenv(key, value)
        proc = start_background_sync(db)
        assert proc.wait(120) == 0
    doc = read_progress(db)
    assert doc is not None and doc["status"] == "ok" and doc["pid"] == proc.pid
    assert Path(str(db) + ".sync.log").exists()
    with store.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from lead_facts").fetchone()[0] > 0


def test_a_dead_running_sync_reads_as_failed(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    assert read_progress(db) is None
    progress_path(db).write_text(json.dumps({"pid": 4_194_000, "status": "running"}), encoding="utf-8")
    doc = read_progress(db)
    assert doc is not None and doc["status"] == "failed" and "start it again" in doc["message"]
    # A child that died but was never reaped by the app (a zombie) is not running either.
    zombie = subprocess.Popen(["true"])
    assert _wait_for(lambda: Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z")
    progress_path(db).write_text(json.dumps({"pid": zombie.pid, "status": "starting"}), encoding="utf-8")
    assert read_progress(db)["status"] == "failed"  # type: ignore[index]
    zombie.wait()


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_test_connection(tmp_path: Path) -> None:
    with Emulator(make_records(5), rate_limit=None) as emu:
        ok, message, name = sync.test_connection(config_for(emu, tmp_path))
        bad = sync.test_connection(config_for(emu, tmp_path, token="nope"))
    assert ok and name == "Тестовый аккаунт" and name in message
    assert bad[0] is False and bad[2] is None and "long-lived token" in bad[1]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_redraws_bars() -> None:
    stream = _Tty()
    progress = Progress(stream, interval=0.0)

    class _Fetcher:
        def snapshot(self) -> dict:
            return {"leads": {"records": 1250, "requests": 5, "fraction": 0.5, "done": False},
                    "events": {"records": 300, "requests": 3, "fraction": None, "done": False}}

    class _Client:
        class stats:
            requests, throttled = 8, 0

    for _ in range(2):
        progress.update(_Fetcher(), _Client(), RunStats(), "running")  # type: ignore[arg-type]
    text = stream.getvalue()
    assert "leads      [############------------]  50 %      1 250" in text
    assert "\x1b[3F" in text  # the second frame moves up over the first


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mapping")
    with Emulator(make_records(90), rate_limit=None) as emu:
        sync.sync(tmp / "a.duckdb", config_for(emu, tmp))
    return tmp / "a.duckdb"


def test_preview_mapping_by_field(synced: Path) -> None:
    with store.connect(synced, read_only=True) as con:
        df = mapping.preview_mapping(con, {"mode": "field", "field": "партнёр"})
        direct = dict(con.execute(
            "select v.value, count(*) from raw_lead_field_values v join raw_leads l on l.id = v.lead_id "
            "where v.field_name = 'Партнёр' and v.value_idx = 0 and not l.is_deleted group by 1").fetchall())
    assert dict(zip(df["label"], df["leads"], strict=True)) == direct
    assert df["matched"].all()  # the sync registered every partner it saw
    assert set(df["model"]) <= {"referral", "sales", "service"}
    assert set(df["model_label"]) <= {"Реферальная", "Продажи", "Сервисная"}


def test_preview_mapping_by_tag_and_utm(synced: Path) -> None:
    with store.connect(synced, read_only=True) as con:
        tags = mapping.preview_mapping(con, {"mode": "tag", "tag_prefix": "PARTNER:"})
        utm = mapping.preview_mapping(con, {"mode": "utm"})
        with pytest.raises(ValueError, match="Unknown mapping mode"):
            mapping.preview_mapping(con, {"mode": "guess"})
    assert list(tags["label"]) == ["Альфа Консалт"] and tags["matched"].all()
    assert set(utm["label"]) == {"yandex", "google", "vk"} and not utm["matched"].any()


def test_the_saved_mappings_preview_is_stored_with_the_facts(synced: Path, tmp_path: Path) -> None:
    """A rebuild stores the saved mapping's preview; it answers only that mapping with the same partners."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(synced, db)
    saved = mapping._mapping({})  # nothing saved: the defaults are the saved mapping
    with store.connect(db, read_only=True) as con:
        stored = mapping._stored_preview(con, saved)
        assert stored is not None and len(stored) > 0
        pd.testing.assert_frame_equal(stored, con.execute(mapping.PREVIEW_SQL, saved).fetchdf())
        assert mapping._stored_preview(con, {**saved, "mode": "tag"}) is None, "another proposal is computed live"
    with store.connect(db) as con:  # a partner renamed, no rebuild yet
        con.execute("update partners set name = name || ' (новое имя)' "
                    "where partner_id = (select min(partner_id) from partners)")
    with store.connect(db, read_only=True) as con:
        assert mapping._stored_preview(con, saved) is None
        now = mapping.preview_mapping(con, {})  # live: the renamed partner's label matches no partner now
    assert int(now["matched"].sum()) == int(stored["partner_id"].notna().sum()) - 1


def test_fields_and_pipelines_for_the_mapping_ui(synced: Path) -> None:
    with store.connect(synced, read_only=True) as con:
        fields = mapping.list_lead_fields(con)
        pipelines = mapping.list_pipelines_with_stages(con)
    partner = fields[fields["name"] == "Партнёр"].iloc[0]
    assert partner["type"] == "select" and partner["filled"] > 0
    assert len(fields) == 59
    assert [p["name"] for p in pipelines] == ["Воронка 1", "Воронка 2"]
    stages = pipelines[0]["stages"]
    assert [s["id"] for s in stages][-2:] == [142, 143] and stages[-2]["is_won"] and stages[-1]["is_lost"]
    assert stages[0]["type"] == 1 and not stages[0]["is_regular"] and stages[1]["is_regular"]


def test_preview_mapping_groups_spellings_and_takes_the_commonest_model(tmp_path: Path,
                                                                       template_db: Path) -> None:
    """One partner label however it is spelt: its leads summed, shown as most leads spell it, with the model
    label most of them carry (leads without one ignored); deleted leads are not counted."""
    db = tmp_path / "p.duckdb"
    copy_template(template_db, db)
    labels = ["Партнёр Ёж", "Партнёр Ёж", "Партнёр Ёж", "партнер еж", "ПАРТНЁР ЕЖ ", "Партнёр Ёж"]
    models = ["Продажи", "Реферальная", "Реферальная", None, "Реферальная", "Продажи"]
    with store.connect(db) as con:
        for lead, (label, model) in enumerate(zip(labels, models, strict=True), start=1):
            con.execute("insert into raw_leads (id, is_deleted) values (?, ?)", [lead, lead == 6])
            con.execute("insert into raw_lead_field_values values (?, 11, 0, 'Партнёр', null, 'text', ?, null)",
                        [lead, label])
            if model:
                con.execute("insert into raw_lead_field_values values (?, 12, 0, 'Модель', null, 'select', ?, null)",
                            [lead, model])
    with store.connect(db, read_only=True) as con:
        df = mapping.preview_mapping(con, {"mode": "field", "field": "ПАРТНЕР", "model_field": "12"})
    assert df[["label", "leads", "model_label", "model"]].to_dict("records") == [
        {"label": "Партнёр Ёж", "leads": 5, "model_label": "Реферальная", "model": "referral"}]
