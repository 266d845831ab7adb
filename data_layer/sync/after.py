"""The work that follows a successful sync (clawbacks, alerts), run as the product's own commands.

The data layer sits below ``programme`` and ``reports`` and never imports them, so the steps a sync ends
with are started the way cron starts them: as ``python -m <package> <command> --db <file> --after-sync``
processes, one after another, once the sync's last window is committed. A step that fails or hangs is
reported in one line and never turns a good sync into a failed one: the next sync (or the step's own
command) runs it again. ``PARTNER_ROI_AFTER_SYNC=0`` turns the steps off (tests of the sync alone).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # `python -m` runs from here (this file is 2 levels down)
TIMEOUT_S = 300.0  # a step longer than this is stopped; the next sync retries it

# (package, command): each is `python -m package command --db FILE --after-sync`, in this order. Clawbacks come first, so that an alert on a payout balance sees the reversals.
STEPS: tuple[tuple[str, str], ...] = (
    ("programme", "clawbacks"),
    ("reports", "alerts"),
)


@dataclass(frozen=True)
class StepResult:
    """One after-sync step: its command, whether it succeeded, and its last output line."""

    step: str
    ok: bool
    line: str


def enabled() -> bool:
    """Whether after-sync steps run (off with PARTNER_ROI_AFTER_SYNC=0)."""
    return os.environ.get("PARTNER_ROI_AFTER_SYNC", "1").strip().lower() not in ("0", "false", "no", "off")


def run_steps(db_path: str | Path, steps: tuple[tuple[str, str], ...] = STEPS,
              timeout_s: float = TIMEOUT_S) -> list[StepResult]:
    """Run each step as a process against db_path; never raise for a step's failure."""
    results = []
    for package, command in steps:
        name = f"{package} {command}"
        cmd = [sys.executable, "-m", package, command, "--db", str(Path(db_path).resolve()), "--after-sync"]
        try:
            done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            results.append(StepResult(name, False, f"stopped after {timeout_s:.0f} s; the next sync runs it again"))
            continue
        except OSError as exc:
            results.append(StepResult(name, False, f"could not start: {exc.strerror or exc}"))
            continue
        out = (done.stdout.strip() or done.stderr.strip()).splitlines()
        last = out[-1] if out else ""
        results.append(StepResult(name, done.returncode == 0, last))
    return results


def report_lines(results: list[StepResult]) -> list[str]:
    """One line per step for the sync's output: `after sync: programme clawbacks — ok: …`."""
    return [f"after sync: {r.step} — {'ok' if r.ok else 'failed'}{': ' + r.line if r.line else ''}"
            for r in results]
