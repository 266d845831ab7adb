"""Streamlit helpers shared by the pages: i18n, formatting, filters, charts, cached data access."""
