"""Streamlit glue shared by the pages: who is logged in and what they may do, caching, session
state, the place switcher, uploads, background solves and the widgets every page draws the same way.

No estate or optimisation logic lives here: it only calls `estate` and `optimiser` (uploads are
checked and loaded by `estate.upload`, solves run in the background by `optimiser.background`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import importlib.util
import runpy
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from estate import (
    PLACES,
    Estate,
    EstateError,
    EstateValidationError,
    limits,
    load_mapping,
    load_place,
    upload,
)
from estate.io import DATA_DIR
from estate.upload import UploadResult
from optimiser import auth
from optimiser.errors import OptimiserError, StoreError
from optimiser.report.kpis import MODELLED_NOTE, kpi_cards
from optimiser.report.words import status_of

# The store, the background solve and the solver pull in PuLP: they are imported in the functions
# that first need them, so that a page that never solves (Estate) loads without PuLP.
if TYPE_CHECKING:
    from optimiser.background import SolveJob
    from optimiser.scenario import Scenario
    from optimiser.store import RunInfo, SavedRun, ScenarioStore

UPLOAD_TYPES = limits.UPLOAD_TYPES
DEFAULT_ESTATE = "greater_manchester"
PLAN_CACHE_SIZE = 24


# ---------------------------------------------------------------------- errors
def show_error(err: BaseException, *, what: str = "") -> None:
    """Show an error as a message (never a traceback), with the issues table when there is one."""
    prefix = f"{what}: " if what else ""
    if isinstance(err, EstateValidationError):
        st.error(prefix + str(err).splitlines()[0])
        st.dataframe(pd.DataFrame([i.to_dict() for i in err.issues]), hide_index=True, width="stretch")
    elif isinstance(err, (EstateError, OptimiserError)):
        st.error(prefix + str(err))
    else:
        st.error(
            f"{prefix}something went wrong ({type(err).__name__}: {err}). "
            "Nothing was changed; please try again or report this message."
        )


# ---------------------------------------------------------------------- who is logged in
APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"
SIGN_IN_KEY = "_sign_in"  # not a widget key, so no browser can set it
UNREADABLE_USERS = (  # the details go to the server's log, not to a page anyone can open
    "the users file cannot be read. An admin can see why with `python -m optimiser users list`."
)


@dataclass(eq=False)
class SignIn:
    """A login in this session. Logging out clears `active`, which also revokes any download
    prepared for it (downloads are made later, outside the session: `guarded`)."""

    name: str
    active: bool = True


@st.cache_resource(show_spinner=False)
def _throttle() -> auth.Throttle:
    """Failed logins per user name, shared by every session of this server."""
    return auth.Throttle()


def login_on() -> bool:
    """Whether users log in (``ESTATE_APP_AUTH`` is ``users`` or ``oidc``); an unknown value counts as on."""
    try:
        return auth.auth_mode() != "off"
    except auth.AuthError:
        return True


def _signed_in() -> auth.User | None:
    """The logged-in user, read afresh from the users file (a removed user or a changed role
    counts at once), the local user when login is off, or None. Raises `auth.AuthError` for a
    bad setting or users file."""
    mode = auth.auth_mode()
    if mode == "off":
        return auth.LOCAL_USER
    users = auth.load_users(auth.users_path())
    ticket = st.session_state.get(SIGN_IN_KEY)
    if mode == "oidc":
        auth.oidc_provider()  # a bad provider name closes the app with its message
        try:
            user = auth.user_for_claims(users, st.user.to_dict())
        except auth.LoginError:  # the provider's identity is the login: without it, nobody
            if isinstance(ticket, SignIn):
                ticket.active = False
            return None
        if not isinstance(ticket, SignIn) or not ticket.active or ticket.name != user.name:
            ticket = SignIn(user.name)
            st.session_state[SIGN_IN_KEY] = ticket
    if not isinstance(ticket, SignIn) or not ticket.active:
        return None
    user = users.get(ticket.name)
    if user is None:
        ticket.active = False
    return user


def current_user() -> auth.User | None:
    """Who is using the app now (None: nobody, or the users file cannot be read)."""
    try:
        return _signed_in()
    except auth.AuthError:
        return None


def allowed(action: str) -> bool:
    """Whether the current user may do `action` (to hide or disable a widget)."""
    return auth.can(current_user(), action)


def permit(action: str) -> bool:
    """Check, at the point of acting, that the current user may do `action`; else say why.

    Every handler that runs, saves, deletes, exports or loads calls this, whatever the page
    showed: a hidden or disabled button is not a check.
    """
    user = current_user()
    try:
        auth.require(user, action)
    except auth.AccessDeniedError as err:
        st.error(str(err))
        return False
    return True


def user_name() -> str:
    """The current user's name, as the audit records it."""
    user = current_user()
    return user.name if user is not None else ""


def guarded(action: str, data: Any) -> Callable[[], Any]:
    """`data` (or what the callable `data` returns) for a download button, checked when it is made.

    Streamlit makes a deferred download when the button is pressed, outside the script run;
    `make_checked` checks then that the user is still logged in here and, from the users
    file, that their role still allows `action`.
    """
    mode, ticket, path = auth.auth_mode(), st.session_state.get(SIGN_IN_KEY), auth.users_path()
    return lambda: make_checked(action, data, mode=mode, ticket=ticket, path=path)


def make_checked(action: str, data: Any, *, mode: str, ticket: Any, path: Path) -> Any:
    """`data` (called, if callable) when `ticket`'s user may do `action` now; else `auth.AccessDeniedError`."""
    if mode != "off":
        if not isinstance(ticket, SignIn) or not ticket.active:
            msg = "Not logged in: log in again to download."
            raise auth.AccessDeniedError(msg)
        auth.require(auth.load_users(path).get(ticket.name), action)
    return data() if callable(data) else data


def download_button(
    label: str, data: Any, *, action: str = "export", where: Any = None, **kwargs: Any
) -> None:
    """A download button for `action`: disabled (and empty) for a role without it, and
    `guarded` when pressed."""
    ok = allowed(action)
    (where or st).download_button(
        label,
        data=guarded(action, data),
        disabled=not ok,
        help=None if ok else f"Needs the {auth.ACTIONS[action]} role.",
        on_click="ignore",
        **kwargs,
    )


_IN_APP: contextvars.ContextVar[bool] = contextvars.ContextVar("in_app", default=False)


@contextlib.contextmanager
def inside_app() -> Iterator[None]:
    """Mark the pages that app.py runs (after `gate`) as run by app.py."""
    token = _IN_APP.set(True)
    try:
        yield
    finally:
        _IN_APP.reset(token)


def page_guard() -> None:
    """The first line of every page: a page runs only inside app.py, after the login check.

    Because this folder is called ``pages``, Streamlit runs a page's file by itself, without
    app.py, on a server's first request for that page (its older pages-folder mode, until
    app.py has called ``st.navigation`` once); AppTest does so on every run after the first.
    That would show the page without a login, so such a run runs app.py instead, in the same
    run (so a pressed button still counts), and app.py runs the page after its checks.
    """
    if _IN_APP.get():
        return
    runpy.run_path(str(APP_SCRIPT), run_name="__main__")
    st.stop()


def gate() -> auth.User | None:
    """The user who may use the app in this run; when there is none, the login page is the
    only page (every address leads to it) and this returns None: the caller stops."""
    try:
        mode = auth.auth_mode()
        user = _signed_in()
    except auth.AuthError as err:
        print(f"public-estate-optimiser: {err}", file=sys.stderr)  # the details, for the server's log
        setting = str(err).startswith((auth.AUTH_ENV, auth.PROVIDER_ENV))
        public = str(err) if setting else UNREADABLE_USERS
        _only_page(lambda: _closed(public))
        return None
    if user is None:
        _only_page(_login_form if mode == "users" else _oidc_login)
    return user


def _only_page(draw: Callable[[], None]) -> None:
    st.navigation([st.Page(draw, title="Log in", url_path="login")], position="hidden").run()


def _closed(message: str) -> None:
    st.title("Public Estate Optimiser")
    st.error(f"The app is closed: {message}")


def _login_form() -> None:
    st.title("Public Estate Optimiser")
    try:
        users = auth.load_users(auth.users_path())
    except auth.AuthError:
        _closed(UNREADABLE_USERS)
        return
    if not users:
        st.error(
            "No users yet. An admin adds the first on the server: "
            "`python -m optimiser users add NAME --role admin` (see docs/deployment.md)."
        )
        return
    with st.form("login"):
        name = st.text_input("User name", key="login_name", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        pressed = st.form_submit_button("Log in", type="primary")
    if not pressed:
        return
    try:
        user = auth.authenticate(users, name, password, throttle=_throttle())
    except auth.LoginError as err:
        st.error(str(err))
        return
    _forget_session()  # nothing of an earlier login carries over
    st.session_state[SIGN_IN_KEY] = SignIn(user.name)
    st.rerun()


def _oidc_login() -> None:
    st.title("Public Estate Optimiser")
    claims = st.user.to_dict()
    if claims.get("is_logged_in"):  # logged in with the provider, but not a user here
        try:
            auth.user_for_claims(auth.load_users(auth.users_path()), claims)
        except auth.LoginError as err:
            st.error(str(err))
        st.button("Log out", key="oidc_logout", on_click=log_out)
        return
    provider = auth.oidc_provider()
    try:
        configured = "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        configured = False
    if not configured:
        st.error(
            "The organisation's login is not set up: add an [auth] section to .streamlit/secrets.toml "
            "(see docs/deployment.md)."
        )
        return
    if importlib.util.find_spec("authlib") is None:
        st.error(
            "The organisation's login needs the Authlib package on the server: pip install 'Authlib>=1.3.2'."
        )
        return
    if st.button("Log in with your organisation's account", type="primary", key="oidc_login"):
        st.login(provider)


def _forget_session() -> None:
    """Drop everything this session holds (results, uploads, choices); Streamlit's own keys stay."""
    for key in list(st.session_state.keys()):
        if not str(key).startswith("$$"):
            del st.session_state[key]


def log_out() -> None:
    """Button callback: end this login, forget everything in the session."""
    ticket = st.session_state.get(SIGN_IN_KEY)
    if isinstance(ticket, SignIn):
        ticket.active = False
    _forget_session()
    if auth.auth_mode() == "oidc":
        st.logout()


def change_users(
    change: Callable[[], auth.User], *, done: str, confirm: tuple[str, str] | None = None
) -> None:
    """Make one change to the users file (admins): show `done` (formatted with the user's name
    and role), or why it was refused. `confirm` is a password typed twice, which must agree."""
    if not permit("manage_users"):
        return
    if confirm is not None and confirm[0] != confirm[1]:
        st.error("The two passwords differ; nothing was changed.")
        return
    try:
        user = change()
    except auth.AuthError as err:
        st.error(str(err))
        return
    st.success(done.format(name=user.name, role=user.role))


def audit_trail() -> list[Any]:
    """The store's audit trail (admins), newest first; empty with a message when unreadable."""
    s = store()
    if s is None or not permit("view_audit"):
        return []
    try:
        return list(s.audit_trail())
    except StoreError as err:
        st.warning(str(err))
        return []


def account_box(user: auth.User) -> None:
    """The sidebar's line on who is logged in, and the logout button (nothing when login is off).

    For a role without exports, the tables' own "Download as CSV" buttons are hidden too: a
    convenience, not a control (what a viewer may see, they can copy).
    """
    if not login_on():
        return
    if not auth.can(user, "export"):
        st.html(
            "<style>button[data-testid='stBaseButton-elementToolbar'][aria-label='Download as CSV']"
            " { display: none; }</style>"
        )
    st.sidebar.caption(f"Logged in as **{user.name}** ({user.role})")
    if st.sidebar.button("Log out", key="logout"):
        log_out()
        st.rerun()


# ---------------------------------------------------------------------- estates
@dataclass(frozen=True, eq=False)
class Current:
    """The estate the user is working on.

    In the app a "place" is the estate chosen in the sidebar: a bundled example estate
    (``greater_manchester``, ``trafford``) or ``upload:<hash>``; saved runs keep it as their
    ``place``. It is not a sweep's place (a local authority, `optimiser.sweep.places`).
    """

    place: str  # the chosen estate: a bundled example's name, or "upload:<hash>"
    name: str
    estate_key: str  # changes whenever the data changes
    estate: Estate


@st.cache_resource(show_spinner="Loading the estate…", max_entries=4)
def _bundled(bundled: str, version: str) -> Estate:
    """One shared, immutable Estate per bundled example estate and file version."""
    return load_place(bundled)


def _bundled_version(bundled: str) -> str:
    path = DATA_DIR / f"{bundled}.gpkg"
    stat = path.stat()
    return f"{bundled}:{stat.st_size}:{stat.st_mtime_ns}"


def place_options() -> dict[str, str]:
    """Estates to choose from: the bundled examples and any registers uploaded in this session."""
    options = dict(PLACES)
    for key, (name, _estate, _version) in st.session_state.get("uploads", {}).items():
        options[key] = f"{name} (uploaded)"
    return options


def current() -> Current:
    """The estate chosen in the sidebar (Greater Manchester by default)."""
    place = st.session_state.get("place", DEFAULT_ESTATE)
    uploads = st.session_state.get("uploads", {})
    if place in uploads:
        name, estate, version = uploads[place]
        return Current(place, name, version, estate)
    if place not in PLACES:
        place = DEFAULT_ESTATE
    version = _bundled_version(place)
    return Current(place, PLACES[place], version, _bundled(place, version))


def place_switcher() -> None:
    """The sidebar's place selector. The choice is kept in ``place`` (not a widget key), so it
    survives runs in which the selector is not drawn."""
    options = place_options()
    place = st.session_state.get("place", DEFAULT_ESTATE)
    if place not in options:
        place = DEFAULT_ESTATE
    st.session_state["place"] = place
    if st.session_state.get("place_select") != place:
        st.session_state["place_select"] = place
    st.sidebar.selectbox(
        "Place",
        list(options),
        format_func=options.get,
        key="place_select",
        on_change=_place_changed,
        help="The bundled example estates, and any registers you loaded on the Estate page.",
    )


def _place_changed() -> None:
    st.session_state["place"] = st.session_state["place_select"]


# ---------------------------------------------------------------------- uploads
def upload_limit_mb() -> int:
    """The upload limit in MB: ``server.maxUploadSize``, never above `estate.limits.MAX_FILE_MB`."""
    return min(int(st.get_option("server.maxUploadSize")), limits.MAX_FILE_MB)


def check_upload(name: str, size: int) -> str | None:
    """Why an uploaded file is refused by its type or size, or None (`estate.limits.check_upload`)."""
    return limits.check_upload(name, size, limit_mb=upload_limit_mb())


def load_uploads(files: dict[str, tuple[str, bytes]], mapping_text: str) -> UploadResult:
    """Load uploaded registers within this server's upload limit (`estate.upload.load_uploads`)."""
    return upload.load_uploads(files, mapping_text, limit_mb=upload_limit_mb())


def add_upload(result: UploadResult) -> None:
    """Make a loaded upload one of the places to choose from."""
    if result.estate is None:
        return
    uploads = dict(st.session_state.get("uploads", {}))
    uploads[result.key] = (result.name, result.estate, result.key)
    st.session_state["uploads"] = uploads


def use_upload(result: UploadResult) -> None:
    """Button callback: add the upload to the places and switch to it (officers and admins)."""
    if not permit("upload"):
        return
    add_upload(result)
    if result.estate is not None:
        st.session_state["place"] = result.key
        st.session_state["place_select"] = result.key


def mapping_text(choice: str) -> str:
    """The TOML text of a built-in mapping (empty for none)."""
    if not choice:
        return ""
    mapping = load_mapping(choice)
    return Path(mapping.source).read_text(encoding="utf-8")


# ---------------------------------------------------------------------- the store
@st.cache_resource(show_spinner=False)
def _store(path: str) -> ScenarioStore:
    from optimiser.store import ScenarioStore

    return ScenarioStore(path or None)


def store() -> ScenarioStore | None:
    """The scenario store, or None (with a message) when it cannot be opened."""
    from optimiser.store import default_data_dir

    try:
        return _store(str(default_data_dir()))
    except StoreError as err:
        st.warning(f"Saved scenarios are unavailable: {err}")
        return None


def saved_runs(place: str | None, *, with_broken: bool = False) -> list[RunInfo]:
    """Saved runs (for one place, or all) that can be read; each one that cannot is named in a
    warning (and returned too, with its `problem`, if `with_broken`, so it can be deleted)."""
    s = store()
    if s is None:
        return []
    try:
        runs = s.list_runs(place=place)
    except StoreError as err:
        st.warning(str(err))
        return []
    for info in runs:
        if info.problem:
            st.warning(
                f"Saved run “{info.name}” ({info.place_name}, saved {info.saved_at[:16].replace('T', ' ')}) "
                f"cannot be read: {info.problem}. The other saved runs are unaffected; delete it on the "
                "Scenario page."
            )
    return runs if with_broken else [info for info in runs if not info.problem]


def load_saved(run_id: int) -> SavedRun | None:
    """A saved run, or None with a message."""
    s = store()
    if s is None:
        return None
    try:
        return s.load(run_id)
    except StoreError as err:
        st.error(str(err))
        return None


# ---------------------------------------------------------------------- solving
@st.cache_resource(show_spinner=False)
def _plan_cache() -> OrderedDict[tuple[str, Scenario], SavedRun]:
    """Solved plans per (estate version, scenario), shared by every session."""
    return OrderedDict()


def cached_record(estate_key: str, scenario: Scenario) -> SavedRun | None:
    """A plan already solved for this estate and scenario."""
    cache = _plan_cache()
    record = cache.get((estate_key, scenario))
    if record is not None:
        cache.move_to_end((estate_key, scenario))
    return record


def start_solve(cur: Current, scenario: Scenario) -> None:
    """Start solving `scenario` on the current estate, unless it is cached (officers and admins)."""
    if not permit("run"):
        return
    hit = cached_record(cur.estate_key, scenario)
    if hit is not None:
        from optimiser.store import utc_now

        set_latest(dataclasses.replace(hit, ran_by=user_name(), ran_at=utc_now()), new_run=True)
        st.session_state.pop("job", None)
        st.session_state["just_ran"] = "cached"
        return
    from optimiser.background import SolveJob

    job = SolveJob(
        place=cur.place, place_name=cur.name, estate_key=cur.estate_key, scenario=scenario, ran_by=user_name()
    )
    job.start(cur.estate)
    st.session_state["job"] = job


def finish_job(job: SolveJob) -> None:
    """Keep a finished job's plan (in the session and the shared cache) or its error."""
    st.session_state.pop("job", None)
    if job.record is not None:
        if job.record.summary.get("status") != "interrupted":  # a stopped run is not the scenario's answer
            cache = _plan_cache()
            cache[(job.estate_key, job.scenario)] = job.record
            while len(cache) > PLAN_CACHE_SIZE:
                cache.popitem(last=False)
        set_latest(job.record, new_run=True)
        st.session_state["just_ran"] = f"{job.elapsed_s:.1f} s"
        st.session_state.pop("run_error", None)
    else:
        st.session_state["run_error"] = job.error


def stop_solve(job: SolveJob) -> None:
    """Button callback: stop a solve, keeping the best plan so far (officers and admins)."""
    if permit("run"):
        job.cancel.set()


def save_run(record: SavedRun, name: str) -> SavedRun | None:
    """Save a run under `name` as the current user (officers and admins); None with a message."""
    if not permit("save"):
        return None
    s = store()
    if s is None:
        return None
    try:
        saved = s.save(record, name=name.strip() or record.name, by=user_name())
    except Exception as err:
        show_error(err, what="Could not save")
        return None
    set_latest(saved)
    return saved


def delete_run(run_id: int) -> bool:
    """Delete a saved run as the current user (admins; the audit trail keeps who and when)."""
    if not permit("delete"):
        return False
    s = store()
    if s is None:
        return False
    try:
        return s.delete(int(run_id), by=user_name())
    except Exception as err:
        show_error(err, what="Could not delete")
        return False


def set_latest(record: SavedRun, *, new_run: bool = False) -> None:
    """The latest run on an estate is what Results and Export show first.

    `new_run` marks a fresh result (not the same one saved under a name), so that widgets
    keyed by `run_token` start afresh.
    """
    latest = dict(st.session_state.get("latest", {}))
    latest[record.place] = record
    st.session_state["latest"] = latest
    if new_run:
        st.session_state["run_token"] = int(st.session_state.get("run_token", 0)) + 1


def run_token() -> int:
    """Changes with every new result."""
    return int(st.session_state.get("run_token", 0))


def latest(place: str) -> SavedRun | None:
    """The latest run on `place` in this session."""
    return st.session_state.get("latest", {}).get(place)


@st.cache_resource(show_spinner="Rebuilding the saved plan…", max_entries=4)
def _rebuilt_plan(run_id: int, estate_key: str, _estate: Estate, _record: SavedRun) -> Any:
    from optimiser.store import plan_on_estate

    return plan_on_estate(_estate, _record)


def plan_for(cur: Current, record: SavedRun) -> Any:
    """The full Plan of a run (rebuilt once for a saved run; raises StoreError on other data)."""
    if not record.read_back:
        return record.plan
    return _rebuilt_plan(int(record.run_id or 0), cur.estate_key, cur.estate, record)


# ---------------------------------------------------------------------- choosing a run
def record_picker(cur: Current, *, key: str, label: str = "Run") -> SavedRun | None:
    """Choose between this session's latest run and the saved runs on this estate."""
    options: dict[str, str] = {}
    recent = latest(cur.place)
    if recent is not None:
        options["latest"] = f"Latest run: {recent.name}" + (" (saved)" if recent.run_id else "")
    for info in saved_runs(cur.place):
        if recent is not None and recent.run_id == info.run_id:
            continue
        options[f"saved:{info.run_id}"] = f"Saved: {info.label}"
    if not options:
        return None
    choice = st.selectbox(label, list(options), format_func=options.get, key=key)
    if choice == "latest":
        return recent
    return load_saved(int(str(choice).split(":", 1)[1]))


# ---------------------------------------------------------------------- display
def show_kpis(summary: dict[str, Any], buildings: pd.DataFrame | None, *, key: str = "kpis") -> None:
    """The KPI cards: two rows of five, modelled figures labelled as such."""
    cards = kpi_cards(summary, buildings)
    for start in range(0, len(cards), 5):
        columns = st.columns(5)
        for column, card in zip(columns, cards[start : start + 5], strict=False):
            label = f"{card.label} (modelled)" if card.modelled else card.label
            column.metric(label, card.value, help=card.note, border=True)
    st.caption(MODELLED_NOTE)


def show_status(summary: dict[str, Any]) -> None:
    """The solver status in a board's terms (`optimiser.report.words.status_of`), coloured by what
    it means: proven optimal green, a gap or time limit amber, stopped or no plan red. The
    relative-to-net-present-cost figure is a caption, for analysts."""
    status = status_of(summary)
    solver = summary.get("solver", "")
    time_s = summary.get("time_s")
    detail = f"{solver}" + (f", {float(time_s):.1f} s" if time_s is not None else "")
    text = f"Solution: **{status.headline}**: {status.sentence} ({detail})."
    {"good": st.success, "caution": st.warning, "bad": st.error}[status.tone](text)
    if status.detail:
        st.caption(f"For analysts: {status.detail}.")


def bundled_scenarios() -> dict[str, Path]:
    """The example scenario files shipped in data/scenarios."""
    folder = DATA_DIR / "scenarios"
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.exists() else {}


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    page_guard()
