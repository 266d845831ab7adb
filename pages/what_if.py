"""Stub: the page's owner replaces this file."""

import streamlit as st

from ui.i18n import lang

st.info('Здесь можно будет менять ставки комиссий и затраты в сценарии и сравнивать результат с фактом, не трогая журнал затрат.' if lang() == "ru" else 'Here you will edit commission rates and costs in a scenario and compare it with actuals without touching the cost ledger.')
