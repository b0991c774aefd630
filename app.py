"""Public Estate Optimiser: the Streamlit front end. Run with ``streamlit run app.py``.

Widgets, caching, session state and layout only; everything shown comes from `estate` and
`optimiser`. The pages live in ``pages/``; shared glue in ``pages/common.py``. With login on
(``ESTATE_APP_AUTH``, docs/deployment.md), the login page is the only page until someone logs in.
"""

from __future__ import annotations

import streamlit as st

from pages import common

st.set_page_config(page_title="Public Estate Optimiser", layout="wide")
# KPI cards: full figures to the pound must fit five to a row, and labels may wrap
st.html("""<style>
[data-testid="stMetricValue"] { font-size: 1.55rem; }
[data-testid="stMetricLabel"] p { white-space: normal; }
</style>""")

user = common.gate()  # with login on, nothing but the login page is drawn until someone logs in
if user is None:
    st.stop()

st.sidebar.markdown("### Public Estate Optimiser")
common.place_switcher()
st.sidebar.caption(
    "Keep, co-locate or dispose of public buildings, with receipts, savings and access to "
    "services worked out exactly. Runs offline; only the map's background tiles come from "
    "OpenStreetMap when online."
)
common.account_box(user)

pages = [
    st.Page("pages/estate.py", title="Estate", url_path="estate", default=True),
    st.Page("pages/scenario.py", title="Scenario", url_path="scenario"),
    st.Page("pages/results.py", title="Results", url_path="results"),
    st.Page("pages/compare.py", title="Compare", url_path="compare"),
    st.Page("pages/export.py", title="Export", url_path="export"),
]
if common.login_on() and common.allowed("manage_users"):
    pages.append(st.Page("pages/admin.py", title="Admin", url_path="admin"))
navigation = st.navigation(pages)
try:
    with common.inside_app():
        navigation.run()
except Exception as err:  # the last resort: a short message, never a traceback
    common.show_error(err)
