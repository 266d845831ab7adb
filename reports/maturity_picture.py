"""`python -m reports.maturity_picture [--db PATH] [--out PATH]`: the glossary's picture of the time-to-close curve.

Draws metrics.maturity.curve of a database (the demo by default): per pipeline and for all pipelines, the share of
won deals closed by each day after creation, with the 90 % line a period must reach to stop maturing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import altair as alt
import pandas as pd

from data_layer import store
from metrics import maturity
from reports.charts import PALETTE, to_png

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "maturity-curve.png"
DAYS = 120  # the demo's curves reach 1 within 90 days


def curve_rows(path: Path) -> pd.DataFrame:
    """The curve of a database with its pipelines' names (label), days 0..DAYS."""
    with store.connect(path, read_only=True) as con:
        curve = maturity.curve(con)
        names = dict(con.execute("select id, name from raw_pipelines").fetchall())
    curve = curve[curve["day"] <= DAYS].copy()
    curve["label"] = [f"{names.get(int(p), p)} ({n} сделок)" if pd.notna(p) else f"Все воронки ({n} сделок)"
                      for p, n in zip(curve["pipeline_id"], curve["deals"], strict=True)]
    return curve


def chart(rows: pd.DataFrame, threshold: float = maturity.DEFAULT_THRESHOLD) -> alt.LayerChart:
    """The curves and the threshold line."""
    order = list(dict.fromkeys(rows["label"]))
    lines = alt.Chart(rows).mark_line(strokeWidth=2.5).encode(
        x=alt.X("day:Q", title="Дней после создания лида / days after the lead was created"),
        y=alt.Y("share:Q", title="Доля закрытых сделок / share of deals closed", axis=alt.Axis(format=".0%")),
        color=alt.Color("label:N", title=None, sort=order, scale=alt.Scale(domain=order, range=PALETTE[:len(order)])))
    line = pd.DataFrame({"share": [threshold], "note": [f"{threshold:.0%}: период созрел / the period is mature"]})
    rule = alt.Chart(line).mark_rule(strokeDash=[6, 4], color="#57606a").encode(y="share:Q")
    note = alt.Chart(line).mark_text(align="right", baseline="bottom", dy=-3, color="#57606a").encode(
        y="share:Q", x=alt.value(700), text="note:N")
    return alt.layer(lines, rule, note).properties(
        width=720, height=300, title="Кривая закрытия сделок (демо) / time-to-close curve (demo)")


def main(argv: list[str] | None = None) -> int:
    """Write the picture; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m reports.maturity_picture", description=__doc__)
    parser.add_argument("--db", type=Path, default=store.DEFAULT_DB)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(to_png(chart(curve_rows(args.db))))
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
