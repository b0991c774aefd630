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
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from estate.errors import EstateError

BUILTIN_DIR = Path(__file__).parent / "mappings"


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

    Raises
    ------
    EstateError
        If the file does not exist, cannot be parsed, or has an unknown section.

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
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as err:
        msg = f"Mapping {path}: cannot be read ({err}). Check that it is valid TOML or YAML."
        raise EstateError(msg) from err
    except Exception as err:  # yaml.YAMLError does not subclass ValueError
        msg = f"Mapping {path}: cannot be read ({err}). Check that it is valid TOML or YAML."
        raise EstateError(msg) from err
    if not isinstance(data, dict):
        msg = f"Mapping {path}: expected a table of sections, found {type(data).__name__}."
        raise EstateError(msg)
    tables: dict[str, TableMapping] = {}
    known = {"columns", "values", "ids", "constants", "read"}
    for table, body in data.items():
        if table in ("name", "description"):
            continue
        if table not in ("buildings", "occupiers", "zones", "access", "compatibility"):
            msg = (
                f"Mapping {path}: unknown section [{table}]. "
                "Use [buildings], [occupiers], [zones], [access] or [compatibility]."
            )
            raise EstateError(msg)
        unknown = set(body) - known
        if unknown:
            msg = f"Mapping {path}: [{table}] has unknown key(s) {sorted(unknown)}; use {sorted(known)}."
            raise EstateError(msg)
        tables[table] = TableMapping(
            columns={str(k): str(v) for k, v in body.get("columns", {}).items()},
            values={
                str(k): {str(a): str(b) for a, b in v.items()} for k, v in body.get("values", {}).items()
            },
            ids={str(k): dict(v) for k, v in body.get("ids", {}).items()},
            constants=dict(body.get("constants", {})),
            read={str(k): str(v) for k, v in body.get("read", {}).items()},
        )
    return Mapping(name=str(data.get("name", path.stem)), tables=tables, source=str(path))


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
