"""The app with login on (``ESTATE_APP_AUTH``), role by role, headless with AppTest."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from optimiser import auth
from optimiser.auth import add_user, load_users, set_role
from optimiser.store import ScenarioStore
from tests.conftest import REPO

APP = str(REPO / "app.py")
PASSWORDS = {"vic": "viewer password 1", "otto": "officer password 2", "ann": "admin password 3"}
ROLES = {"vic": "viewer", "otto": "officer", "ann": "admin"}


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    """Login on, with one user per role in this test's own data directory."""
    from pages import common

    data = tmp_path / "app-data"
    monkeypatch.setenv("ESTATE_APP_DATA", str(data))
    monkeypatch.setenv("ESTATE_APP_AUTH", "users")
    monkeypatch.setattr(auth, "SCRYPT_N", 2**14)  # quick hashes (the app runs in this process)
    for name, role in ROLES.items():
        add_user(data / "users.toml", name, role=role, password=PASSWORDS[name], email=f"{name}@example.org")
    common._throttle.clear()  # failed logins are counted per server: start each test afresh
    return data


@pytest.fixture(scope="module")
def trafford_record():
    """The Trafford default scenario, solved once, as the app would keep it."""
    from estate import load_place
    from optimiser.pipeline import optimise
    from optimiser.scenario import Scenario
    from optimiser.store import run_from_plan
    from pages import common

    estate = load_place("trafford")
    plan = optimise(estate, Scenario())
    key = common._bundled_version("trafford")
    return run_from_plan(estate, plan, place="trafford", estate_key=key, ran_by="otto")


@pytest.fixture
def saved_run(data_dir, trafford_record):
    """One saved run, run and saved by the officer."""
    return ScenarioStore(data_dir).save(trafford_record, name="board option", by="otto")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _log_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(PASSWORDS[name] if password is None else password)
    at.button(key=next(b.key for b in at.button if b.label == "Log in")).click().run()
    return at


def _as(name: str, place: str = "trafford") -> AppTest:
    at = _log_in(_app(), name)
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.selectbox(key="place_select").set_value(place).run()
    return at


def _texts(at: AppTest) -> str:
    """Every text the page shows: values, labels, options."""
    out = []
    for kind in (
        "title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success",
        "metric", "text_input", "button", "selectbox", "tabs",
    ):  # fmt: skip
        for element in getattr(at, kind):
            for attr in ("value", "label", "body", "options"):
                value = getattr(element, attr, None)
                if value is not None and not callable(value):
                    out.append(str(value))
    return "\n".join(out)


def _buttons(at: AppTest) -> dict[str, bool]:
    """Button label -> enabled."""
    return {b.label: not b.disabled for b in at.button}


def _downloads(at: AppTest) -> dict[str, bool]:
    return {b.label: not b.proto.disabled for b in at.get("download_button")}


# ------------------------------------------------------------------------------ before login
def test_before_login_the_login_form_is_the_only_thing_drawn():
    at = _app()

    assert not at.exception
    assert [t.value for t in at.title] == ["Public Estate Optimiser"]
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert [b.label for b in at.button] == ["Log in"]
    assert len(at.sidebar.children) == 0
    assert not at.metric and not at.get("component_instance") and not at.dataframe
    assert "Greater Manchester" not in _texts(at) and "Trafford" not in _texts(at)


@pytest.mark.parametrize("name", ["results", "admin", "common", "scenario_form"])
def test_a_file_of_pages_run_by_itself_still_shows_only_the_login_form(name):
    at = AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=60).run()

    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert [t.value for t in at.title] == ["Public Estate Optimiser"]


def test_a_wrong_password_is_refused():
    at = _log_in(_app(), "otto", "not the password")

    assert [e.value for e in at.error] == ["Wrong user name or password."]
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric


def test_five_wrong_passwords_lock_the_name_even_against_the_right_one():
    at = _app()
    for _ in range(auth.MAX_FAILURES):
        _log_in(at, "otto", "not the password")
    _log_in(at, "otto")

    assert "Too many failed logins for 'otto'" in at.error[0].value
    assert not at.metric


def test_a_mistyped_setting_closes_the_app(monkeypatch):
    monkeypatch.setenv("ESTATE_APP_AUTH", "user")
    at = _app()

    assert "The app is closed: ESTATE_APP_AUTH = 'user' is not a login mode" in at.error[0].value
    assert not at.text_input and not at.metric and len(at.sidebar.children) == 0


def test_a_bad_users_file_closes_the_app_and_shows_none_of_its_contents(data_dir):
    (data_dir / "users.toml").write_text('[users.eve]\nrole = "boss"\nemail = "eve@secret.example"\n')
    at = _app()

    assert "The app is closed: the users file cannot be read" in at.error[0].value
    assert "eve" not in _texts(at) and not at.text_input


def test_with_no_users_yet_the_page_says_how_to_add_the_first(data_dir):
    (data_dir / "users.toml").unlink()
    at = _app()

    assert "python -m optimiser users add NAME --role admin" in at.error[0].value
    assert not at.text_input


# ------------------------------------------------------------------------------ viewer
@pytest.mark.solver
def test_a_viewer_reads_results_and_the_board_pack_but_cannot_run_save_delete_or_export(data_dir, saved_run):
    at = _as("vic")
    assert "Logged in as **vic** (viewer)" in [c.value for c in at.sidebar.caption]
    assert "Loading registers needs the officer role." in [i.value for i in at.info]
    assert "upload_go" not in [b.key for b in at.button]

    at.switch_page("pages/scenario.py").run()
    assert not at.exception
    assert _buttons(at)["Run"] is False
    assert _buttons(at)["Delete"] is False
    assert "Save scenario" not in _buttons(at)  # nothing run, nothing to save
    assert any("running and saving need the officer role" in c.value for c in at.caption)

    at.switch_page("pages/results.py").run()
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Option “board option”"
    assert len(at.metric) == 10

    at.switch_page("pages/export.py").run()
    assert not at.exception
    downloads = _downloads(at)
    assert downloads.pop("Board pack (HTML, print to PDF)") is True
    assert downloads.pop("Board pack (PDF, A4)") is True
    assert downloads and not any(downloads.values())  # every data export disabled

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin.py")
    assert [r.run_id for r in ScenarioStore(data_dir).list_runs()] == [saved_run.run_id]
    assert [e.action for e in ScenarioStore(data_dir).audit_trail()] == ["save"]


def _every_handler(run_id: int, users_path: str) -> None:
    """Script for AppTest: a viewer's session calls each handler that acts, directly."""
    from pathlib import Path

    import streamlit as st

    from estate.upload import UploadResult
    from optimiser import auth
    from optimiser.background import SolveJob
    from optimiser.scenario import Scenario
    from pages import common
    from tests.test_optimiser_store import _record

    st.session_state[common.SIGN_IN_KEY] = common.SignIn("vic")
    cur = common.current()
    common.start_solve(cur, Scenario())
    common.save_run(_record(), "sneaky")
    deleted = common.delete_run(run_id)
    job = SolveJob(place="trafford", place_name="Trafford", estate_key="k", scenario=Scenario())
    common.stop_solve(job)
    result = UploadResult(key="upload:x", name="x", estate=cur.estate)
    common.use_upload(result)
    common.change_users(lambda: auth.set_role(users_path, "vic", "admin"), done="done")
    trail = common.audit_trail()
    refused = []
    for action in ("export", "download_pack"):
        try:
            common.make_checked(
                action, b"data", mode="users", ticket=common.SignIn("vic"), path=Path(users_path)
            )
        except auth.AccessDeniedError:
            refused.append(action)
    st.session_state["outcome"] = {
        "job": "job" in st.session_state,
        "deleted": deleted,
        "cancelled": job.cancel.is_set(),
        "uploads": "uploads" in st.session_state,
        "trail": trail,
        "refused": refused,
    }


@pytest.mark.solver
def test_every_handler_refuses_a_viewer_whatever_the_page_showed(data_dir, saved_run):
    at = AppTest.from_function(
        _every_handler, args=(saved_run.run_id, str(data_dir / "users.toml")), default_timeout=60
    ).run()

    assert not at.exception
    assert at.session_state["outcome"] == {
        "job": False,
        "deleted": False,
        "cancelled": False,
        "uploads": False,
        "trail": [],
        "refused": ["export"],
    }
    errors = [e.value for e in at.error]
    refusals = [
        e.split("you may not ")[1].split(";")[0] for e in errors if e.startswith("Your role (viewer)")
    ]
    assert refusals == [
        "run scenarios",  # start_solve
        "save scenarios",
        "delete saved scenarios",
        "run scenarios",  # stop_solve
        "load registers",
        "manage users",
        "read the audit trail",
    ]
    assert load_users(data_dir / "users.toml")["vic"].role == "viewer"
    assert [r.name for r in ScenarioStore(data_dir).list_runs()] == ["board option"]


def test_a_download_made_after_logout_or_a_demotion_is_refused(data_dir):
    from pages import common

    ticket, path = common.SignIn("otto"), data_dir / "users.toml"
    assert common.make_checked("export", lambda: "csv", mode="users", ticket=ticket, path=path) == "csv"

    set_role(path, "otto", "viewer")
    with pytest.raises(auth.AccessDeniedError, match=r"Your role \(viewer\): you may not export data"):
        common.make_checked("export", "csv", mode="users", ticket=ticket, path=path)
    assert common.make_checked("download_pack", "pack", mode="users", ticket=ticket, path=path) == "pack"

    ticket.active = False
    with pytest.raises(auth.AccessDeniedError, match="Not logged in"):
        common.make_checked("download_pack", "pack", mode="users", ticket=ticket, path=path)
    assert common.make_checked("export", "csv", mode="off", ticket=None, path=path) == "csv"


# ------------------------------------------------------------------------------ officer
def _run_scenario(at: AppTest) -> AppTest:
    at.button(key=next(b.key for b in at.button if b.label == "Run")).click().run()
    started = time.perf_counter()
    while "job" in at.session_state and time.perf_counter() - started < 120:
        time.sleep(0.25)
        at.run()
    assert "job" not in at.session_state, "the run did not finish"
    return at


@pytest.mark.solver
def test_an_officer_runs_saves_and_exports_and_the_store_records_who(data_dir):
    at = _as("otto")
    at.switch_page("pages/scenario.py").run()
    assert _buttons(at)["Run"] is True
    _run_scenario(at)
    box = next(t for t in at.text_input if str(t.key).startswith("save_name_"))
    box.set_value("officer option")
    at.button(key="save_go").click().run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved “officer option”" in s.value for s in at.success)
    assert _buttons(at)["Delete"] is False  # deleting needs an admin
    (run,) = ScenarioStore(data_dir).list_runs()
    saved = ScenarioStore(data_dir).load(run.run_id)
    assert (saved.ran_by, saved.saved_by) == ("otto", "otto") and saved.ran_at

    at.switch_page("pages/export.py").run()
    assert all(_downloads(at).values()) and len(_downloads(at)) == 8


# ------------------------------------------------------------------------------ admin
@pytest.mark.solver
def test_an_admin_deletes_a_saved_run_and_the_audit_trail_says_who(data_dir, saved_run):
    at = _as("ann")
    at.switch_page("pages/scenario.py").run()
    assert _buttons(at)["Delete"] is True
    at.button(key="delete_go").click().run()
    assert any("Delete the saved scenario “board option" in w.value for w in at.warning)
    assert len(ScenarioStore(data_dir).list_runs()) == 1  # nothing goes before the confirmation
    at.button(key="delete_confirm").click().run()

    assert not at.exception and not at.error
    assert any("Deleted the saved scenario “board option" in s.value for s in at.success)
    assert ScenarioStore(data_dir).list_runs() == []
    trail = ScenarioStore(data_dir).audit_trail()
    assert [(e.action, e.user) for e in trail] == [("delete", "ann"), ("save", "otto")]

    at.switch_page("pages/admin.py").run()
    assert not at.exception
    users_table, audit_table = (df.value for df in at.dataframe)
    assert dict(zip(users_table["name"], users_table["role"], strict=True)) == ROLES
    assert list(audit_table["action"]) == ["delete", "save"] and list(audit_table["user"]) == ["ann", "otto"]
    assert "ran by otto" in audit_table["detail"][0]


def test_an_admin_adds_a_user_changes_a_role_and_cannot_remove_the_last_admin(data_dir):
    at = _log_in(_app(), "ann")
    at.switch_page("pages/admin.py").run()
    at.text_input(key="admin_add_name").set_value("nina")
    at.selectbox(key="admin_add_role").set_value("officer")
    at.text_input(key="admin_add_password").set_value("nina's new password")
    at.text_input(key="admin_add_again").set_value("nina's new password")
    at.button(key=next(b.key for b in at.button if b.label == "Add user")).click().run()
    assert "Added nina (officer)." in [s.value for s in at.success]

    at.selectbox(key="admin_role_user").set_value("vic")
    at.selectbox(key="admin_role_role").set_value("officer")
    at.button(key=next(b.key for b in at.button if b.label == "Change role")).click().run()
    assert "vic is now officer." in [s.value for s in at.success]

    at.selectbox(key="admin_role_user").set_value("ann")
    at.button(key=next(b.key for b in at.button if b.label == "Remove user")).click().run()
    assert any("would leave" in e.value and "without an admin" in e.value for e in at.error)

    users = load_users(data_dir / "users.toml")
    assert {n: u.role for n, u in users.items()} == {
        "ann": "admin",
        "nina": "officer",
        "otto": "officer",
        "vic": "officer",
    }


# ------------------------------------------------------------------------------ sessions
def test_logging_out_forgets_the_session_and_shows_the_login_form():
    from pages import common

    at = _as("otto")
    at.button(key="logout").click().run()

    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert len(at.sidebar.children) == 0
    assert "place" not in at.session_state and common.SIGN_IN_KEY not in at.session_state


def test_a_removed_user_is_logged_out_and_a_changed_role_counts_at_once(data_dir):
    at = _as("otto")
    set_role(data_dir / "users.toml", "otto", "viewer")
    at.switch_page("pages/scenario.py").run()
    assert _buttons(at)["Run"] is False

    auth.remove_user(data_dir / "users.toml", "otto")
    at.run()
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_with_login_off_there_is_no_login_no_logout_and_no_admin_page(monkeypatch):
    monkeypatch.delenv("ESTATE_APP_AUTH")
    at = _app()

    assert at.title[0].value == "Estate: Greater Manchester"
    assert "logout" not in [b.key for b in at.button]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin.py")


# ------------------------------------------------------------------------------ OIDC
def _oidc(monkeypatch, user: dict, secrets: dict | None = None) -> AppTest:
    monkeypatch.setenv("ESTATE_APP_AUTH", "oidc")
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = user
    if secrets is not None:
        at.secrets = secrets
    return at.run()


def test_oidc_maps_the_logged_in_email_to_its_role(monkeypatch):
    at = _oidc(monkeypatch, {"is_logged_in": True, "email": "OTTO@example.org", "name": "Otto"})

    assert not at.exception
    assert at.title[0].value == "Estate: Greater Manchester"
    assert "Logged in as **otto** (officer)" in [c.value for c in at.sidebar.caption]


def test_oidc_log_out_ends_the_providers_login_too(monkeypatch):
    at = _oidc(
        monkeypatch,
        {"is_logged_in": True, "email": "ann@example.org"},
        secrets={"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}},
    )
    at.run()  # AppTest runs later runs through the page guard: take the buttons from such a run
    at.button(key="logout").click().run()

    assert at.user == {"is_logged_in": False}  # st.logout() was called
    assert not at.metric and "Logged in as" not in _texts(at)


def test_oidc_refuses_an_email_that_is_not_a_user_and_shows_nothing_else(monkeypatch):
    at = _oidc(
        monkeypatch,
        {"is_logged_in": True, "email": "eve@example.org"},
        secrets={"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}},
    )

    assert "eve@example.org is not a user of this app" in at.error[0].value
    assert [b.label for b in at.button] == ["Log out"]
    assert not at.metric and "Greater Manchester" not in _texts(at)


def test_oidc_without_an_auth_section_says_how_to_set_it_up(monkeypatch):
    at = _oidc(monkeypatch, {"is_logged_in": False})

    assert "add an [auth] section to .streamlit/secrets.toml" in at.error[0].value
    assert not at.button and not at.metric


def test_oidc_offers_the_organisations_login_or_says_what_is_missing(monkeypatch):
    import importlib.util

    at = _oidc(
        monkeypatch,
        {"is_logged_in": False},
        secrets={"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}},
    )

    if importlib.util.find_spec("authlib") is None:
        assert "needs the Authlib package" in at.error[0].value
    else:
        assert [b.label for b in at.button] == ["Log in with your organisation's account"]
    assert not at.metric and len(at.sidebar.children) == 0


def test_every_page_starts_with_the_guard_that_runs_it_inside_app_py():
    import ast

    for path in sorted((REPO / "pages").glob("*.py")):
        if path.name in ("common.py", "scenario_form.py") or path.name.endswith("_view.py"):  # modules
            continue
        body = [
            n for n in ast.parse(path.read_text()).body if not isinstance(n, (ast.Import, ast.ImportFrom))
        ]
        first = (
            body[1] if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else body[0]
        )
        assert ast.unparse(first) == "common.page_guard()", path
    views = sorted(p.name for p in (REPO / "pages").glob("*_view.py"))
    for name in ("common.py", "scenario_form.py", *views):  # modules, which Streamlit may still run as pages
        assert re.search(
            r'if __name__ == "__main__":.*\n.*page_guard\(\)', (REPO / "pages" / name).read_text(), re.S
        )
