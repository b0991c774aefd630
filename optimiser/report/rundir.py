"""Run folders that hold one whole run or nothing, with a manifest readers check. No Streamlit.

`write_run_dir` writes a run's files into a fresh folder beside the target (same file system),
adds ``run.json`` (every file with its SHA-256 and size, and the run's identity), then swaps
it in: the old folder is renamed away, the new one renamed in, the old one removed. A run
stopped at any moment leaves the target wholly the old run or wholly the new one; the only
gap is between the two renames, and whoever next writes or reads the folder puts the old run
back (`verify_run_dir`). Leftovers are named ``.<name>.new-<pid>-…`` and ``.<name>.old-<pid>-…``
and are cleared once their process has gone.

An existing target is replaced only if it holds nothing but a run: the files its ``run.json``
lists, or (written before manifests) the files a run writes. ``--out ~/Documents`` is refused,
not emptied, and so is a run folder someone has added a file to.

`verify_run_dir` is what every reader of a run folder calls: it refuses a folder whose files
do not match its manifest (a file missing, added, or changed) with a message that says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optimiser.errors import OptimiserError
from optimiser.provenance import code_version

MANIFEST = "run.json"
FORMAT = "public-estate-optimiser run folder"
FORMAT_VERSION = 1
PAUSE_ENV = "ESTATE_OPTIMISER_TEST_PAUSE"
"""Tests only: ``POINT=FILE`` makes a writer reaching `checkpoint` POINT write FILE and wait
there (to be killed). Points: ``wrote <file>``, ``staged``, ``swapping``, ``swapped``."""
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>new|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


class RunDirError(OptimiserError):
    """A run folder cannot be written, or does not hold one whole run."""

    exit_code = 2


# ---------------------------------------------------------------------- writing
def write_run_dir(
    out: str | Path,
    write: Callable[[Path], object],
    identity: Mapping[str, Any],
    *,
    known_files: Collection[str] = (),
    cache_dirs: Collection[str] = (),
) -> dict[str, Path]:
    """Write a run folder whole, or leave the old one as it was.

    Parameters
    ----------
    out
        The run folder. Its parent is created if need be.
    write
        Called with a fresh, empty folder; writes the run's files into it.
    identity
        What the run was (scenario, its hash, inputs, versions...), stored in ``run.json``
        with a new ``run_id`` and the time it was created.
    known_files
        Names a run writes: a folder holding only these (a run from before manifests) may
        be replaced.
    cache_dirs
        Sub-folders that outlive a run (the sweep's ``jobs/``): moved into the new folder
        and left out of the manifest.

    Returns
    -------
    dict
        File name -> path in `out`, for every file in the manifest.

    Raises
    ------
    RunDirError
        If `out` holds anything that is not a run (it is never replaced then).

    """
    target = Path(os.path.abspath(out))
    target.parent.mkdir(parents=True, exist_ok=True)
    tidy_leftovers(target)
    check_run_target(target, known_files=known_files, cache_dirs=cache_dirs)
    run_id = uuid.uuid4().hex
    stage = _fresh_folder(target, "new")
    moved: list[str] = []
    try:
        write(stage)
        files = _file_entries(stage, skip=set(cache_dirs))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "run_id": run_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **dict(identity),
            "cache_dirs": sorted(cache_dirs),
            "files": files,
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        _fsync_tree(stage)
        checkpoint("staged")
        for name in cache_dirs:
            if (target / name).is_dir():
                os.rename(target / name, stage / name)
                moved.append(name)
        _swap_in(stage, target)
    except BaseException:
        for name in moved:  # give the cache back before the stage goes
            if (stage / name).is_dir() and not (target / name).exists() and target.is_dir():
                os.rename(stage / name, target / name)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return {name: target / name for name in files}


def _swap_in(stage: Path, target: Path) -> None:
    if not target.exists():
        os.rename(stage, target)
        _fsync_dir(target.parent)
        checkpoint("swapped")
        return
    old = _leftover_name(target, "old")
    os.rename(target, old)
    try:
        checkpoint("swapping")
        os.rename(stage, target)
    except BaseException:
        if not target.exists():
            os.rename(old, target)
        raise
    _fsync_dir(target.parent)
    checkpoint("swapped")
    shutil.rmtree(old, ignore_errors=True)


def _leftover_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:12]}")


def _fresh_folder(target: Path, kind: str) -> Path:
    """A new empty folder beside `target` (made with the usual permissions, unlike mkdtemp's 0700)."""
    while True:
        path = _leftover_name(target, kind)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def check_run_target(
    out: str | Path, *, known_files: Collection[str] = (), cache_dirs: Collection[str] = ()
) -> None:
    """Refuse a target that `write_run_dir` must not replace: a file, a link, or a folder
    holding anything but a run. Call it before the work, so nothing is spent in vain. A run
    folder a stopped writer left renamed away is put back first (`restore_run_dir`)."""
    target = Path(os.path.abspath(out))
    restore_run_dir(target)
    if target.is_symlink():
        msg = f"{target} is a symbolic link; give the folder it points to, or a new folder, for the run."
        raise RunDirError(msg)
    if not target.exists():
        return
    if not target.is_dir():
        msg = f"{target} is a file, not a folder; give a new or empty folder for the run."
        raise RunDirError(msg)
    allowed = set(known_files) | set(cache_dirs) | {MANIFEST} | _listed_names(target)
    foreign = sorted(
        p.name for p in target.iterdir() if p.name not in allowed and not _is_temporary(p.name, known_files)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        msg = (
            f"{target} holds files that are not from a run ({shown}); a run replaces the whole folder, "
            "so give a new or empty folder, or one a run wrote."
        )
        raise RunDirError(msg)


def _manifest(folder: Path) -> dict[str, Any]:
    """A folder's manifest as far as it can be read ({} if it cannot)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _listed_names(folder: Path) -> set[str]:
    """Top-level names of the files and cache folders in a folder's manifest."""
    manifest = _manifest(folder)
    files, cache = manifest.get("files", {}), manifest.get("cache_dirs", [])
    names = [*(files if isinstance(files, dict) else ()), *(cache if isinstance(cache, list) else ())]
    return {str(name).split("/", 1)[0] for name in names}


def _is_temporary(name: str, known_files: Collection[str]) -> bool:
    """A temporary file that writers before manifests left beside one of their files."""
    return ".tmp" in name and any(Path(k).stem in name for k in known_files)


def tidy_leftovers(target: Path) -> None:
    """Put back a run folder a stopped writer left renamed away, and clear stopped writers' temporary
    folders beside `target` (never those of a process still running)."""
    restore_run_dir(target)
    for path, kind, pid in _leftovers(target):
        if _alive(pid):
            continue
        if kind == "new" and target.is_dir():  # stopped after moving the cache in: move it back
            for name in _manifest(path).get("cache_dirs", []):
                if (path / name).is_dir() and not (target / name).exists():
                    os.rename(path / name, target / name)
        shutil.rmtree(path, ignore_errors=True)


def restore_run_dir(target: Path) -> bool:
    """If `target` is missing because a stopped writer renamed it away, rename it back. True if done."""
    if target.exists():
        return False
    olds = sorted(
        (p for p, kind, pid in _leftovers(target) if kind == "old" and not _alive(pid)),
        key=lambda p: p.stat().st_mtime,
    )
    if not olds:
        return False
    with contextlib.suppress(FileNotFoundError, FileExistsError, OSError):
        os.rename(olds[-1], target)
        return True
    return False


def _leftovers(target: Path) -> Iterator[tuple[Path, str, int]]:
    if not target.parent.is_dir():
        return
    for path in target.parent.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and match["name"] == target.name and path.is_dir():
            yield path, match["kind"], int(match["pid"])


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def checkpoint(point: str) -> None:
    """Tests only: if ``$ESTATE_OPTIMISER_TEST_PAUSE`` is ``POINT=FILE`` and POINT is `point`, write
    FILE and wait here until killed. Does nothing otherwise."""
    wanted = os.environ.get(PAUSE_ENV, "")
    name, sep, ready = wanted.partition("=")
    if not sep or name != point:
        return
    Path(ready).write_text(str(os.getpid()), encoding="utf-8")
    while True:
        time.sleep(60)


# ---------------------------------------------------------------------- reading
def verify_run_dir(path: str | Path) -> dict[str, Any]:
    """The manifest of a run folder whose files all match it.

    A folder left renamed away by a stopped writer is put back first (`restore_run_dir`).

    Raises
    ------
    RunDirError
        If there is no folder or no readable ``run.json``, or a file is missing, added or changed.

    """
    folder = Path(os.path.abspath(path))
    restore_run_dir(folder)
    if not folder.is_dir():
        busy = [pid for _, kind, pid in _leftovers(folder) if kind == "old" and _alive(pid)]
        if busy:
            msg = f"The run folder {folder} is being replaced by process {busy[0]} right now; try again when it ends."
        else:
            msg = f"There is no run folder at {folder}."
        raise RunDirError(msg)
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = (
            f"{folder} has no {MANIFEST}, so there is no telling whether its files come from one whole run "
            "(it was written before manifests, or not by a run). Run again to rewrite it."
        )
        raise RunDirError(msg) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{manifest_path} cannot be read ({err}); run again to rewrite the folder."
        raise RunDirError(msg) from err
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != FORMAT:
        msg = f"{manifest_path} is not a run manifest (no `format` = {FORMAT!r} with a `files` table)."
        raise RunDirError(msg)
    cache = {str(c) for c in manifest.get("cache_dirs", [])}
    found = _file_entries(folder, skip=cache | {MANIFEST}, hash_names=set(files))
    problems = []
    for name, want in files.items():
        have = found.get(name)
        if have is None:
            problems.append(f"{name} is missing")
        elif not isinstance(want, dict) or have != {"sha256": want.get("sha256"), "bytes": want.get("bytes")}:
            problems.append(f"{name} has changed ({have['bytes']:,} bytes, sha256 {have['sha256'][:12]}…)")
    problems += [f"{name} is not part of the run" for name in sorted(set(found) - set(files))]
    if problems:
        msg = (
            f"The run folder {folder} does not match its manifest (run {manifest.get('run_id', '?')}, "
            f"created {manifest.get('created', '?')}): {'; '.join(problems)}. Its files are not one whole "
            "run; run again to rewrite it."
        )
        raise RunDirError(msg)
    return dict(manifest)


# ---------------------------------------------------------------------- helpers
def file_digest(path: Path) -> dict[str, Any]:
    """``{"sha256": ..., "bytes": ...}`` of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _file_entries(
    folder: Path, *, skip: Collection[str], hash_names: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Every file under `folder` (POSIX relative names), but `skip`; hashed unless not in `hash_names`."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name.split("/", 1)[0] in skip or path.is_dir():
            continue
        wanted = hash_names is None or name in hash_names
        out[name] = file_digest(path) if wanted else {"sha256": "", "bytes": path.stat().st_size}
    return out


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    if platform.system() == "Windows":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_versions() -> dict[str, str]:
    """Versions of Python, the solver stack and the optimiser's own code, for a manifest."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("pandas", "geopandas", "pulp", "highspy", "shapely"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = ""

    out["optimiser_code"] = code_version()
    return out
