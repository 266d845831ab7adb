"""The colours every chart and export shares: one per partnership model (direct sales and "no model" included), one
per ROI band, a stable one per partner, and the series palette. ui (its charts, tables and pages) and reports.charts
take them from here.

A model keeps its colour whatever the chart, page, language or filter: scales are built from the model, never from
the order the series happen to arrive in (Vega-Lite's default scheme colours by that order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt

from presentation.i18n import LANGS, band_label, model_label

# The series palette (colour-blind friendly order; the first two are revenue and costs).
PALETTE = ["#1f6feb", "#e36209", "#1a7f37", "#8250df", "#bf3989", "#0598bc", "#9a6700", "#57606a"]
MODELS = ("referral", "sales", "service", "direct", "unassigned")
MODEL_COLORS = {"referral": "#1f6feb", "sales": "#e36209", "service": "#1a7f37", "direct": "#57606a",
                "unassigned": "#afb8c1"}
BANDS = ("excellent", "profitable", "marginal", "loss", "n/a")
BAND_COLORS = {"excellent": "#1a7f37", "profitable": "#1f6feb", "marginal": "#d4a72c", "loss": "#cf222e",
               "n/a": "#8c959f"}
ANOMALY_COLOR = "#cf222e"
TOTAL_COLOR = "#24292f"  # a "total" line is no model: ink, not a model's colour
SCENARIO_COLORS = ["#8c959f", "#8250df"]  # actual, what-if scenario: no model's colour
# Partners: ten hues (Tableau 10) a partner keeps by its id, none of them a model's exact colour.
PARTNER_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                   "#9c755f", "#bab0ac"]


def model_key(name: object) -> str:
    """The model key of a key or a model's label in either language ("Реферальная", "Referral"); "unassigned"
    for None, an empty or an unknown name."""
    text = "" if name is None else str(name).strip()
    if text in MODEL_COLORS:
        return text
    return _LABEL_KEYS.get(text.casefold(), "unassigned")


def model_color(model: object) -> str:
    """The hex colour of a model (key or label in either language); unknown names get the "no model" grey."""
    return MODEL_COLORS[model_key(model)]


def model_scale(labels_by_key: Mapping[str, str] | Iterable[str]) -> alt.Scale:
    """A colour scale for series of models: {model key: label as the chart shows it}, or the labels (or keys)
    alone; the domain in the models' fixed order, each label in its model's colour."""
    pairs = (labels_by_key.items() if isinstance(labels_by_key, Mapping)
             else ((model_key(x), x) for x in labels_by_key))
    labels = {model_key(k): str(v) for k, v in pairs}
    order = sorted(labels, key=lambda m: MODELS.index(m))
    return alt.Scale(domain=[labels[m] for m in order], range=[MODEL_COLORS[m] for m in order])


def band_scale(code: str) -> alt.Scale:
    """The colour scale of ROI bands, labels in language `code`, in the bands' order."""
    return alt.Scale(domain=[band_label(b, code) for b in BANDS], range=[BAND_COLORS[b] for b in BANDS])


def partner_colors(ids: Iterable[Any]) -> dict[Any, str]:
    """A colour for each partner id: its own hue (id modulo the palette), the next free one when a partner with a
    lower id in the same chart has it already (so no two lines share a colour while there are ten or fewer)."""
    out: dict[Any, str] = {}
    taken: set[int] = set()
    for pid in sorted(set(ids), key=_id_number):
        slot = _id_number(pid) % len(PARTNER_PALETTE)
        for step in range(len(PARTNER_PALETTE)):
            if (slot + step) % len(PARTNER_PALETTE) not in taken:
                slot = (slot + step) % len(PARTNER_PALETTE)
                break
        taken.add(slot)
        if len(taken) == len(PARTNER_PALETTE):
            taken.clear()  # more partners than hues: start the palette over
        out[pid] = PARTNER_PALETTE[slot]
    return out


def partner_scale(labels_by_id: Mapping[Any, str]) -> alt.Scale:
    """A colour scale for series of partners: {partner id: label as the chart shows it}, each in its stable colour."""
    colors = partner_colors(labels_by_id)
    ids = sorted(labels_by_id, key=_id_number)
    return alt.Scale(domain=[str(labels_by_id[p]) for p in ids], range=[colors[p] for p in ids])


def series_scale(by: str, labels_by_key: Mapping[Any, str]) -> alt.Scale:
    """The colour scale of a chart's series split `by` model (model_scale), partner (partner_scale) or neither (one
    total line in ink)."""
    if by == "model":
        return model_scale(labels_by_key)
    if by == "partner":
        return partner_scale(labels_by_key)
    return alt.Scale(domain=[str(v) for v in labels_by_key.values()], range=[TOTAL_COLOR] * len(labels_by_key))


def _id_number(pid: Any) -> int:
    """A partner id as an integer (ids come as int, float or text from the frames)."""
    try:
        return int(float(pid))
    except (TypeError, ValueError):
        return sum(map(ord, str(pid)))


_LABEL_KEYS = {model_label(m, code).casefold(): m for m in MODELS for code in LANGS}
