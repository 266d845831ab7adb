"""The tier-kind column of the commission-rule editors (pages/costs.py, pages/what_if.py).

A percent rule's monthly tiers apply `marginal` (each band's rate on the revenue inside it, like tax brackets; the
default, so a new row needs no choice) or `whole` (the highest band reached sets the rate of the month's revenue).
The pages pass their own labels (their TEXT dicts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from data_layer.userdata import TIER_KINDS


def tier_kind_column(label: str, format_func: Callable[[str], str]) -> Any:
    """A required selectbox column of the tier kinds, marginal by default."""
    return st.column_config.SelectboxColumn(label, options=list(TIER_KINDS), required=True,
                                            default=TIER_KINDS[0], format_func=format_func)
