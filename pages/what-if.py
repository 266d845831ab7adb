"""URL alias for a first request to /what-if before the router has run.

Streamlit serves files of pages/ by their file name until app.py's st.navigation takes over; the what-if page
lives in what_if.py (an importable module name) but its URL is /what-if, so this alias hands over to the router.
"""

from ui import layout

layout.require_router()
