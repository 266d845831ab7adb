"""After-sync steps: run in order as processes, a failing or hanging step is one line and never raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_layer.sync import after


def test_steps_run_in_order_and_failures_are_lines(tmp_path: Path) -> None:
    results = after.run_steps(tmp_path / "x.duckdb", steps=(("json", "tool"), ("no_such_package_xyz", "go")))
    assert [r.step for r in results] == ["json tool", "no_such_package_xyz go"]
    assert not results[1].ok and "no_such_package_xyz" in results[1].line
    lines = after.report_lines(results)
    assert lines[1].startswith("after sync: no_such_package_xyz go — failed")


def test_a_hanging_step_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hang_step.py").write_text("import time\ntime.sleep(30)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    results = after.run_steps(tmp_path / "x.duckdb", steps=(("hang_step", "go"),), timeout_s=0.5)
    assert not results[0].ok and "stopped after" in results[0].line


def test_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "0")
    assert not after.enabled()
    monkeypatch.setenv("PARTNER_ROI_AFTER_SYNC", "1")
    assert after.enabled()


def test_clawbacks_are_the_first_step() -> None:
    """A CLI sync starts `python -m programme clawbacks` first (tests/programme/test_clawbacks_sync.py runs it)."""
    assert after.STEPS[0] == ("programme", "clawbacks")
