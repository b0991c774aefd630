"""Scenario: every assumption and constraint of a scenario file, locks, access standards, the run."""

from __future__ import annotations

import streamlit as st

from estate.settings import decode_text, parse_toml
from optimiser.errors import ScenarioError
from optimiser.scenario import SOLVERS, Scenario
from optimiser.solver import available_solvers
from pages import common, locks_view, progress_view, safety_view, scenario_form

common.page_guard()  # before anything else: the page runs only inside app.py

cur = common.current()
estate = cur.estate
st.title(f"Scenario: {cur.name}")
outcome = st.container()  # progress and the latest result, above the form
prefix = f"sc_{cur.place}_"
base: Scenario = st.session_state.get(prefix + "base", Scenario())
version = int(st.session_state.get(prefix + "version", 0))


def _load_into_form(scenario: Scenario) -> None:
    st.session_state[prefix + "base"] = scenario
    st.session_state[prefix + "version"] = int(st.session_state.get(prefix + "version", 0)) + 1


def _load_choice() -> None:
    choice = st.session_state.get(prefix + "load_choice", "")
    try:
        if choice.startswith("file:"):
            _load_into_form(Scenario.from_toml(common.bundled_scenarios()[choice[5:]]))
        elif choice.startswith("saved:"):
            record = common.load_saved(int(choice[6:]))
            if record is not None:
                _load_into_form(record.scenario)
        else:
            _load_into_form(Scenario())
        st.session_state.pop(prefix + "load_error", None)
    except Exception as err:
        st.session_state[prefix + "load_error"] = err


def _load_upload() -> None:
    uploaded = st.session_state.get(prefix + "toml_upload")
    if uploaded is None:
        return
    try:  # the same size, UTF-8, TOML and schema checks as `python -m optimiser run --scenario`
        name = f"Scenario file {uploaded.name}"
        text = decode_text(uploaded.getvalue(), name=name, error=ScenarioError)
        data = parse_toml(text, name=name, error=ScenarioError)
        _load_into_form(Scenario.from_dict(data, source=uploaded.name))
        st.session_state.pop(prefix + "load_error", None)
    except Exception as err:
        st.session_state[prefix + "load_error"] = err


with st.expander("Start from a scenario file or a saved scenario", expanded=False):
    saved = common.saved_runs(cur.place)
    sources = {"": "The default scenario"}
    sources.update({f"file:{name}": f"Example file: {name}.toml" for name in common.bundled_scenarios()})
    sources.update({f"saved:{info.run_id}": f"Saved: {info.label}" for info in saved})
    a, b = st.columns([3, 1])
    a.selectbox("Scenario", list(sources), format_func=sources.get, key=prefix + "load_choice")
    b.button("Load into the form", on_click=_load_choice, key=prefix + "load_go")
    st.file_uploader(
        "…or a scenario TOML file", type=["toml"], key=prefix + "toml_upload", on_change=_load_upload
    )
    if (err := st.session_state.get(prefix + "load_error")) is not None:
        common.show_error(err, what="The scenario could not be loaded")
    st.caption(f"The form now holds: **{base.name}**.")

if (nothing := safety_view.nothing_to_optimise(estate)) is not None:
    st.warning(nothing)
if not common.allowed("run"):
    st.caption(
        "Your role lets you read scenarios and their results; running and saving need the officer role."
    )
locks_view.search_box(estate, cur.estate_key, key=prefix)
progress_slot = st.container()  # the running solve's progress and Stop, just above Run (progress_view)
values, access_rows, submitted = scenario_form.draw(
    estate,
    base,
    key=f"{prefix}{version}_",
    solvers=available_solvers() or list(SOLVERS),
    can_run=common.allowed("run"),
)
if submitted:
    try:
        scenario, note = scenario_form.to_scenario(values, access_rows, estate).capped_to_machine()
        if note:
            st.warning(note)
        st.session_state.pop("run_error", None)
        st.session_state.pop("just_ran", None)
        common.start_solve(cur, scenario)
    except Exception as err:
        common.show_error(err, what="The scenario is not valid")


with outcome:
    job = st.session_state.get("job")
    with progress_slot:
        progress_view.show(cur.place)

    if (err := st.session_state.get("run_error")) is not None:
        common.show_error(err, what="The run found no plan")

    record = common.latest(cur.place)
    if record is not None and (job is None or job.place != cur.place):
        st.subheader(f"Result: {record.name}")
        if (how := st.session_state.get("just_ran")) is not None:
            st.caption(
                "Taken from the cache: this estate and scenario were solved before."
                if how == "cached"
                else f"Solved in {how}."
            )
        common.show_status(record.summary)
        common.show_kpis(record.summary, record.tables.get("buildings"))
        st.page_link("pages/results.py", label="See the maps, charts and tables on Results")
        s1, s2, s3 = st.columns([2, 1, 1])
        name = s1.text_input("Save as", value=record.name, key=f"save_name_{common.run_token()}")
        can_save = common.allowed("save") and common.store() is not None
        if s2.button("Save scenario", key="save_go", disabled=not can_save):
            saved_record = common.save_run(record, name)
            if saved_record is not None:
                safety_view.choose_after_save(saved_record.run_id)
                st.success(f"Saved “{saved_record.name}” in {common.store().path}.")
        common.download_button(
            "Download scenario (TOML)",
            record.scenario.to_toml(),
            where=s3,
            file_name=f"{record.name}.toml",
            mime="application/toml",
        )
        st.divider()

st.subheader("Saved scenarios")
saved_all = common.saved_runs(cur.place, with_broken=True)
saved = [i for i in saved_all if not i.problem]
if not saved_all:
    st.caption(
        "None yet for this estate. Run a scenario and press Save; saved scenarios stay after a restart."
    )
else:
    st.dataframe(
        [
            {
                "name": i.name,
                "saved (UTC)": i.saved_at[:16].replace("T", " "),
                "solution": i.status_words,
                "NPV £": None if i.npv_gbp is None else round(i.npv_gbp),
            }
            for i in saved
        ],
        hide_index=True,
        width="stretch",
    )
    safety_view.delete_box(saved_all)
if not saved_all and (done := st.session_state.pop(safety_view.DONE_KEY, None)):
    st.success(done)
