"""Streamlit helpers shared by the pages: the session's language, filters, charts, cached data access."""
