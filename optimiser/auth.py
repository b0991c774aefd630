"""Access control for a shared deployment: users, roles, password hashes, login throttling.

No Streamlit: the app (``pages/common.py``) and the CLI (``python -m optimiser users``) both
call this module.

Modes, chosen by the environment variable ``ESTATE_APP_AUTH``:

- unset, empty or ``off``: no login; the single local user may do everything (as before);
- ``users``: a login form; user names and password hashes come from the users file;
- ``oidc``: the organisation's OpenID Connect provider, through Streamlit's ``st.login``;
  the users file maps each user's e-mail address to a role.

Any other value is refused (the app then shows nothing but the message): a typo never opens
the app.

The users file is ``users.toml`` in the app's data directory (``$ESTATE_APP_DATA``, see
`optimiser.store.default_data_dir`), written with mode 0600::

    version = 1

    [users.alice]
    role = "admin"
    email = "alice@example.org"
    password = "scrypt:131072:8:1$<salt, base64>$<key, base64>"
    created = "2026-01-05T09:30:00+00:00"

Passwords are hashed with scrypt (``hashlib.scrypt``; N = 2^17, r = 8, p = 1, as OWASP
advises) and a random 16-byte salt per user, and checked with `hmac.compare_digest`. A user
without a ``password`` can only log in through OIDC. An unknown user name costs the same
hashing time as a known one, and gets the same message.

Roles, each with everything of the role before it:

- ``viewer``: the estate, results, Compare and the board pack (read only);
- ``officer``: also run, save and export (every data export), and load registers;
- ``admin``: also manage users, delete saved scenarios and read the audit trail.

`can` is the one role check; `require` raises `AccessDeniedError`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
import time
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from optimiser.errors import OptimiserError

AUTH_ENV = "ESTATE_APP_AUTH"
PROVIDER_ENV = "ESTATE_APP_OIDC_PROVIDER"
MODES = ("off", "users", "oidc")
USERS_FILE = "users.toml"
FILE_VERSION = 1

ROLES = ("viewer", "officer", "admin")
#: The least role that may do each action.
ACTIONS: dict[str, str] = {
    "view": "viewer",  # the estate, results, Compare
    "download_pack": "viewer",  # the board pack
    "run": "officer",  # run (and stop) a scenario
    "save": "officer",  # save a run
    "export": "officer",  # every data export: CSV, GeoJSON, GeoPackage, Excel, TOML
    "upload": "officer",  # load registers into the app
    "delete": "admin",  # delete a saved scenario
    "manage_users": "admin",
    "view_audit": "admin",
}
#: How each action reads in a message ("Your role (viewer) may not <words>.").
ACTION_WORDS = {
    "view": "see the estate and results",
    "download_pack": "download the board pack",
    "run": "run scenarios",
    "save": "save scenarios",
    "export": "export data",
    "upload": "load registers",
    "delete": "delete saved scenarios",
    "manage_users": "manage users",
    "view_audit": "read the audit trail",
}

NAME_PATTERN = r"[a-z0-9][a-z0-9_.@-]{0,63}"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
SCRYPT_N_RANGE = (2**14, 2**20)  # costs accepted from a users file (a bigger N would exhaust memory)
SALT_BYTES, KEY_BYTES = 16, 32
_HASHING = threading.BoundedSemaphore(2)  # at most two 128 MiB scrypt runs at once

MAX_FAILURES = 5  # failed logins in a row before a user name is locked
LOCK_S = 15 * 60.0


class AuthError(OptimiserError):
    """Bad users file, bad user details, a refused login or a refused action."""

    exit_code = 2


class LoginError(AuthError):
    """A login was refused (wrong name or password, or locked after too many failures)."""


class AccessDeniedError(AuthError):
    """A user's role does not allow an action."""


@dataclass(frozen=True)
class User:
    """One user of the app.

    Attributes
    ----------
    name
        Lower-case user name (`NAME_PATTERN`).
    role
        One of `ROLES`.
    email
        For OIDC logins (matched without regard to case); may be blank.
    password_hash
        The scrypt hash (`hash_password`); blank for a user who logs in only through OIDC.
    created
        When the user was added (UTC, ISO 8601).

    """

    name: str
    role: str
    email: str = ""
    password_hash: str = ""
    created: str = ""

    def __repr__(self) -> str:  # never show the hash
        return f"User(name={self.name!r}, role={self.role!r}, email={self.email!r})"


LOCAL_USER = User(name="local", role="admin")  # login off: the one local user may do everything


# ---------------------------------------------------------------------- the setting
def auth_mode(environ: Mapping[str, str] | None = None) -> str:
    """The login mode from ``ESTATE_APP_AUTH``: ``off``, ``users`` or ``oidc``.

    Raises
    ------
    AuthError
        For any other value.

    """
    env = os.environ if environ is None else environ
    value = env.get(AUTH_ENV, "").strip().lower()
    if value in ("", "off"):
        return "off"
    if value in MODES:
        return value
    msg = (
        f"{AUTH_ENV} = {env.get(AUTH_ENV)!r} is not a login mode: use 'users' (user names and "
        "passwords), 'oidc' (the organisation's login) or 'off' (one local user). "
        "See docs/deployment.md."
    )
    raise AuthError(msg)


def oidc_provider(environ: Mapping[str, str] | None = None) -> str | None:
    """The named provider for ``st.login`` (``ESTATE_APP_OIDC_PROVIDER``), or None for ``[auth]``."""
    env = os.environ if environ is None else environ
    value = env.get(PROVIDER_ENV, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        msg = (
            f"{PROVIDER_ENV} = {value!r}: a provider name may only use A-Z a-z 0-9 and - "
            "(Streamlit does not allow '_'); it names an [auth.NAME] section of secrets.toml."
        )
        raise AuthError(msg)
    return value


def users_path() -> Path:
    """The users file: ``users.toml`` in the app's data directory."""
    from optimiser.store import default_data_dir  # the store pulls in pandas and PuLP

    return default_data_dir() / USERS_FILE


# ---------------------------------------------------------------------- roles
def can(user: User | None, action: str) -> bool:
    """Whether `user` may do `action` (one of `ACTIONS`); nobody may do anything when None."""
    if action not in ACTIONS:
        msg = f"unknown action {action!r}; known: {', '.join(ACTIONS)}"
        raise ValueError(msg)
    if user is None or user.role not in ROLES:
        return False
    return ROLES.index(user.role) >= ROLES.index(ACTIONS[action])


def require(user: User | None, action: str) -> None:
    """Raise `AccessDeniedError` unless `user` may do `action`."""
    if not can(user, action):
        who = "Nobody is logged in" if user is None else f"Your role ({user.role})"
        need = ACTIONS[action]
        msg = f"{who}: you may not {ACTION_WORDS[action]}; that needs the {need} role. Ask an admin."
        raise AccessDeniedError(msg)


# ---------------------------------------------------------------------- passwords
def check_password_rules(password: str) -> None:
    """Raise `AuthError` if `password` is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = (
            f"The password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(three random words make a good one)."
        )
        raise AuthError(msg)
    if len(password) > MAX_PASSWORD_LENGTH:
        msg = f"The password has {len(password):,} characters; use at most {MAX_PASSWORD_LENGTH:,}."
        raise AuthError(msg)


def hash_password(password: str, *, cost: int | None = None) -> str:
    """The scrypt hash of `password` with a fresh random salt, as stored in the users file.

    `cost` is scrypt's N (a power of two in `SCRYPT_N_RANGE`); the default, `SCRYPT_N`, is the
    one to use.
    """
    cost = SCRYPT_N if cost is None else cost
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, cost, SCRYPT_R, SCRYPT_P)
    return f"scrypt:{cost}:{SCRYPT_R}:{SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (constant-time comparison).

    Raises
    ------
    AuthError
        If `stored` is not a hash this module wrote.

    """
    n, r, p, salt, key = _parse_hash(stored)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[: MAX_PASSWORD_LENGTH + 1]  # still hashed, still wrong
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, length=len(key)), key)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, *, length: int = KEY_BYTES) -> bytes:
    with _HASHING:
        return hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=length
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    found = re.fullmatch(r"scrypt:(\d+):(\d+):(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)", stored)
    if not found:
        msg = "is not a password hash written by `python -m optimiser users` (scrypt:N:r:p$salt$key)"
        raise AuthError(msg)
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    low, high = SCRYPT_N_RANGE
    if not (low <= n <= high and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        msg = f"has scrypt costs N={n}, r={r}, p={p}; N must be a power of two from {low} to {high}"
        raise AuthError(msg)
    try:
        salt = base64.b64decode(found.group(4), validate=True)
        key = base64.b64decode(found.group(5), validate=True)
    except (binascii.Error, ValueError) as err:
        msg = f"has a salt or key that is not base64 ({err})"
        raise AuthError(msg) from err
    if len(salt) < 8 or len(key) < 16:
        msg = f"has a {len(salt)}-byte salt and a {len(key)}-byte key; at least 8 and 16 are needed"
        raise AuthError(msg)
    return n, r, p, salt, key


_DUMMY_HASH: list[str] = []  # hashed once, on the first unknown name


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


# ---------------------------------------------------------------------- throttling
class Throttle:
    """Locks a user name after `max_failures` failed logins in a row, for `lock_s` seconds.

    Counts per user name (known or not), in memory, shared by every session of one server.
    `clock` gives the time in seconds (``time.monotonic``; tests pass their own). At most
    `max_names` names are tracked: the oldest unlocked ones are forgotten first.
    """

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        lock_s: float = LOCK_S,
        clock: Callable[[], float] = time.monotonic,
        max_names: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._clock = clock
        self._max_names = max_names
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # name -> (count, locked until)
        self._lock = threading.Lock()

    def locked_for(self, name: str) -> float:
        """Seconds until `name` may try again (0 when it may now)."""
        with self._lock:
            count, until = self._failures.get(_key(name), (0, 0.0))
            if count < self.max_failures:
                return 0.0
            left = until - self._clock()
            if left <= 0:  # the lock has run out: a fresh set of tries
                self._failures.pop(_key(name), None)
                return 0.0
            return left

    def failed(self, name: str) -> None:
        """Count a failed login for `name`; the last allowed failure locks it."""
        key = _key(name)
        with self._lock:
            count, _ = self._failures.pop(key, (0, 0.0))
            count += 1
            until = self._clock() + self.lock_s if count >= self.max_failures else 0.0
            self._failures[key] = (count, until)
            while len(self._failures) > self._max_names:  # forget plain counts before live locks
                now = self._clock()
                live = (c >= self.max_failures and u > now for c, u in self._failures.values())
                names = list(self._failures)
                victim = next((n for n, is_live in zip(names, live, strict=True) if not is_live), names[0])
                del self._failures[victim]

    def succeeded(self, name: str) -> None:
        """Forget `name`'s failures."""
        with self._lock:
            self._failures.pop(_key(name), None)


def _key(name: str) -> str:
    return name.strip().lower()


def authenticate(users: Mapping[str, User], name: str, password: str, *, throttle: Throttle) -> User:
    """The user whose name and password these are.

    Raises
    ------
    LoginError
        Wrong name or password (the same message for both), a user without a password, or a
        name locked by `throttle` after too many failures. A locked name is refused without
        checking the password.

    """
    key = _key(name)
    left = throttle.locked_for(key)
    if left > 0:
        minutes = max(1, round(left / 60))
        msg = (
            f"Too many failed logins for {key!r}: try again in about {minutes} minute(s), "
            "or ask an admin to check the account."
        )
        raise LoginError(msg)
    user = users.get(key)
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    matched = verify_password(password, stored) and user is not None and bool(user.password_hash)
    if not matched or user is None:
        throttle.failed(key)
        msg = "Wrong user name or password."
        raise LoginError(msg)
    throttle.succeeded(key)
    return user


def user_for_claims(users: Mapping[str, User], claims: Mapping[str, Any]) -> User:
    """The user an OIDC identity (``st.user``) maps to, by e-mail address, without regard to case.

    Raises
    ------
    LoginError
        Not logged in, no e-mail address in the identity token, an address the provider marks
        unverified, or an address that is not in the users file.

    """
    if not claims.get("is_logged_in"):
        msg = "Not logged in."
        raise LoginError(msg)
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        msg = (
            "The organisation's login gave no e-mail address, so no role can be found. Ask the "
            "provider's administrator to include the 'email' claim (scope 'email')."
        )
        raise LoginError(msg)
    if claims.get("email_verified") is False:
        msg = f"The provider says {email} is not verified; verify it with the provider first."
        raise LoginError(msg)
    found = [u for u in users.values() if u.email and u.email.lower() == email]
    if len(found) != 1:
        what = "is not a user of this app" if not found else "belongs to more than one user"
        msg = (
            f"{email} {what}. Ask an admin to add you: python -m optimiser users add NAME "
            f"--role viewer --email {email} --no-password"
        )
        raise LoginError(msg)
    return found[0]


# ---------------------------------------------------------------------- the users file
def load_users(path: str | Path) -> dict[str, User]:
    """The users in `path`, by name; empty when the file does not exist.

    Raises
    ------
    AuthError
        If the file cannot be read or any entry is malformed; the message names the file,
        the user, the key and the value, and says how to fix it.

    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        msg = f"Cannot read the users file {path} ({err}); check it is a UTF-8 text file you can read."
        raise AuthError(msg) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = f"The users file {path} is not valid TOML ({err}); fix it, or remove it and add users again."
        raise AuthError(msg) from err
    fix = "fix it with `python -m optimiser users` (see docs/deployment.md)"
    version = data.get("version", FILE_VERSION)
    if version != FILE_VERSION:
        msg = f"{path}: version = {version!r}; this app reads version {FILE_VERSION}."
        raise AuthError(msg)
    unknown = sorted(set(data) - {"version", "users"})
    if unknown:
        msg = f"{path}: unknown key(s) {', '.join(map(repr, unknown))} at the top; only version and [users.NAME]."
        raise AuthError(msg)
    table = data.get("users", {})
    if not isinstance(table, dict):
        msg = f"{path}: users = {table!r} must be a table of [users.NAME] sections; {fix}."
        raise AuthError(msg)
    users: dict[str, User] = {}
    problems: list[str] = []
    for name, entry in table.items():
        found = _entry_problems(name, entry)
        problems += found
        if not found:
            users[name] = User(
                name,
                entry["role"],
                entry.get("email", ""),
                entry.get("password", ""),
                entry.get("created", ""),
            )
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        msg = f"The users file {path} has {len(problems)} problem(s); {fix}:\n{shown}{more}"
        raise AuthError(msg)
    return users


def _entry_problems(name: str, entry: Any) -> list[str]:
    """What is wrong with one [users.NAME] section."""
    where = f"[users.{name}]"
    if not re.fullmatch(NAME_PATTERN, name):
        return [f"{where}: the name {name!r} must be lower case a-z 0-9 _ . @ - (at most 64)"]
    if not isinstance(entry, dict):
        return [f"{where}: {entry!r} must be a table with role, email and password"]
    problems = []
    extra = sorted(set(entry) - {"role", "email", "password", "created"})
    if extra:
        problems.append(f"{where}: unknown key(s) {', '.join(map(repr, extra))}")
    role, email = entry.get("role"), entry.get("email", "")
    password, created = entry.get("password", ""), entry.get("created", "")
    if role not in ROLES:
        problems.append(f"{where}: role = {role!r}; use one of {', '.join(ROLES)}")
    if not isinstance(email, str) or (email and not re.fullmatch(EMAIL_PATTERN, email)):
        problems.append(f"{where}: email = {email!r} is not an e-mail address")
    if not isinstance(password, str):
        problems.append(f"{where}: password = {password!r} must be text (a hash)")
    elif password:
        try:
            _parse_hash(password)
        except AuthError as err:
            problems.append(f"{where}: password {err}")
    if not isinstance(created, str):
        problems.append(f"{where}: created = {created!r} must be text (a date)")
    return problems


def save_users(path: str | Path, users: Mapping[str, User]) -> None:
    """Write `users` to `path` whole (a temporary file, then a rename), readable only by its owner."""
    path = Path(path)
    data: dict[str, Any] = {"version": FILE_VERSION, "users": {}}
    for name in sorted(users):
        u = users[name]
        entry = {"role": u.role, "email": u.email, "password": u.password_hash, "created": u.created}
        data["users"][name] = {k: v for k, v in entry.items() if v}
    text = (
        "# Users of the Public Estate Optimiser: manage with `python -m optimiser users`.\n"
        "# Keep this file private (it holds password hashes).\n" + tomli_w.dumps(data)
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as err:
        msg = f"Cannot write the users file {path} ({err}); set ESTATE_APP_DATA to a folder you can write to."
        raise AuthError(msg) from err


@contextlib.contextmanager
def _editing(path: Path) -> Iterator[dict[str, User]]:
    """Load, change and save the users file, holding a lock so that two edits never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a", encoding="utf-8") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: edits are rare and each write is still whole
            pass
        users = load_users(path)
        yield users
        save_users(path, users)


def _name(name: str) -> str:
    key = _key(name)
    if not re.fullmatch(NAME_PATTERN, key):
        msg = f"User name {name!r}: use 1-64 lower-case letters, digits or _ . @ - (starting with a letter or digit)."
        raise AuthError(msg)
    return key


def _role(role: str) -> str:
    if role not in ROLES:
        msg = f"Role {role!r}: use one of {', '.join(ROLES)}."
        raise AuthError(msg)
    return role


def _email(email: str) -> str:
    email = email.strip()
    if email and not re.fullmatch(EMAIL_PATTERN, email):
        msg = f"E-mail {email!r} is not an e-mail address (name@organisation.example)."
        raise AuthError(msg)
    return email


def _existing(users: Mapping[str, User], name: str, path: Path) -> User:
    user = users.get(name)
    if user is None:
        known = ", ".join(sorted(users)) or "none yet"
        msg = f"No user {name!r} in {path} (users: {known})."
        raise AuthError(msg)
    return user


def _keep_an_admin(users: Mapping[str, User], path: Path, what: str) -> None:
    if users and not any(u.role == "admin" for u in users.values()):
        msg = f"Refused: {what} would leave {path} without an admin. Make another user admin first."
        raise AuthError(msg)


def add_user(path: str | Path, name: str, *, role: str, password: str | None = None, email: str = "") -> User:
    """Add a user (with a password, or OIDC-only with `password` None and an `email`)."""
    path, name, role, email = Path(path), _name(name), _role(role), _email(email)
    if password is None and not email:
        msg = f"User {name!r} needs a password, or an e-mail address to log in through OIDC."
        raise AuthError(msg)
    if password is not None:
        check_password_rules(password)
    hashed = hash_password(password) if password is not None else ""
    with _editing(path) as users:
        if name in users:
            msg = f"User {name!r} is already in {path}; use set-role or set-password to change it."
            raise AuthError(msg)
        if email and any(u.email.lower() == email.lower() for u in users.values()):
            msg = f"E-mail {email!r} already belongs to another user in {path}."
            raise AuthError(msg)
        user = User(name, role, email, hashed, datetime.now(UTC).isoformat(timespec="seconds"))
        users[name] = user
    return user


def remove_user(path: str | Path, name: str) -> User:
    """Remove a user; refused if it would leave no admin."""
    path, name = Path(path), _key(name)
    with _editing(path) as users:
        user = _existing(users, name, path)
        del users[name]
        _keep_an_admin(users, path, f"removing {name!r}")
    return user


def set_role(path: str | Path, name: str, role: str) -> User:
    """Change a user's role; refused if it would leave no admin."""
    path, name, role = Path(path), _key(name), _role(role)
    with _editing(path) as users:
        user = replace(_existing(users, name, path), role=role)
        users[name] = user
        _keep_an_admin(users, path, f"making {name!r} {role}")
    return user


def set_password(path: str | Path, name: str, password: str) -> User:
    """Give a user a new password."""
    path, name = Path(path), _key(name)
    check_password_rules(password)
    hashed = hash_password(password)
    with _editing(path) as users:
        user = replace(_existing(users, name, path), password_hash=hashed)
        users[name] = user
    return user


def find_user(path: str | Path, name: str) -> User:
    """The user `name` (case ignored) in the users file at `path`.

    Raises
    ------
    AuthError
        No such user; the message names the file and the users it holds.

    """
    path = Path(path)
    return _existing(load_users(path), _key(name), path)
