"""Stub: the page's owner replaces this file."""

import streamlit as st

from ui.i18n import lang

st.info('Здесь будет прогноз лидов, сделок, выручки и ROI с интервалами и план бюджета по партнёрам и моделям.' if lang() == "ru" else 'Forecasts of leads, deals, revenue and ROI with intervals, and the budget plan per partner and model, will live here.')
