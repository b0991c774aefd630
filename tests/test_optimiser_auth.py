"""optimiser.auth: password hashes, roles, login throttling, the users file and its CLI."""

from __future__ import annotations

import io
import json
import stat
import sys

import pytest

from optimiser import auth
from optimiser.auth import (
    AccessDeniedError,
    AuthError,
    LoginError,
    Throttle,
    User,
    add_user,
    authenticate,
    can,
    hash_password,
    load_users,
    remove_user,
    require,
    set_password,
    set_role,
    user_for_claims,
    verify_password,
)
from optimiser.cli import main

PASSWORD = "correct horse battery"  # 21 characters
CHEAP = 2**14  # the least cost a users file may hold; the default (2**17) is tested on its own


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """Hash at the least accepted cost, so that the many hashes here stay quick."""
    monkeypatch.setattr(auth, "SCRYPT_N", CHEAP)


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "ann", role="admin", password=PASSWORD)
    add_user(path, "otto", role="officer", password=PASSWORD + " o")
    add_user(path, "vic", role="viewer", password=PASSWORD + " v", email="Vic@Example.org")
    return path


class Clock:
    """A clock the test moves by hand: no waiting, no timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------------ hashing
def test_a_password_verifies_against_its_own_hash_only():
    stored = hash_password(PASSWORD)

    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert not verify_password("", stored)


def test_the_default_hash_is_scrypt_at_owasp_cost_with_a_fresh_salt(monkeypatch):
    monkeypatch.undo()  # the real default cost
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)

    assert first.startswith("scrypt:131072:8:1$")
    assert first != second  # a random salt per hash
    assert first.split("$")[1] != second.split("$")[1]
    assert verify_password(PASSWORD, first)


def test_verification_compares_in_constant_time(monkeypatch):
    calls = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    verify_password("wrong password here", hash_password(PASSWORD))

    assert len(calls) == 1


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ("plain text", "is not a password hash"),
        ("scrypt:1024:8:1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "N must be a power of two"),
        ("scrypt:33554432:8:1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "N=33554432"),
        ("scrypt:16384:8:1$AA==$" + "A" * 44, "1-byte salt"),
    ],
)
def test_a_hash_this_module_did_not_write_is_refused(stored, problem):
    with pytest.raises(AuthError, match=problem):
        verify_password(PASSWORD, stored)


# ------------------------------------------------------------------------------ roles
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"view", "download_pack"}),
        ("officer", {"view", "download_pack", "run", "save", "export", "upload"}),
        ("admin", set(auth.ACTIONS)),
    ],
)
def test_each_role_may_do_exactly_its_actions(role, allowed):
    user = User("someone", role)

    assert {action for action in auth.ACTIONS if can(user, action)} == allowed


def test_nobody_and_an_unknown_role_may_do_nothing():
    assert not any(can(None, action) for action in auth.ACTIONS)
    assert not any(can(User("x", "superuser"), action) for action in auth.ACTIONS)


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action 'launch'"):
        can(User("x", "admin"), "launch")


def test_require_says_which_role_is_needed():
    with pytest.raises(
        AccessDeniedError,
        match=r"Your role \(viewer\): you may not run scenarios; that needs the officer role",
    ):
        require(User("vic", "viewer"), "run")
    with pytest.raises(AccessDeniedError, match="Nobody is logged in"):
        require(None, "view")
    require(User("ann", "admin"), "delete")


# ------------------------------------------------------------------------------ the setting
@pytest.mark.parametrize(
    ("value", "mode"), [(None, "off"), ("", "off"), ("off", "off"), ("users", "users"), (" OIDC ", "oidc")]
)
def test_the_login_mode_comes_from_the_environment(value, mode):
    environ = {} if value is None else {"ESTATE_APP_AUTH": value}

    assert auth.auth_mode(environ) == mode


def test_a_mistyped_login_mode_is_refused_not_taken_as_off():
    with pytest.raises(AuthError, match="ESTATE_APP_AUTH = 'user' is not a login mode: use 'users'"):
        auth.auth_mode({"ESTATE_APP_AUTH": "user"})


def test_an_oidc_provider_name_may_not_hold_an_underscore():
    assert auth.oidc_provider({}) is None
    assert auth.oidc_provider({"ESTATE_APP_OIDC_PROVIDER": "microsoft"}) == "microsoft"
    with pytest.raises(AuthError, match="'my_idp'.*Streamlit does not allow '_'"):
        auth.oidc_provider({"ESTATE_APP_OIDC_PROVIDER": "my_idp"})


def test_the_users_file_lives_in_the_app_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATE_APP_DATA", str(tmp_path / "data"))

    assert auth.users_path() == tmp_path / "data" / "users.toml"


# ------------------------------------------------------------------------------ logging in
def test_the_right_name_and_password_log_in_whatever_the_name_case(users_file):
    user = authenticate(load_users(users_file), " Otto ", PASSWORD + " o", throttle=Throttle())

    assert (user.name, user.role) == ("otto", "officer")


def test_a_wrong_password_and_an_unknown_name_get_the_same_message(users_file):
    users, throttle = load_users(users_file), Throttle()

    with pytest.raises(LoginError) as wrong:
        authenticate(users, "otto", "not the password", throttle=throttle)
    with pytest.raises(LoginError) as unknown:
        authenticate(users, "nobody", "not the password", throttle=throttle)

    assert str(wrong.value) == str(unknown.value) == "Wrong user name or password."


def test_a_user_without_a_password_cannot_log_in_with_one(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "olga", role="admin", email="olga@example.org")

    with pytest.raises(LoginError, match="Wrong user name or password"):
        authenticate(load_users(path), "olga", "", throttle=Throttle())


def test_five_failures_lock_a_name_even_against_the_right_password(users_file):
    users, clock = load_users(users_file), Clock()
    throttle = Throttle(max_failures=5, lock_s=900, clock=clock)
    for _ in range(5):
        with pytest.raises(LoginError, match="Wrong user name or password"):
            authenticate(users, "otto", "guess", throttle=throttle)

    with pytest.raises(LoginError, match=r"Too many failed logins for 'otto': try again in about 15 minute"):
        authenticate(users, "otto", PASSWORD + " o", throttle=throttle)
    assert authenticate(users, "ann", PASSWORD, throttle=throttle).name == "ann"  # other names unaffected


def test_a_lock_runs_out_and_a_success_clears_the_count(users_file):
    users, clock = load_users(users_file), Clock()
    throttle = Throttle(max_failures=3, lock_s=600, clock=clock)
    for _ in range(3):
        throttle.failed("otto")
    clock.now += 599
    assert throttle.locked_for("otto") == pytest.approx(1)

    clock.now += 2
    assert authenticate(users, "otto", PASSWORD + " o", throttle=throttle).name == "otto"
    for _ in range(2):
        throttle.failed("otto")
    throttle.succeeded("otto")
    throttle.failed("otto")
    throttle.failed("otto")
    assert throttle.locked_for("otto") == 0  # two in a row since the success: not locked


def test_the_throttle_forgets_plain_counts_before_live_locks():
    clock = Clock()
    throttle = Throttle(max_failures=2, lock_s=60, clock=clock, max_names=3)
    throttle.failed("locked")
    throttle.failed("locked")
    for name in ("a", "b", "c", "d"):
        throttle.failed(name)

    assert throttle.locked_for("locked") > 0
    assert len(throttle._failures) == 3


# ------------------------------------------------------------------------------ OIDC
def test_an_oidc_identity_maps_to_a_user_by_email_without_regard_to_case(users_file):
    user = user_for_claims(load_users(users_file), {"is_logged_in": True, "email": "vic@EXAMPLE.org"})

    assert (user.name, user.role) == ("vic", "viewer")


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"is_logged_in": False, "email": "vic@example.org"}, "Not logged in"),
        ({"is_logged_in": True}, "gave no e-mail address"),
        ({"is_logged_in": True, "email": "vic@example.org", "email_verified": False}, "not verified"),
        (
            {"is_logged_in": True, "email": "eve@example.org"},
            "eve@example.org is not a user of this app.*--email eve@example.org --no-password",
        ),
    ],
)
def test_an_oidc_identity_without_a_verified_known_email_is_refused(users_file, claims, problem):
    with pytest.raises(LoginError, match=problem):
        user_for_claims(load_users(users_file), claims)


# ------------------------------------------------------------------------------ the users file
def test_users_are_added_listed_changed_and_removed(users_file):
    assert {u.name: u.role for u in load_users(users_file).values()} == {
        "ann": "admin",
        "otto": "officer",
        "vic": "viewer",
    }
    set_role(users_file, "vic", "officer")
    set_password(users_file, "otto", "a brand new password")
    users = load_users(users_file)

    assert users["vic"].role == "officer"
    assert verify_password("a brand new password", users["otto"].password_hash)
    assert users["vic"].email == "Vic@Example.org" and users["vic"].created
    remove_user(users_file, "vic")
    assert set(load_users(users_file)) == {"ann", "otto"}


def test_the_users_file_is_readable_by_its_owner_only_and_holds_no_password(users_file):
    mode = stat.S_IMODE(users_file.stat().st_mode)
    text = users_file.read_text()

    assert mode == 0o600
    assert PASSWORD not in text and 'password = "scrypt:' in text


def test_a_missing_users_file_has_no_users(tmp_path):
    assert load_users(tmp_path / "none.toml") == {}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda p: add_user(p, "otto", role="viewer", password=PASSWORD), "'otto' is already in"),
        (lambda p: add_user(p, "Bad Name", role="viewer", password=PASSWORD), "User name 'Bad Name'"),
        (
            lambda p: add_user(p, "zoe", role="boss", password=PASSWORD),
            "Role 'boss': use one of viewer, officer, admin",
        ),
        (lambda p: add_user(p, "zoe", role="viewer", password="short"), "has 5 characters; use at least 12"),
        (lambda p: add_user(p, "zoe", role="viewer"), "needs a password, or an e-mail address"),
        (lambda p: add_user(p, "zoe", role="viewer", email="nope"), "E-mail 'nope' is not an e-mail address"),
        (
            lambda p: add_user(p, "zoe", role="viewer", email="VIC@example.org"),
            "already belongs to another user",
        ),
        (lambda p: set_role(p, "zoe", "viewer"), r"No user 'zoe' in .*users.toml \(users: ann, otto, vic\)"),
        (lambda p: set_role(p, "ann", "officer"), "making 'ann' officer would leave .* without an admin"),
        (lambda p: remove_user(p, "ann"), "removing 'ann' would leave .* without an admin"),
    ],
)
def test_a_bad_change_to_the_users_file_is_refused_and_changes_nothing(users_file, change, problem):
    before = users_file.read_text()

    with pytest.raises(AuthError, match=problem):
        change(users_file)

    assert users_file.read_text() == before


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("users = [", r"users.toml is not valid TOML \("),
        ("version = 7\n", "version = 7; this app reads version 1"),
        ("admins = 1\n", "unknown key\\(s\\) 'admins' at the top"),
        ("users = 3\n", "users = 3 must be a table"),
        ('[users.BOB]\nrole = "viewer"\n', r"\[users.BOB\]: the name 'BOB' must be lower case"),
        (
            "[users.bob]\nrole = 'chief'\n",
            r"\[users.bob\]: role = 'chief'; use one of viewer, officer, admin",
        ),
        ("[users.bob]\nrole = 'viewer'\nemail = 5\n", r"\[users.bob\]: email = 5 is not an e-mail address"),
        (
            "[users.bob]\nrole = 'viewer'\npassword = 'hunter2'\n",
            r"\[users.bob\]: password is not a password hash",
        ),
        ("[users.bob]\nrole = 'viewer'\npasswd = 'x'\n", r"\[users.bob\]: unknown key\(s\) 'passwd'"),
    ],
)
def test_a_bad_users_file_gets_a_message_naming_file_user_key_and_value(tmp_path, text, problem):
    path = tmp_path / "users.toml"
    path.write_text(text)

    with pytest.raises(AuthError, match=problem) as err:
        load_users(path)

    assert str(path) in str(err.value)
    assert path.read_text() == text  # never rewritten


def test_every_problem_of_a_users_file_is_reported_at_once(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text("[users.a]\nrole = 'x'\n[users.b]\nrole = 'y'\n")

    with pytest.raises(AuthError, match=r"has 2 problem\(s\)") as err:
        load_users(path)
    assert "[users.a]" in str(err.value) and "[users.b]" in str(err.value)


def test_a_users_file_that_is_not_text_gets_a_message(tmp_path):
    path = tmp_path / "users.toml"
    path.write_bytes(b"\xff\xfe\x00binary")

    with pytest.raises(AuthError, match="Cannot read the users file .*UTF-8"):
        load_users(path)


# ------------------------------------------------------------------------------ CLI
def _cli(monkeypatch, capsys, argv, *, stdin="", tty=False):
    fake = io.StringIO(stdin)
    fake.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", fake)
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_cli_adds_a_user_reading_the_password_from_stdin_not_argv(monkeypatch, capsys, tmp_path):
    path = tmp_path / "users.toml"
    code, out, _ = _cli(
        monkeypatch,
        capsys,
        ["users", "--file", str(path), "add", "Alice", "--role", "admin", "--password-stdin"],
        stdin=PASSWORD + "\n",
    )

    assert code == 0 and "added alice (admin)" in out
    assert authenticate(load_users(path), "alice", PASSWORD, throttle=Throttle()).role == "admin"


def test_the_cli_prompts_for_the_password_twice_without_echo(monkeypatch, capsys, tmp_path):
    path = tmp_path / "users.toml"
    typed = iter([PASSWORD, PASSWORD])
    prompts = []
    monkeypatch.setattr("optimiser.cli.getpass.getpass", lambda prompt: prompts.append(prompt) or next(typed))
    code, _, _ = _cli(
        monkeypatch, capsys, ["users", "--file", str(path), "add", "bob", "--role", "viewer"], tty=True
    )

    assert code == 0 and prompts == ["Password for bob: ", "Again: "]
    assert verify_password(PASSWORD, load_users(path)["bob"].password_hash)


def test_the_cli_refuses_to_prompt_without_a_terminal(monkeypatch, capsys, tmp_path):
    path = tmp_path / "users.toml"
    code, _, err = _cli(monkeypatch, capsys, ["users", "--file", str(path), "add", "bob", "--role", "viewer"])

    assert code == 2 and "No terminal to ask for the password" in err and "--password-stdin" in err
    assert not path.exists()


def test_the_cli_has_no_password_argument():
    with pytest.raises(SystemExit):
        main(["users", "add", "bob", "--role", "viewer", "--password", PASSWORD])


def test_the_cli_lists_changes_and_removes_users_without_showing_hashes(monkeypatch, capsys, users_file):
    base = ["users", "--file", str(users_file)]
    assert _cli(monkeypatch, capsys, [*base, "set-role", "vic", "officer"])[:2] == (0, "vic is now officer\n")
    code, out, _ = _cli(monkeypatch, capsys, [*base, "list", "--json"])
    rows = json.loads(out)

    assert code == 0
    assert {r["name"]: r["role"] for r in rows} == {"ann": "admin", "otto": "officer", "vic": "officer"}
    assert "scrypt" not in out and all(r["password"] is True for r in rows)
    assert _cli(monkeypatch, capsys, [*base, "remove", "vic"])[0] == 0
    code, _, err = _cli(monkeypatch, capsys, [*base, "remove", "ann"])
    assert code == 2 and "removing 'ann' would leave" in err and "without an admin" in err


def test_the_cli_gives_exit_2_and_a_message_for_a_bad_users_file(monkeypatch, capsys, tmp_path):
    path = tmp_path / "users.toml"
    path.write_text("[users.bob]\nrole = 'chief'\n")
    code, _, err = _cli(monkeypatch, capsys, ["users", "--file", str(path), "list"])

    assert code == 2
    assert "role = 'chief'" in err and "Traceback" not in err
