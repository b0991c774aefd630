"""Typed keys of settings files (scenarios, column mappings, sweep grids), and reading them.

A `Key` says what one setting may hold: its type, its range, and whether it may be left out.
`Key.check` returns the value in its own type (int, float, bool, str, tuple of str) or raises
the caller's error class with one message naming the file, the key (``section.key``), the
value, what is allowed and how to fix it::

    s.toml: appraisal.start_year = "2026" is text, not a whole number. Allowed: a whole number
    from 1990 to 2100. Fix: write it without quotes: start_year = 2026.

Values are taken as typed, never guessed: a string is never a boolean (``enabled = "false"``
is refused, not read as true), a boolean is never a number (``years = true`` is refused,
although Python's ``bool`` is an ``int``), and numbers must be finite (``inf``, ``nan``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import numbers
import re
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from estate import limits

Kind = Literal["int", "float", "bool", "text", "texts", "choice"]
WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "text": "text",
    "texts": "a list of text",
    "choice": "one of the choices",
}


def shown(value: Any, *, limit: int = 60) -> str:
    """`value` as it would be written in TOML, cut to `limit` characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float):
        text = (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(shown(v, limit=limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {shown(v, limit=limit)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    """What a value is, in the words of a settings file: 'text', 'true/false', 'a table', ..."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true/false"
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "text"
    if isinstance(value, numbers.Integral):
        return "a whole number"
    if isinstance(value, numbers.Real):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return "a date or time"
    return type(value).__name__


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Key:
    """One setting: its name, type and allowed values.

    Parameters
    ----------
    name
        The key as written in the file.
    kind
        ``int``, ``float``, ``bool``, ``text``, ``texts`` (a list of text) or ``choice``.
    low, high
        Inclusive bounds for numbers (``low_open``/``high_open`` make them strict).
    choices
        Allowed values for ``choice``.
    optional
        The key may be left out (its value is then None: "off" or "not set").
    example
        A good value, shown in the fix.
    pattern
        Regular expression every text (or list item) must match, with `pattern_words`
        saying it in words.
    off
        What leaving an optional key out means, e.g. "no limit".
    sep
        Between name and value in messages: `` = `` in files, a space for command-line options.

    """

    name: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    example: Any = None
    pattern: str | None = None
    pattern_words: str = ""
    off: str = "not set"
    sep: str = " = "

    def allowed(self) -> str:
        """The allowed values, in words: 'a whole number from 1 to 100'."""
        if self.kind == "choice":
            text = "one of " + ", ".join(json.dumps(c) for c in self.choices)
        elif self.kind in ("int", "float"):
            text = WORDS[self.kind] + self._range()
        elif self.kind in ("text", "texts") and self.pattern:
            text = WORDS[self.kind] + f" ({self.pattern_words})"
        else:
            text = WORDS[self.kind]
        return text + (f", or leave the key out ({self.off})" if self.optional else "")

    def _range(self) -> str:
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            if not self.low_open and not self.high_open:
                return f" from {_num(lo)} to {_num(hi)}"
            start = f"above {_num(lo)}" if self.low_open else f"at least {_num(lo)}"
            end = f"below {_num(hi)}" if self.high_open else f"up to {_num(hi)}"
            return f" {start} and {end}"
        if lo is not None:
            return f" above {_num(lo)}" if self.low_open else f", {_num(lo)} or more"
        if hi is not None:
            return f" below {_num(hi)}" if self.high_open else f", {_num(hi)} or less"
        return ""

    def check(self, value: Any, *, source: str, where: str, error: type[Exception]) -> Any:
        """`value` in this key's type, or `error` naming `source`, ``where.name`` and the value."""
        if value is None and self.optional:
            return None
        try:
            return self._parse(value)
        except _Refused as refused:
            dotted = f"{where}.{self.name}" if where else self.name
            msg = (
                f"{source + ': ' if source else ''}{dotted}{self.sep}{shown(value)} {refused.problem}. "
                f"Allowed: {self.allowed()}. Fix: {refused.fix or self._example_fix()}."
            )
            raise error(msg) from None

    def _example_fix(self) -> str:
        fix = (
            f"e.g. {self.name}{self.sep}{shown(self.example)}"
            if self.example is not None
            else "correct the value"
        )
        return fix + (", or remove the line" if self.optional else "")

    def _parse(self, value: Any) -> Any:
        if self.kind in ("int", "float"):
            return self._parse_number(value)
        if self.kind == "bool":
            if isinstance(value, bool) or type(value).__name__ == "bool_":
                return bool(value)
            fix = ""
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                fix = f"write it without quotes: {self.name}{self.sep}{value.strip().lower()}"
            _refuse(f"is {kind_of(value)}, not true or false", fix)
        if self.kind in ("text", "choice"):
            if not isinstance(value, str):
                fix = (
                    f'put it in quotes: {self.name}{self.sep}"{value}"'
                    if isinstance(value, int | float)
                    else ""
                )
                _refuse(f"is {kind_of(value)}, not text", fix)
            if self.kind == "choice" and value not in self.choices:
                near = difflib.get_close_matches(value.lower(), self.choices, n=1)
                fix = f"{self.name}{self.sep}{shown(near[0])}" if near else ""
                _refuse("is not one of the choices", fix)
            self._match(value, item="")
            return value
        # texts
        if isinstance(value, str):
            _refuse("is text, not a list", f"put it in a list: {self.name}{self.sep}[{shown(value)}]")
        if not isinstance(value, list | tuple):
            _refuse(f"is {kind_of(value)}, not a list of text")
        for i, item in enumerate(value, start=1):
            if not isinstance(item, str):
                _refuse(f"has item {i} = {shown(item)}, which is {kind_of(item)}, not text")
            self._match(item, item=f"item {i} ")
        return tuple(value)

    def _match(self, text: str, *, item: str) -> None:
        if self.pattern and not re.fullmatch(self.pattern, text):
            what = f"has {item}= {shown(text)}, which is" if item else "is"
            _refuse(f"{what} not {self.pattern_words}")

    def _parse_number(self, value: Any) -> int | float:
        word = WORDS[self.kind]
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            _refuse(f"is true/false, not {word}")
        if isinstance(value, str):
            parsed = _number(value)
            fix = ""
            if parsed is not None and (self.kind == "float" or parsed.is_integer()):
                fix = f"write it without quotes: {self.name}{self.sep}{_plain_number(parsed, self.kind)}"
            _refuse(f"is text, not {word}", fix)
        if not isinstance(value, numbers.Real):
            _refuse(f"is {kind_of(value)}, not {word}")
        out: int | float
        if isinstance(value, numbers.Integral):  # exact, however large (float() could overflow)
            out = int(value)
            if self.kind == "float" and abs(out) > 1e308:
                _refuse("is out of range")
        else:
            number = float(value)
            if not math.isfinite(number):
                _refuse("is not a finite number")
            if self.kind == "int" and not number.is_integer():
                _refuse("is not a whole number", f"e.g. {self.name}{self.sep}{round(number)}")
            out = int(number) if self.kind == "int" else number
        lo, hi = self.low, self.high
        if (lo is not None and (out <= lo if self.low_open else out < lo)) or (
            hi is not None and (out >= hi if self.high_open else out > hi)
        ):
            _refuse("is out of range")
        return float(out) if self.kind == "float" else out


def _num(x: float) -> str:
    """2100 -> '2100'; 1000000 -> '1,000,000'; 1e12 -> '1e12'; 0.035 -> '0.035'."""
    if float(x).is_integer() and abs(x) < 1e7:
        return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))
    return re.sub(r"e\+?0*(\d)", r"e\1", f"{x:g}")


def _plain_number(value: float, kind: str) -> str:
    return str(int(value)) if kind == "int" else f"{value:g}"


def _refuse(problem: str, fix: str = "") -> NoReturn:
    raise _Refused(problem, fix)


class _Refused(Exception):
    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def nearest_hint(key: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the allowed key nearest `key`, or nothing when none is near."""
    near = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    return f" (did you mean {near[0]!r}?)" if near else ""


def unknown_key(source: str, where: str, key: Any, allowed: Iterable[str]) -> str:
    """The message for a key that is not allowed: the nearest allowed key, and all of them."""
    allowed = list(allowed)
    hint = nearest_hint(str(key), allowed)
    place = f"{where} has unknown key" if where else "unknown key"
    return f"{source}: {place} {str(key)!r}{hint}. Allowed keys: {', '.join(allowed)}."


def table(
    value: Any, *, source: str, where: str, error: type[Exception], fix: str = "give it keys, or remove it"
) -> dict[str, Any]:
    """`value` if it is a table (dict) of keys, else `error` naming `where`."""
    if isinstance(value, dict):
        return value
    what = "empty (null)" if value is None else f"{kind_of(value)} ({shown(value)})"
    msg = f"{source}: {where} is {what}, not a table of keys. Fix: {fix}."
    raise error(msg)


def check_keys(
    body: dict[str, Any], allowed: Iterable[str], *, source: str, where: str, error: type[Exception]
) -> None:
    """`error` for the first key of `body` that is not in `allowed`."""
    allowed = list(allowed)
    for key in body:
        if key not in allowed:
            raise error(unknown_key(source, where, key, allowed))


def read_text(path: str | Path, *, what: str, error: type[Exception]) -> str:
    """The UTF-8 text of a settings file, or `error` saying why it cannot be read.

    Missing, a folder, unreadable, larger than `MAX_SETTINGS_FILE_BYTES`, or not UTF-8: each
    is a message naming the file and the fix.
    """
    path = Path(path)
    check_file(path, what=what, error=error)
    _check_size(path.stat().st_size, f"{what} {path}", error)
    try:
        data = path.read_bytes()
    except OSError as err:
        msg = f"{what} {path}: cannot be read ({err.strerror or err}). Check the file's permissions."
        raise error(msg) from err
    return decode_text(data, name=f"{what} {path}", error=error)


def decode_text(data: bytes, *, name: str, error: type[Exception]) -> str:
    """Settings-file bytes (a file's, or an upload's) as text: size and UTF-8 checked alike."""
    _check_size(len(data), name, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = (
            f"{name}: not UTF-8 text (byte {data[err.start]:#04x} at position {err.start}). "
            "Save it as UTF-8 (plain text)."
        )
        raise error(msg) from err


def _check_size(size: int, name: str, error: type[Exception]) -> None:
    if size > limits.MAX_SETTINGS_FILE_BYTES:
        msg = (
            f"{name}: {size:,} bytes, more than the limit of {limits.MAX_SETTINGS_FILE_BYTES:,} for a "
            "settings file. Check that this is the right file (see docs/limits.md)."
        )
        raise error(msg)


def check_file(path: Path, *, what: str, error: type[Exception]) -> None:
    """`error` unless `path` is an existing, readable file (not a folder)."""
    try:
        if path.is_dir():
            msg = f"{what} {path}: is a folder, not a file. Give the path of the file itself."
            raise error(msg)
        if not path.exists():
            msg = f"{what} {path}: not found. Check the path (working directory: {Path.cwd()})."
            raise error(msg)
        with path.open("rb"):
            pass
    except OSError as err:
        msg = f"{what} {path}: cannot be read ({err.strerror or err}). Check the file's permissions."
        raise error(msg) from err


def check_out_folder(path: Path, *, what: str, error: type[Exception]) -> None:
    """`error` unless `path` is a folder that can be written, or one that can be made.

    Checked before any work, so that a run never fails at its very end. The check makes and
    removes a temporary folder in the nearest folder that exists (``os.access`` is no guide
    for root, nor on /proc); it leaves nothing behind.
    """
    if path.exists() and not path.is_dir():
        msg = (
            f"{what} {path}: is a file, not a folder. Give a folder for the outputs (it is made if missing)."
        )
        raise error(msg)
    base = path
    while not base.exists():
        base = base.parent
    try:
        if not base.is_dir():
            msg = f"{what} {path}: {base} is a file, not a folder. Give a folder for the outputs."
            raise error(msg)
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=base)).rmdir()
    except OSError as err:
        msg = (
            f"{what} {path}: cannot be written ({err.strerror or err} in {base}). Give a folder you "
            "can write to."
        )
        raise error(msg) from err


def read_toml(path: str | Path, *, what: str, error: type[Exception]) -> dict[str, Any]:
    """A TOML settings file as a dict; `error` names the file when it cannot be read or parsed."""
    path = Path(path)
    return parse_toml(read_text(path, what=what, error=error), name=f"{what} {path.name}", error=error)


def parse_toml(text: str, *, name: str, error: type[Exception]) -> dict[str, Any]:
    """TOML text as a dict; `error` names `name` and the line when it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = f"{name}: not valid TOML ({err}). Check the line it names."
        raise error(msg) from err
