"""An output folder is one whole run or nothing: manifest, swap, refusal of tampered folders.

The kill test stops a real ``python -m optimiser run`` at chosen points while it writes into a
folder holding an earlier run. It is deterministic: the writer, told by
``$ESTATE_OPTIMISER_TEST_PAUSE``, writes a ready file at that point and waits there; the
test waits for the file (no timing) and then kills it with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from optimiser.report.rundir import (
    MANIFEST,
    PAUSE_ENV,
    RunDirError,
    check_run_target,
    tidy_leftovers,
    verify_run_dir,
    write_run_dir,
)
from tests.conftest import REPO
from tests.recompute import check_written_plan

DEAD_PID = 4_194_305  # above Linux's PID_MAX_LIMIT (2**22): never a live process
FILES = ("a.csv", "b.csv")


def _writer(text: str):
    def write(folder: Path) -> None:
        for name in FILES:
            (folder / name).write_text(f"{name},{text}\n", encoding="utf-8")

    return write


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


# ------------------------------------------------------------------------------ manifest
def test_a_run_folder_lists_every_file_with_its_hash_and_the_run(tmp_path):
    out = tmp_path / "out"
    written = write_run_dir(out, _writer("one"), {"scenario": "s", "scenario_sha256": "abc"})
    manifest = json.loads((out / MANIFEST).read_text())

    assert set(written) == set(FILES) == set(manifest["files"])
    assert manifest["files"]["a.csv"]["bytes"] == len("a.csv,one\n")
    assert len(manifest["files"]["a.csv"]["sha256"]) == 64
    assert manifest["scenario"] == "s" and len(manifest["run_id"]) == 32 and manifest["created"]
    assert verify_run_dir(out)["run_id"] == manifest["run_id"]
    assert _leftovers(out) == []


def test_a_second_run_replaces_the_first_whole(tmp_path):
    out = tmp_path / "out"
    first = write_run_dir(out, _writer("one"), {})
    write_run_dir(out, lambda folder: (folder / "c.csv").write_text("c\n"), {})

    assert sorted(p.name for p in out.iterdir()) == ["c.csv", MANIFEST]
    assert set(first) == set(FILES)
    assert _leftovers(out) == []


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda out: (out / "a.csv").write_text("a.csv,edited\n"), "a.csv has changed"),
        (lambda out: (out / "b.csv").unlink(), "b.csv is missing"),
        (lambda out: (out / "notes.txt").write_text("x"), "notes.txt is not part of the run"),
        (lambda out: (out / MANIFEST).unlink(), "has no run.json"),
        (lambda out: (out / MANIFEST).write_text("{"), "run.json cannot be read"),
    ],
)
def test_a_tampered_folder_is_refused_saying_what_is_wrong(tmp_path, tamper, message):
    out = tmp_path / "out"
    write_run_dir(out, _writer("one"), {})
    tamper(out)

    with pytest.raises(RunDirError, match=message):
        verify_run_dir(out)


def test_a_folder_that_is_not_a_run_is_never_replaced(tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")

    with pytest.raises(RunDirError, match=r"holds files that are not from a run \(thesis.docx\)"):
        write_run_dir(out, _writer("one"), {}, known_files=FILES)
    assert (out / "thesis.docx").read_text() == "years of work"
    assert _leftovers(out) == []


def test_a_folder_from_before_manifests_is_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old")
    (out / ".a.csv.tmp").write_text("half")

    write_run_dir(out, _writer("new"), {}, known_files=FILES)

    assert verify_run_dir(out)["files"].keys() == set(FILES)
    assert (out / "a.csv").read_text() == "a.csv,new\n"


def test_a_file_or_a_link_as_target_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")

    with pytest.raises(RunDirError, match="is a file, not a folder"):
        check_run_target(tmp_path / "file")
    with pytest.raises(RunDirError, match="is a symbolic link"):
        check_run_target(tmp_path / "link")


def test_a_writer_that_fails_leaves_the_old_run_and_no_leftovers(tmp_path):
    out = tmp_path / "out"
    old = write_run_dir(out, _writer("one"), {})

    def broken(folder: Path) -> None:
        (folder / "a.csv").write_text("partial")
        msg = "disk full"
        raise OSError(msg)

    with pytest.raises(OSError, match="disk full"):
        write_run_dir(out, broken, {})
    assert verify_run_dir(out)["files"].keys() == old.keys()
    assert (out / "a.csv").read_text() == "a.csv,one\n"
    assert _leftovers(out) == []


def test_a_folder_renamed_away_by_a_stopped_writer_is_put_back(tmp_path):
    out = tmp_path / "out"
    write_run_dir(out, _writer("one"), {})
    run_id = verify_run_dir(out)["run_id"]
    out.rename(tmp_path / f".out.old-{DEAD_PID}-abc")
    (tmp_path / f".out.new-{DEAD_PID}-def").mkdir()  # the stopped writer's half-written folder

    assert verify_run_dir(out)["run_id"] == run_id  # a reader puts it back
    tidy_leftovers(out)  # a writer also clears the stopped writer's temporary folder
    assert _leftovers(out) == []


def test_a_live_writers_folder_is_left_alone(tmp_path):
    out = tmp_path / "out"
    write_run_dir(out, _writer("one"), {})
    busy = tmp_path / f".out.new-{os.getppid()}-abc"  # the parent process: alive
    busy.mkdir()

    tidy_leftovers(out)

    assert busy.is_dir()


def test_the_sweep_cache_folder_is_carried_over_and_not_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    (out / "jobs").mkdir(parents=True)
    (out / "jobs" / "k.json").write_text("{}")

    write_run_dir(out, _writer("one"), {}, cache_dirs=("jobs",))
    (out / "jobs" / "k2.json").write_text("{}")  # the next sweep adds jobs before it rewrites

    assert verify_run_dir(out)["files"].keys() == set(FILES)
    assert sorted(p.name for p in (out / "jobs").iterdir()) == ["k.json", "k2.json"]


# ------------------------------------------------------------------------------ killing a real run
def _run(out: Path, *, pause: str | None = None, ready: Path | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop(PAUSE_ENV, None)
    if pause is not None:
        env[PAUSE_ENV] = f"{pause}={ready}"
    return subprocess.Popen(
        [sys.executable, "-m", "optimiser", "run", "--place", "trafford", "--out", str(out), "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_at(out: Path, point: str, ready: Path) -> None:
    """Start a run that waits at `point`, wait until it is there, and kill it (SIGKILL)."""
    proc = _run(out, pause=point, ready=ready)
    deadline = time.monotonic() + 600  # generous: the solve comes first, on a busy machine
    try:
        while not ready.exists():
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"the run ended (exit {proc.returncode}) before reaching {point!r}: {err}")
            if time.monotonic() > deadline:
                pytest.fail(f"the run did not reach {point!r} within 600 s")
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()


@pytest.mark.solver
def test_a_run_killed_while_writing_leaves_the_old_run_or_the_new_one_whole(tmp_path):
    out = tmp_path / "out"
    first = _run(out)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    old = verify_run_dir(out)["run_id"]

    # killed with some files written, or between the two renames of the swap: the old run
    for n, point in enumerate(("wrote occupiers.csv", "swapping")):
        _kill_at(out, point, tmp_path / f"ready{n}")
        assert verify_run_dir(out)["run_id"] == old, point
        check_written_plan(out)

    # killed just after the new folder is in place: the new run, whole
    _kill_at(out, "swapped", tmp_path / "ready-swapped")
    new = verify_run_dir(out)
    assert new["run_id"] != old
    check_written_plan(out)

    # the killed runs' leftovers go with the next writer; a tampered folder is refused
    tidy_leftovers(out)
    assert _leftovers(out) == []
    with (out / "buildings.csv").open("a", encoding="utf-8") as handle:
        handle.write("X1,=1+1\n")
    with pytest.raises(RunDirError, match="buildings.csv has changed"):
        check_written_plan(out)


def test_run_refuses_an_out_folder_holding_other_files_before_solving(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    done = subprocess.run(
        [sys.executable, "-m", "optimiser", "run", "--place", "trafford", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert done.returncode == 2
    assert "holds files that are not from a run (keep.txt)" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_the_sweep_results_folder_is_a_run_folder_with_inert_text(tmp_path):
    from optimiser.sweep import result_row, results_frame, write_results
    from tests.test_places import two_place_estate

    out = tmp_path / "sweep"
    (out / "jobs").mkdir(parents=True)
    (out / "jobs" / "k.json").write_text("{}")
    rows = [
        result_row(place="A", place_name="A", scenario="=1+1", status="failed", message="-boom", job_key="k")
    ]

    paths = write_results(out, results_frame(rows), [{"row": rows[0], "buildings": []}], two_place_estate())

    assert set(paths) == {"results.csv", "results.gpkg"}
    manifest = verify_run_dir(out)
    assert manifest["command"] == "sweep" and manifest["jobs"] == {"k": "failed"}
    assert (out / "jobs" / "k.json").is_file()
    table = pd.read_csv(out / "results.csv")
    assert table.loc[0, ["scenario", "message"]].tolist() == ["'=1+1", "'-boom"]


def test_a_run_folder_someone_added_a_file_to_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    write_run_dir(out, _writer("one"), {})
    (out / "my notes.docx").write_text("notes")

    with pytest.raises(RunDirError, match=r"holds files that are not from a run \(my notes.docx\)"):
        write_run_dir(out, _writer("two"), {})
    assert (out / "my notes.docx").read_text() == "notes"


def test_a_sweep_stopped_after_moving_its_cache_gets_the_cache_back(tmp_path):
    out = tmp_path / "out"
    write_run_dir(out, _writer("one"), {}, cache_dirs=("jobs",))
    stage = tmp_path / f".out.new-{DEAD_PID}-abc"  # stopped between moving jobs/ in and the swap
    write_run_dir(stage, _writer("two"), {}, cache_dirs=("jobs",))
    (stage / "jobs").mkdir()
    (stage / "jobs" / "k.json").write_text("{}")

    tidy_leftovers(out)

    assert (out / "jobs" / "k.json").is_file()
    assert _leftovers(out) == []
