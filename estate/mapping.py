"""Column mappings: turn a partner's own column names, values and ID formats into ours.

A mapping is a TOML or YAML file with one section per table::

    name = "transparency-code"

    [buildings.read]
    encoding = "latin-1"        # CSV text encoding
    crs = "EPSG:27700"          # CRS of CSV coordinates (default: guessed from the names)

    [buildings.columns]         # ours = theirs
    building_id = "AssetCode"
    easting = "GeoX"

    [buildings.values.tenure]   # their value = our value (case-insensitive)
    Freehold = "freehold"

    [buildings.ids.building_id] # characters to replace, and a prefix
    replace = { "/" = "_" }
    prefix = "CBC_"

    [buildings.constants]       # a value for every row, where the column is absent or blank
    owner_type = "council"

Built-in mappings live in ``estate/mappings/`` and are used by name (``transparency-code``).

Every section and key is checked when the mapping is read (one schema: `TOP_KEYS`,
`TABLE_KEYS`, `ID_RULE_KEYS`, `READ_KEYS`): a section that is null or not a table, a value of
the wrong kind, an unknown key (the nearest known one suggested), an unknown ``encoding`` or
a ``crs`` pyproj does not know is an `EstateError` naming the file, the key and the value.
"""

from __future__ import annotations

import codecs
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from estate import settings
from estate.errors import EstateError
from estate.schema import TABLE_NAMES
from estate.settings import Key, check_keys, kind_of, read_text, shown

BUILTIN_DIR = Path(__file__).parent / "mappings"
# The schema of a mapping file: its top-level keys, each table's sections, and their keys.
TOP_KEYS = {"name": Key("name", "text", example="my-register"), "description": Key("description", "text")}
TABLE_KEYS = ("columns", "values", "ids", "constants", "read")
ID_RULE_KEYS = ("replace", "prefix")
READ_KEYS = {
    "encoding": Key("encoding", "text", example="latin-1"),  # CSV text encoding (a Python codec)
    "crs": Key("crs", "text", example="EPSG:27700"),  # CRS of CSV coordinates (pyproj must know it)
    "decimal": Key("decimal", "choice", choices=(".", ","), example=","),  # decimal mark of numbers
}


@dataclass(frozen=True)
class TableMapping:
    """How one table is mapped; see the module docstring for the file format."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    """A named set of table mappings."""

    name: str
    tables: dict[str, TableMapping]
    source: str = ""

    def for_table(self, table: str) -> TableMapping:
        """The mapping for `table`, or an empty one."""
        return self.tables.get(table, TableMapping())


def builtin_mappings() -> list[str]:
    """Names of the mappings that ship with the package."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Read a mapping from a TOML/YAML file, or a built-in one by name.

    Every section and key is checked (see `TABLE_KEYS`, `READ_KEYS`): a wrong type, an unknown
    key (the nearest known one suggested), a null section, an unknown encoding or CRS is an
    `EstateError` naming the file, the key, the value and the fix.

    Raises
    ------
    EstateError
        If the file does not exist, is a folder, cannot be read or parsed, or breaks the schema.

    """
    path = Path(name_or_path)
    if not path.exists():
        builtin = BUILTIN_DIR / f"{name_or_path}.toml"
        if not builtin.exists():
            msg = (
                f"Mapping {str(name_or_path)!r} is neither a file nor a built-in mapping. "
                f"Built-in mappings: {', '.join(builtin_mappings())}."
            )
            raise EstateError(msg)
        path = builtin
    text = read_text(path, what="Mapping", error=EstateError)
    source = f"Mapping {path.name}"
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
            data = {} if data is None else data
        else:
            data = tomllib.loads(text)
    except Exception as err:  # tomllib raises ValueError; yaml.YAMLError does not subclass it
        msg = f"{source}: cannot be read ({err}). Check that it is valid TOML or YAML."
        raise EstateError(msg) from err
    data = settings.table(
        data,
        source=source,
        where="the file",
        error=EstateError,
        fix="write one section per table, e.g. [buildings.columns]",
    )
    data = _table(data, source, "the file", [*TOP_KEYS, *TABLE_NAMES])
    top = {
        k: TOP_KEYS[k].check(data[k], source=source, where="", error=EstateError)
        for k in TOP_KEYS
        if k in data
    }
    tables = {table: _table_mapping(data[table], source, table) for table in TABLE_NAMES if table in data}
    return Mapping(name=top.get("name", path.stem), tables=tables, source=str(path))


def _table(value: Any, source: str, where: str, allowed: Any) -> dict[str, Any]:
    found = settings.table(value, source=source, where=where, error=EstateError)
    for key in found:
        if not isinstance(key, str):
            msg = (
                f"{source}: {where} has the key {shown(key)}, which is {kind_of(key)}. Fix: put it in quotes."
            )
            raise EstateError(msg)
    if allowed is not None:
        check_keys(found, allowed, source=source, where=where, error=EstateError)
    return found


def _table_mapping(body: Any, source: str, table: str) -> TableMapping:
    body = _table(body, source, f"[{table}]", TABLE_KEYS)

    def text(name: str, value: Any, where: str, example: str) -> str:
        return str(
            Key(name, "text", example=example).check(value, source=source, where=where, error=EstateError)
        )

    def section(name: str, allowed: Any = None) -> dict[str, Any]:
        return _table(body.get(name, {}), source, f"[{table}.{name}]", allowed)

    columns = {
        ours: text(ours, theirs, f"{table}.columns", "TheirColumn")
        for ours, theirs in section("columns").items()
    }
    values = {
        column: _lookup(lookup, source, f"{table}.values.{column}")
        for column, lookup in section("values").items()
    }
    ids = {column: _id_rule(rule, source, f"{table}.ids.{column}") for column, rule in section("ids").items()}
    constants = {
        column: _scalar(value, source, f"{table}.constants.{column}", text=False)
        for column, value in section("constants").items()
    }
    read = section("read", READ_KEYS)
    if isinstance(read.get("crs"), int) and not isinstance(read["crs"], bool):
        msg = (
            f"{source}: {table}.read.crs = {read['crs']} is a number. Allowed: an EPSG code as text. "
            f'Fix: crs = "EPSG:{read["crs"]}".'
        )
        raise EstateError(msg)
    read = {
        key: READ_KEYS[key].check(value, source=source, where=f"{table}.read", error=EstateError)
        for key, value in read.items()
    }
    if "encoding" in read:
        _check_encoding(read["encoding"], source, f"{table}.read")
    if "crs" in read:
        _check_crs(read["crs"], source, f"{table}.read")
    return TableMapping(columns=columns, values=values, ids=ids, constants=constants, read=read)


def _lookup(value: Any, source: str, where: str) -> dict[str, str]:
    """``their value = our value`` pairs; a YAML key read as true/false or null is refused."""
    lookup = settings.table(value, source=source, where=f"[{where}]", error=EstateError)
    out = {}
    for theirs, ours in lookup.items():
        if isinstance(theirs, bool) or theirs is None:
            msg = (
                f"{source}: [{where}] has the key {shown(theirs)}, which YAML reads as {kind_of(theirs)}, "
                'not as the text in the file. Fix: put the key in quotes, e.g. "yes": true.'
            )
            raise EstateError(msg)
        out[str(theirs)] = _scalar(ours, source, f"{where}.{theirs}")
    return out


def _id_rule(value: Any, source: str, where: str) -> dict[str, Any]:
    rule = _table(value, source, f"[{where}]", ID_RULE_KEYS)
    replace = _table(rule.get("replace", {}), source, f"[{where}.replace]", None)
    out: dict[str, Any] = {
        "replace": {
            old: Key(old, "text", example="_").check(
                new, source=source, where=f"{where}.replace", error=EstateError
            )
            for old, new in replace.items()
        }
    }
    if "prefix" in rule:
        out["prefix"] = Key("prefix", "text", example="B_").check(
            rule["prefix"], source=source, where=where, error=EstateError
        )
    return out


def _scalar(value: Any, source: str, dotted: str, *, text: bool = True) -> Any:
    """A value of a mapping table: text, a finite number or true/false (as text when `text`)."""
    ok = isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value))
    if not ok:
        what = "not a finite number" if isinstance(value, float) else kind_of(value)
        msg = (
            f"{source}: {dotted} = {shown(value)} is {what}. Allowed: text, a finite "
            'number or true/false. Fix: give one value, e.g. "freehold", or remove the line.'
        )
        raise EstateError(msg)
    if not text:
        return value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _check_encoding(name: str, source: str, where: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError as err:
        msg = (
            f"{source}: {where}.encoding = {shown(name)} is not a known text encoding. Allowed: a "
            'Python codec name. Fix: e.g. encoding = "utf-8", "latin-1" or "cp1252".'
        )
        raise EstateError(msg) from err


def _check_crs(name: str, source: str, where: str) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(name)
    except CRSError as err:
        msg = (
            f"{source}: {where}.crs = {shown(name)} is not a coordinate reference system pyproj "
            'knows. Allowed: an EPSG code as text. Fix: e.g. crs = "EPSG:27700" (British National '
            'Grid) or crs = "EPSG:4326" (longitude/latitude).'
        )
        raise EstateError(msg) from err


def apply_mapping(raw: pd.DataFrame, mapping: TableMapping) -> pd.DataFrame:
    """Return a mapped copy of `raw`: renamed columns, mapped values and IDs, constants.

    `raw` itself is never modified. Their columns that are not mapped are kept as they are.
    """
    out = raw.copy()
    rename = {theirs: ours for ours, theirs in mapping.columns.items() if theirs in out.columns}
    # a column of ours that is also present under its own name is replaced by the mapped one
    clash = [ours for ours in rename.values() if ours in out.columns and ours not in rename]
    out = out.drop(columns=clash).rename(columns=rename)
    for column, table in mapping.values.items():
        if column in out.columns:
            lookup = {k.strip().lower(): v for k, v in table.items()}
            out[column] = out[column].map(
                lambda v, lookup=lookup: lookup.get(str(v).strip().lower(), v) if isinstance(v, str) else v
            )
    for column, rule in mapping.ids.items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, rule=rule: _map_id(v, rule))
    for column, value in mapping.constants.items():
        if column not in out.columns:
            out[column] = value
        else:
            out[column] = out[column].where(
                out[column].notna() & (out[column].astype(str).str.strip() != ""), value
            )
    return out


def _map_id(value: object, rule: dict[str, Any]) -> object:
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    for old, new in dict(rule.get("replace", {})).items():
        text = text.replace(str(old), str(new))
    return f"{rule.get('prefix', '')}{text}"
