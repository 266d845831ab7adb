"""Every module with a command line answers --help with its usage and writes nothing (issue 19: the glossary's CLI
wrote a file named `--help`), and the generated glossary is up to date with the registry and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIS = ("data_layer", "metrics", "reports", "metrics.glossary", "data_layer sync", "data_layer costs import",
        "data_layer demo", "metrics kpis", "metrics.sql", "metrics.sql show", "programme", "programme clawbacks",
        "programme demo-history")


@pytest.mark.parametrize("command", CLIS)
def test_help_prints_usage_and_writes_nothing(command: str, tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", *command.split(), "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m"), done.stdout[:200]
    assert list(tmp_path.iterdir()) == [], "--help wrote a file"


def test_the_glossary_is_generated_from_the_current_registry_and_cli() -> None:
    from metrics import glossary

    text = glossary.render_markdown()
    assert (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8") == text, \
        "docs/metrics.md is out of date: run `python -m metrics.glossary`"
    for option in ("--by", "--pipeline", "--source", "--view", "--format"):
        assert option in text
    for word in ("week", "quarter", "pipeline", "source"):
        assert word in text.split("### `kpis`")[1]


def test_the_glossary_names_only_files_that_exist() -> None:
    import re

    from metrics import glossary

    text = glossary.render_markdown()
    for name in set(re.findall(r"`([\w/]+\.(?:sql|py))`", text)):
        hits = list(ROOT.glob(f"**/{Path(name).name}"))
        assert any(".venv" not in str(h) for h in hits), f"the glossary names {name}, which does not exist"
