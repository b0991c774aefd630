"""Uploaded registers kept in the app's data directory, so they are offered again after a restart.

A copy of every file uploaded (the bytes as sent, never changed) and the mapping text go in
``<data dir>/uploads/<hash>/`` (`optimiser.store.default_data_dir`, ``$ESTATE_APP_DATA``),
with ``upload.json`` naming them. Loading one again runs `estate.upload.load_uploads` on the
copies, with the same checks as the first time.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from optimiser.store import default_data_dir

FOLDER = "uploads"
_KEY = re.compile(r"upload:([0-9a-f]{6,64})")


@dataclass(frozen=True)
class SavedUpload:
    """One kept upload: its place key (``upload:<hash>``), name, when, and its files per table."""

    key: str
    name: str
    saved_at: str
    files: dict[str, str]  # table -> file name as uploaded

    @property
    def label(self) -> str:
        """``name (buildings.csv, zones.gpkg; saved 2026-12-02 11:00 UTC)``."""
        return f"{self.name} ({', '.join(self.files.values())}; saved {self.saved_at[:16].replace('T', ' ')} UTC)"


def _root(data_dir: Path | None) -> Path:
    return (data_dir or default_data_dir()) / FOLDER


def _folder(key: str, data_dir: Path | None) -> Path:
    match = _KEY.fullmatch(key)
    if match is None:
        msg = f"{key!r} is not an upload's key (upload:<hex digits>)."
        raise ValueError(msg)
    return _root(data_dir) / match.group(1)


def save(
    key: str,
    name: str,
    files: dict[str, tuple[str, bytes]],
    mapping_text: str,
    *,
    data_dir: Path | None = None,
) -> Path:
    """Keep a copy of the uploaded files and mapping (again the same upload: nothing changes)."""
    folder = _folder(key, data_dir)
    if (folder / "upload.json").exists():
        return folder
    work = folder.with_name(folder.name + ".part")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for table, (_fname, data) in files.items():
        (work / f"{table}.bin").write_bytes(data)
    (work / "mapping.toml").write_text(mapping_text, encoding="utf-8")
    meta = {
        "key": key,
        "name": name,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {table: fname for table, (fname, _data) in files.items()},
    }
    (work / "upload.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    work.replace(folder)  # all or nothing
    return folder


def saved(*, data_dir: Path | None = None) -> list[SavedUpload]:
    """The kept uploads, newest first (a folder that cannot be read is skipped)."""
    out = []
    root = _root(data_dir)
    for meta_path in root.glob("*/upload.json") if root.is_dir() else []:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            out.append(
                SavedUpload(str(meta["key"]), str(meta["name"]), str(meta["saved_at"]), dict(meta["files"]))
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda s: s.saved_at, reverse=True)


def read(key: str, *, data_dir: Path | None = None) -> tuple[dict[str, tuple[str, bytes]], str]:
    """The kept files (table -> (file name, bytes)) and mapping text of one upload."""
    folder = _folder(key, data_dir)
    meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    files = {table: (fname, (folder / f"{table}.bin").read_bytes()) for table, fname in meta["files"].items()}
    return files, (folder / "mapping.toml").read_text(encoding="utf-8")


def delete(key: str, *, data_dir: Path | None = None) -> bool:
    """Remove a kept upload; False if there was none."""
    folder = _folder(key, data_dir)
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


__all__ = ["SavedUpload", "delete", "read", "save", "saved"]
