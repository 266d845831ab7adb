"""Partner ROI dashboard: the router, the shared sidebar filters and the header every page shares.

`streamlit run app.py` (or `make run`). Pages live in pages/ and only render; the filters are built here
once per run and read by pages through ui.filters.current().
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from data_layer import store, userdata
from metrics import lookups
from reports import deal_list
from ui import auth, data, drill, filters, layout, navigation
from ui.i18n import set_lang, t, tr

# (script, url path, title key, icon); the first one is the default page served at "/".
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("pages/overview.py", "overview", "page.overview", ":material/dashboard:"),
    ("pages/meeting.py", "meeting", "page.meeting", ":material/co_present:"),
    ("pages/partners.py", "partners", "page.partners", ":material/handshake:"),
    ("pages/models.py", "models", "page.models", ":material/compare_arrows:"),
    ("pages/trends.py", "trends", "page.trends", ":material/monitoring:"),
    ("pages/quality.py", "quality", "page.quality", ":material/verified:"),
    ("pages/costs.py", "costs", "page.costs", ":material/payments:"),
    ("pages/what_if.py", "what-if", "page.what_if", ":material/science:"),
    ("pages/forecast.py", "forecast", "page.forecast", ":material/timeline:"),
    ("pages/goals.py", "goals", "page.goals", ":material/flag:"),
    ("pages/reports.py", "reports", "page.reports", ":material/description:"),
    ("pages/settings.py", "settings", "page.settings", ":material/settings:"),
)


def _early_flags() -> tuple[str, bool]:
    """Language and meeting mode before any widget exists: the toggles' state, else the URL."""
    if st.session_state.get("filters._loaded"):
        return ("en" if st.session_state.get(filters.K_LANG) else "ru"), bool(st.session_state.get(filters.K_PRESENT))
    return ("en" if st.query_params.get("lang") == "en" else "ru"), st.query_params.get("present") in ("1", "true")


def _choices() -> filters.Choices:
    """Filter options and the account time zone from the database (cached until the data changes)."""
    info = data.query(lookups.freshness)
    lo, hi = data.query(lookups.data_range)
    return filters.Choices(
        partners=data.query(lookups.partners),
        pipelines=data.query(lookups.pipelines),
        sources=tuple(data.query(lookups.sources)["source"].astype(str)),
        timezone=info.get("timezone") or "Europe/Moscow",
        data_min=lo, data_max=hi,
    )


def _header() -> None:
    """Data source and freshness on the left; language and meeting-mode toggles on the right."""
    left, right = st.columns([5, 2], vertical_alignment="center")
    with left:
        layout.show_freshness(data.query(lookups.freshness))
    with right, st.container(horizontal=True, horizontal_alignment="right"):
        st.toggle(tr(filters.TEXT, "lang"), key=filters.K_LANG, on_change=filters.keep_values_on_language_switch)
        st.toggle(tr(filters.TEXT, "present"), key=filters.K_PRESENT, help=tr(filters.TEXT, "present.help"))


def main() -> None:
    """One run: page config, navigation, filters, header, then the chosen page (errors become sentences)."""
    with data.rerun_reader():
        _run()


def _run() -> None:
    code, meeting = _early_flags()
    set_lang(code)
    st.set_page_config(page_title="Partner ROI", page_icon=":material/handshake:", layout="wide",
                       initial_sidebar_state="collapsed" if meeting else "auto")
    if not data.db_path().exists():
        layout.no_database()
    try:
        data.ensure_schema()  # the first open of the file: a damaged or foreign one is named here
    except store.DamagedDatabase as exc:
        layout.damaged_database(exc)
    principal = auth.current()  # shows the sign-in screen and stops when someone must sign in first
    st.session_state["auth.principal"] = principal
    userdata.ACTOR.set(principal.actor)  # the audit log names who changed what
    if principal.role == "partner":
        _run_partner()
        return
    # The default page is served at "/" (url path ""); its own path, /overview, is a hidden alias of "/".
    pages = [st.Page(path, title=t(title), icon=icon, url_path=url if i else "", default=(i == 0))
             for i, (path, url, title, icon) in enumerate(PAGES)]
    page = st.navigation(pages + _aliases_of_home(pages[0], [PAGES[0][1]]), position="top" if meeting else "sidebar")
    if page.visibility == "hidden":
        page.run()  # sends the user on to "/" before the sidebar is built
    try:
        auth.sidebar(principal)
        filters.sidebar(_choices())
        set_lang("en" if st.session_state.get(filters.K_LANG) else "ru")
        _header()
        page.run()
        drill.open_pending(deal_list.file)  # the list a number's button or a selection asked for, over the page
    except Exception as exc:  # st.stop / st.rerun are BaseException and pass through
        layout.show_error(exc)


def _run_partner() -> None:
    """A partner sees only their own portal: no filters, no other pages, nothing from the URL widens it."""
    portal = st.Page("pages/portal.py", title=t("page.portal"), url_path="", default=True)
    # Any other path a partner may open (/portal, a staff link) sends them on to the portal at "/".
    page = st.navigation([portal, *_aliases_of_home(portal, ["portal", *(url for _, url, _, _ in PAGES)])],
                         position="hidden")
    if page.visibility == "hidden":
        page.run()
    try:
        auth.sidebar(auth.principal())
        layout.show_freshness(data.query(lookups.freshness))
        page.run()
    except Exception as exc:
        layout.show_error(exc)


def _aliases_of_home(home: StreamlitPage, paths: list[str]) -> list[StreamlitPage]:
    """Hidden pages at these url paths that send the user on to home at "/", keeping the URL's query.

    Streamlit serves the default page at "/" only and meets any other path with its English "Page not found"
    dialog, while links name the overview /overview (its url path in PAGES).
    """
    def send_home() -> None:
        st.switch_page(home, query_params={key: st.query_params.get_all(key) for key in st.query_params})

    return [st.Page(send_home, title=home.title, url_path=path, visibility="hidden") for path in paths]


if __name__ == "__main__":  # every Streamlit run of the script (a browser's, or AppTest's)
    main()
else:  # `streamlit run app.py` imports the file once at start-up, finds `app` and serves it (see ui.navigation)
    navigation.router_only()
    app = st.App(__file__)
