"""What the weekly review should decide, read off the weekly pack's facts (programme.weekly), each with its trigger.

Four kinds, in this order: ``loss`` — a partner with enough leads whose ROI over the pack's 28 days is in the loss
band; ``band_down`` — a well-measured partner whose ROI band fell between the two 28-day windows (not already a
``loss``); ``anomaly`` — every anomaly of the week; ``goal`` — every goal off track. The rows carry the numbers that
trigger them, so the meeting shows why a decision is on the list; partners with too few leads and maturing
partners (left out of the pack already) never trigger one.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from programme.weekly import WeeklyPack

COLUMNS = ["kind", "partner_id", "subject", "model", "scope", "metric", "unit", "value", "reference", "leads",
           "amount", "z", "band_before", "band_now", "op", "target", "date_to"]
KINDS = ("loss", "band_down", "anomaly", "goal")


def decisions(pack: WeeklyPack) -> pd.DataFrame:
    """The decisions the week calls for (COLUMNS; missing facts None), in KINDS order."""
    losing = _losses(pack.partners)
    rows = [*losing, *_drops(pack.bands, {r["partner_id"] for r in losing}), *_anomalies(pack.anomalies),
            *_goals(pack.goals)]
    return pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=COLUMNS)


def _flag(value: Any) -> bool:
    """A too_few / up flag as a bool (a missing flag counts as set: an unknown sample is not enough)."""
    return True if value is None or value is pd.NA or value != value else bool(value)


def _losses(partners: pd.DataFrame) -> list[dict[str, Any]]:
    """Loss-making partners with enough leads, the largest loss first."""
    if partners.empty:
        return []
    hit = partners[(partners["roi_band"] == "loss") & ~partners["too_few"].map(_flag)]
    return [{"kind": "loss", "partner_id": int(r["partner_id"]), "subject": str(r["partner"]), "model": r["model"],
             "metric": "roi", "unit": "pct", "value": r["roi"], "leads": r["leads"], "amount": r["profit"],
             "band_now": "loss"}
            for r in hit.sort_values("profit", kind="stable").to_dict("records")]


def _drops(bands: pd.DataFrame, skip: set[int]) -> list[dict[str, Any]]:
    """Well-measured partners whose ROI band fell (those already listed as loss-making left out)."""
    if bands.empty:
        return []
    fell = bands[~bands["up"].map(_flag) & ~bands["too_few"].map(_flag) & ~bands["partner_id"].isin(skip)]
    return [{"kind": "band_down", "partner_id": int(r["partner_id"]), "subject": str(r["partner"]),
             "model": r["model"], "metric": "roi", "unit": "pct", "value": r["roi_now"], "reference": r["roi_before"],
             "band_before": r["band_before"], "band_now": r["band_now"]} for r in fell.to_dict("records")]


def _anomalies(anomalies: pd.DataFrame) -> list[dict[str, Any]]:
    """Every anomaly of the week: the series (None = the whole program), its value and the usual one."""
    return [{"kind": "anomaly", "subject": r["series"] if isinstance(r["series"], str) and r["series"] else None,
             "metric": r["metric"], "unit": r["kind"], "value": r["actual"], "reference": r["expected"], "z": r["z"]}
            for r in anomalies.to_dict("records")]


def _goals(off_track: pd.DataFrame) -> list[dict[str, Any]]:
    """Every goal off track: its target, actual so far and the pace to its end."""
    if off_track.empty:
        return []
    return [{"kind": "goal", "partner_id": None if pd.isna(r["partner_id"]) else int(r["partner_id"]),
             "subject": r["partner_name"], "model": r["model"], "scope": r["scope"], "metric": r["metric"],
             "value": r["actual"], "reference": r["pace"], "op": r["op"], "target": r["target"],
             "date_to": r["date_to"]} for r in off_track.to_dict("records")]
