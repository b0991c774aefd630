"""Uploaded registers: the files a user sends, checked against `estate.limits` and loaded.

The app (``pages/``) hands over the uploaded bytes; nothing here knows Streamlit. Files are
only ever parsed as data (GeoPackage/GeoJSON/shapefile by GDAL, CSV by pandas, Excel by
openpyxl); nothing uploaded is executed or unpickled. The mapping text is TOML, read with
`tomllib`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from estate import limits
from estate.errors import EstateError, EstateValidationError
from estate.io import load_estate
from estate.mapping import load_mapping
from estate.model import Estate


@dataclass(frozen=True)
class UploadResult:
    """What loading uploaded registers gave: an Estate, or the reason it could not."""

    key: str
    name: str
    estate: Estate | None = None
    error: BaseException | None = None
    refused: tuple[str, ...] = ()


def load_uploads(
    files: dict[str, tuple[str, bytes]], mapping_text: str, *, limit_mb: float | None = None
) -> UploadResult:
    """Write uploaded files to a private temporary folder and load them with `estate.load_estate`.

    Parameters
    ----------
    files
        Per table (``buildings``, ``occupiers``, ``zones``, ...), (file name, content).
    mapping_text
        A column mapping in TOML (blank: the files use our column names).
    limit_mb
        The upload size limit in MB (default `estate.limits.MAX_FILE_MB`).

    """
    digest = hashlib.sha256(mapping_text.encode())
    for table in sorted(files):
        digest.update(table.encode())
        digest.update(files[table][1])
    key = f"upload:{digest.hexdigest()[:12]}"
    name = Path(files["buildings"][0]).stem if "buildings" in files else "upload"
    refused = tuple(
        reason
        for fname, data in files.values()
        if (reason := limits.check_upload(fname, len(data), limit_mb=limit_mb))
    )
    if refused:
        return UploadResult(key, name, refused=refused)
    folder = Path(tempfile.mkdtemp(prefix="estate-upload-"))
    try:
        paths: dict[str, Path] = {}
        for table, (fname, data) in files.items():
            path = folder / table / _safe_name(fname)
            path.parent.mkdir()
            path.write_bytes(data)
            if path.suffix == ".zip" and (
                reason := limits.shapefile_in_zip(path, fname, limit_mb=limit_mb)[0]
            ):
                return UploadResult(key, name, refused=(reason,))
            paths[table] = path
        mapping = None
        if mapping_text.strip():
            mapping_path = folder / "mapping.toml"
            mapping_path.write_text(mapping_text, encoding="utf-8")
            mapping = load_mapping(mapping_path)
        estate = load_estate(
            paths["buildings"],
            occupiers=paths.get("occupiers"),
            zones=paths.get("zones"),
            access=paths.get("access"),
            compatibility=paths.get("compatibility"),
            mapping=mapping,
            name=name,
        )
        return UploadResult(key, name, estate=estate)
    except EstateValidationError as err:
        return UploadResult(key, name, error=err)
    except Exception as err:  # any other error, shown on the page without the private folder
        return UploadResult(key, name, error=_without_folder(err, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    base = Path(name).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "register"
    return f"{stem[:80]}{suffix}"


def _without_folder(err: Exception, folder: Path) -> Exception:
    """The same message without the private temporary folder's path."""
    text = str(err)
    if str(folder) not in text:
        return err
    text = re.sub(re.escape(str(folder)) + r"/(?:[a-z]+/)?", "", text)
    return EstateError(text)


__all__ = ["UploadResult", "load_uploads"]
