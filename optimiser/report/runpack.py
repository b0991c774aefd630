"""Board packs from run folders: what ``python -m optimiser report RUN_DIR ...`` does. No Streamlit.

`read_run_option` reads one folder written by ``python -m optimiser run`` into a
`optimiser.report.boardpack.PackOption`: it checks the folder against its manifest first
(`optimiser.report.rundir.verify_run_dir`), reads ``summary.json``, the CSV tables (names
read back with `optimiser.report.inert.original_text`) and ``scenario.toml`` when the run wrote
one, and finds the borough boundaries in the estate's GeoPackage when it is the bundled one.
`write_pack` builds the pack for one to four folders and writes its PDF and/or HTML, each
whole or not at all. A folder that is not a run, or is damaged, is refused with a `PackError`
that names it and says what is wrong (exit 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from estate.io import DATA_DIR
from optimiser.errors import OptimiserError, ScenarioError
from optimiser.report.boardpack import MAX_OPTIONS, PackOption, board_pack_html, options_pack_html
from optimiser.report.inert import original_text
from optimiser.report.programme import PROGRAMME_TABLES
from optimiser.report.rundir import RunDirError, verify_run_dir
from optimiser.report.staticmap import boundaries_for
from optimiser.scenario import Scenario

TABLES = ("buildings", "occupiers", "partners", "access", "zones", *PROGRAMME_TABLES)
REQUIRED = ("buildings.csv", "summary.json")


class PackError(OptimiserError):
    """Run folders that cannot make a board pack, or a pack that cannot be written."""

    exit_code = 2


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        dtype=dict.fromkeys(
            ("building_id", "occupier_id", "zone_id", "from_building_id", "to_building_id"), str
        ),
    )
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column].dtype):
            frame[column] = frame[column].map(lambda v: original_text(v) if isinstance(v, str) else v)
    return frame.rename(columns=original_text)


def _estate_gpkg(manifest: dict[str, Any]) -> Path | None:
    """The GeoPackage the run's buildings came from, if it is here (a bundled estate, or a path)."""
    source = str((manifest.get("sources") or {}).get("buildings", ""))
    name = source.rsplit(":", 1)[0] if source.count(":") and not source.endswith(":") else source
    for candidate in (Path(name), DATA_DIR / Path(name).name):
        if candidate.suffix.lower() == ".gpkg" and candidate.is_file():
            return candidate
    return None


def read_run_option(path: str | Path) -> PackOption:
    """One run folder as a board-pack option.

    Raises
    ------
    PackError
        If the folder is missing, not a ``run`` folder, does not match its manifest, or a
        file cannot be read.

    """
    folder = Path(path)
    try:
        manifest = verify_run_dir(folder)
    except RunDirError as err:
        msg = f"{folder} cannot make a board pack: {err}"
        raise PackError(msg) from None
    if manifest.get("command") != "run":
        msg = (
            f"{folder} holds the results of `{manifest.get('command', '?')}`, not of `python -m optimiser run`; "
            "a board pack is made from run folders (python -m optimiser run ... --out DIR)."
        )
        raise PackError(msg)
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        msg = f"{folder} has no {', '.join(missing)}; run again to rewrite the folder."
        raise PackError(msg)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        tables = {t: _read_csv(folder / f"{t}.csv") for t in TABLES if (folder / f"{t}.csv").is_file()}
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as err:
        msg = f"{folder}: a file cannot be read ({err}); run again to rewrite the folder."
        raise PackError(msg) from None
    if not isinstance(summary, dict) or "kpis" not in summary:
        msg = (
            f"{folder / 'summary.json'} is not a run's summary (no `kpis`); run again to rewrite the folder."
        )
        raise PackError(msg)
    for column in ("building_id", "decision", "easting", "northing"):
        if column not in tables["buildings"]:
            msg = f"{folder / 'buildings.csv'} has no `{column}` column; run again to rewrite the folder."
            raise PackError(msg)
    scenario = None
    if (folder / "scenario.toml").is_file():
        try:
            scenario = Scenario.from_toml(folder / "scenario.toml")
        except ScenarioError as err:
            msg = f"{folder}: {err}"
            raise PackError(msg) from None
    boundaries = boundaries_for(tables.get("zones"), _estate_gpkg(manifest))
    return PackOption(summary, tables, scenario, boundaries, label=str(summary.get("scenario", "")))


def pack_html(folders: Sequence[str | Path]) -> str:
    """The board pack of one run folder, or of 2–4 side by side."""
    if not 1 <= len(folders) <= MAX_OPTIONS:
        msg = f"Give 1 to {MAX_OPTIONS} run folders for a board pack; got {len(folders)}."
        raise PackError(msg)
    options = [read_run_option(f) for f in folders]
    names = [o.name for o in options]
    for i, option in enumerate(options):  # two folders of the same scenario: tell them apart
        if names.count(option.name) > 1:
            options[i] = PackOption(
                option.summary,
                option.tables,
                option.scenario,
                option.boundaries,
                f"{option.name} ({Path(folders[i]).name})",
            )
    if len(options) == 1:
        only = options[0]
        return board_pack_html(
            summary=only.summary, tables=only.tables, scenario=only.scenario, boundaries=only.boundaries
        )
    return options_pack_html(options)


def _check_target(path: Path, flag: str) -> None:
    if path.is_dir():
        msg = f"{flag} {path}: is a folder; give a file name, e.g. {flag} pack.{flag.lstrip('-')}."
        raise PackError(msg)
    if not path.parent.exists():
        msg = f"{flag} {path}: the folder {path.parent} does not exist."
        raise PackError(msg)


def _write_whole(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        msg = f"{path}: cannot be written ({err.strerror or err})."
        raise PackError(msg) from None


def write_pack(
    folders: Sequence[str | Path], *, pdf: Path | None = None, html: Path | None = None
) -> dict[str, Path]:
    """Build the pack of `folders` and write it as PDF and/or HTML. Returns what was written."""
    if pdf is None and html is None:
        msg = "Say where the pack goes: --pdf PACK.pdf and/or --html PACK.html."
        raise PackError(msg)
    for path, flag in ((pdf, "--pdf"), (html, "--html")):
        if path is not None:
            _check_target(path, flag)
    page = pack_html(folders)
    written: dict[str, Path] = {}
    if pdf is not None:
        from optimiser.report.pdf import pdf_bytes

        _write_whole(pdf, pdf_bytes(page))
        written["pdf"] = pdf
    if html is not None:
        _write_whole(html, page.encode("utf-8"))
        written["html"] = html
    return written
