"""Stub: the page's owner replaces this file."""

import streamlit as st

from ui.i18n import lang

st.info('Здесь будут затраты по партнёрам и категориям, правила комиссий и импорт расходов из CSV или Excel.' if lang() == "ru" else 'Costs by partner and category, commission rules and the CSV / Excel cost import will live here.')
