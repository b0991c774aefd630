"""Resource limits: one place for every bound on what an input may ask of the machine, and the
checks made before any file is parsed.

Each limit is documented in ``docs/limits.md`` (value, where enforced, message); the CLI
(through `estate.io.read_table`) and the app (uploads, through `estate.upload`) import the same
constants and the same checks, so a file or setting refused by one is refused by the other.
No Streamlit here.

Archives (a zipped shapefile, and every ``.xlsx``, which is a zip) are checked on the bytes
they really unpack to: each member is decompressed as a stream, with a byte budget, and
compared with the size it declares. The declared sizes are never trusted, so a zip that
understates them, or a "zip bomb" of a few MB that unpacks to GBs, is refused after reading
at most the budget.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# ---------------------------------------------------------------------- settings and runs
MAX_SETTINGS_FILE_BYTES = 5_000_000  # a scenario, mapping or sweep grid file
MAX_GRID_SCENARIOS = 10_000  # scenario rows of one sweep grid: [grid] combinations + [[scenarios]]
MAX_SWEEP_JOBS = 100_000  # places x scenario rows of one sweep
MAX_SWEEP_RETRIES = 10  # retries of a sweep job that raises
MAX_MONEY_GBP = 1e12  # any money figure in a scenario (a budget or target), in pounds

# ---------------------------------------------------------------------- files read
MAX_FILE_MB = 50
"""Largest file read, in MB (1 MB = 2^20 bytes); the app's ``server.maxUploadSize`` is the same."""
MAX_ROWS = 100_000
"""Most data rows in one table (England and Wales have 35,672 LSOAs; a register has fewer rows)."""
MAX_COLUMNS = 500
"""Most columns in one table."""
MAX_CELLS = 5_000_000
"""Most cells (rows x columns) in one table: `MAX_ROWS` rows of 50 columns."""
UNPACK_FACTOR = 4
"""An archive may unpack to at most this many times the file size limit."""
MAX_ARCHIVE_MEMBERS = 10_000
"""Most files inside one archive (a shapefile has up to 9 parts; a workbook a few dozen)."""
MAX_HEADER_BYTES = 1 << 20
"""Longest first (header) line of a CSV file, in bytes."""

UPLOAD_TYPES = ("gpkg", "geojson", "json", "csv", "xlsx", "zip")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml")
_CHUNK = 1 << 16  # compressed bytes read at a time
_OUT_CHUNK = 1 << 20  # most decompressed bytes produced at a time
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's own layout of a local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"


class LimitWarning(UserWarning):
    """A setting was lowered to a limit (e.g. threads to the machine's cores); the run goes on."""


def machine_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def cap_to_cores(count: int | None, *, what: str) -> tuple[int | None, str | None]:
    """`count` (threads or worker processes) no larger than the machine's cores.

    Returns the count to use and, when it was lowered, a message saying so (`what` names the
    setting, e.g. ``"threads = 100000"`` or ``"--workers 64"``). None stays None.
    """
    cores = machine_cores()
    if count is None or count <= cores:
        return count, None
    return (
        cores,
        f"{what} is more than this machine's {cores} CPU core(s); using {cores} (see docs/limits.md).",
    )


# ---------------------------------------------------------------------- checks of a file
def mb(limit_mb: float | None = None) -> int:
    """`limit_mb` (default `MAX_FILE_MB`) in bytes."""
    return int((MAX_FILE_MB if limit_mb is None else limit_mb) * 1024 * 1024)


def check_upload(name: str, size: int, *, limit_mb: float | None = None) -> str | None:
    """Why an uploaded file is refused by its name and size, or None when it may be read."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_TYPES:
        return (
            f"{name}: files of type .{suffix or '(none)'} are not accepted. "
            f"Upload a register as {', '.join('.' + t for t in UPLOAD_TYPES)}."
        )
    return check_size(name, size, limit_mb=limit_mb)


def check_size(name: str, size: int, *, limit_mb: float | None = None) -> str | None:
    """Why a file of `size` bytes is too big, or None."""
    limit = MAX_FILE_MB if limit_mb is None else limit_mb
    if size > mb(limit):
        return (
            f"{name}: {size / 1024 / 1024:,.1f} MB is over the {limit:g} MB limit for registers. "
            "Split it by area or partner, or remove columns you do not need (see docs/limits.md)."
        )
    return None


def check_archive(path: Path, name: str, *, limit_mb: float | None = None) -> str | None:
    """Why a zip archive is refused, or None: every member is decompressed within a budget.

    The budget is `UNPACK_FACTOR` x `limit_mb` for all members together. A member whose real
    size differs from the size it declares is refused, as is any compression but stored and
    deflate (what Excel, GDAL and every common zip tool write).
    """
    budget = UNPACK_FACTOR * mb(limit_mb)
    used = 0
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                return (
                    f"{name}: holds {len(members):,} files, more than the {MAX_ARCHIVE_MEMBERS:,} "
                    "allowed in an archive; refused."
                )
            with path.open("rb") as raw:
                for info in members:
                    if info.is_dir():
                        continue
                    reason = _check_member(raw, info, name, budget - used, budget)
                    if reason:
                        return reason
                    used += info.file_size
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        return f"{name}: not a valid zip archive ({err}); save or zip it again."
    return None


def _check_member(raw: BinaryIO, info: zipfile.ZipInfo, name: str, left: int, budget: int) -> str | None:
    """Decompress one member as a stream, reading at most `left` bytes; why it is refused, or None."""
    where = f"{name}: {info.filename}"
    if info.flag_bits & 0x1:
        return f"{where} is encrypted; zip it again without a password."
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (
            f"{where} uses compression method {info.compress_type}; only stored and deflate "
            "are accepted. Zip it again with a standard tool."
        )
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        return f"{where}: the archive is damaged (bad local header); zip it again."
    fields = _LOCAL_HEADER.unpack(header)
    raw.seek(info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
    actual = _unpacked_bytes(raw, info, left)
    if actual > left:
        return (
            f"{where} unpacks to more than {budget / 1024 / 1024:,.4g} MB, the limit for an "
            f"archive ({UNPACK_FACTOR} x the file size limit); refused as a possible zip bomb."
        )
    if actual != info.file_size:
        return (
            f"{where} declares {info.file_size:,} bytes but unpacks to {actual:,}; the archive "
            "is damaged or built to mislead, so it is refused. Zip the files again."
        )
    return None


def _unpacked_bytes(raw: BinaryIO, info: zipfile.ZipInfo, budget: int) -> int:
    """Bytes the member really unpacks to, counting at most `budget` + 1 of them."""
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        total = 0
        while remaining > 0 and total <= budget:
            data = raw.read(min(_CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            total += len(data)
        return total
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    pending = b""
    while total <= budget:
        if not pending:
            if remaining <= 0 or inflate.eof:
                break
            pending = raw.read(min(_CHUNK, remaining))
            if not pending:
                break
            remaining -= len(pending)
        out = inflate.decompress(pending, min(_OUT_CHUNK, budget + 1 - total))
        total += len(out)
        pending = inflate.unconsumed_tail
        if inflate.eof:
            break
    return total


def shapefile_in_zip(path: Path, name: str, *, limit_mb: float | None = None) -> tuple[str | None, str]:
    """Check a zipped shapefile; returns (why it is refused or None, the .shp member's path).

    The zip may hold only shapefile parts (in any one folder), exactly one ``.shp``, and must
    pass `check_archive`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m.filename
                for m in archive.infolist()
                if not m.is_dir() and not m.filename.startswith("__MACOSX/")  # macOS Finder's extras
            ]
    except (zipfile.BadZipFile, OSError) as err:
        return f"{name}: not a valid zip file ({err}).", ""
    bad = [m for m in members if PurePosixPath(m).suffix.lower() not in SHAPEFILE_PARTS]
    if bad:
        return (
            f"{name}: a zip may only hold a shapefile ({', '.join(SHAPEFILE_PARTS)}); "
            f"found {', '.join(bad[:5])}."
        ), ""
    shps = [m for m in members if m.lower().endswith(".shp")]
    if len(shps) != 1:
        found = f"found {', '.join(shps[:5])}" if shps else "found none"
        return f"{name}: a zip must hold exactly one .shp file; {found}.", ""
    reason = check_archive(path, name, limit_mb=limit_mb)
    return reason, shps[0]
