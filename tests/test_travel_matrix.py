"""A supplied travel matrix: every row checked, the whole file refused on any problem."""

from __future__ import annotations

import pytest

from estate import EstateError, EstateValidationError, load_estate
from estate.travel import read_travel_matrix

ZONES, BUILDINGS = ("Z1", "Z2"), ("L1", "L2")


def _matrix(tmp_path, text: str):
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    return read_travel_matrix(path, zone_ids=ZONES, building_ids=BUILDINGS)


def _issues(tmp_path, text: str) -> list[str]:
    with pytest.raises(EstateValidationError) as caught:
        _matrix(tmp_path, text)
    return [str(issue) for issue in caught.value.issues]


def test_a_good_matrix_is_read_as_floats(tmp_path):
    matrix = _matrix(tmp_path, "zone_id,building_id,minutes\nZ1,L1,6.5\nZ2,L2, 12 \n")
    assert matrix.to_dict("list") == {
        "zone_id": ["Z1", "Z2"],
        "building_id": ["L1", "L2"],
        "minutes": [6.5, 12.0],
    }


def test_a_duplicate_pair_names_both_rows(tmp_path):
    assert _issues(tmp_path, "zone_id,building_id,minutes\nZ1,L1,6.5\nZ2,L2,3\nZ1,L1,7\n") == [
        "m.csv row 3, column 'zone_id, building_id' = 'Z1 / L1': repeats the pair of row 1 (rows 1 and 3 "
        "give 6.5 and 7 minutes). Keep one row per zone and building."
    ]


def test_unknown_ids_are_refused_with_row_column_and_value(tmp_path):
    assert _issues(tmp_path, "zone_id,building_id,minutes\nZ9,L1,1\nZ1,L9,2\n") == [
        "m.csv row 1, column 'zone_id' = 'Z9': is not a zone of the estate. Check the ID against the "
        "zones table, or remove the row.",
        "m.csv row 2, column 'building_id' = 'L9': is not an accepted building of the estate. Check the "
        "ID against the buildings table (rejected buildings do not count), or remove the row.",
    ]


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [
        (
            "inf",
            "'inf': is not a finite number. Give the minutes as a number, 0 or more; remove pairs that cannot be travelled.",
        ),
        (
            "1e400",
            "'1e400': is not a finite number. Give the minutes as a number, 0 or more; remove pairs that cannot be travelled.",
        ),
        ("-2", "'-2': is negative. Give the minutes as a number, 0 or more."),
        (
            "NaN",
            "'NaN': is not a number. Give the minutes as a number, 0 or more (a point for decimals, e.g. 12.5).",
        ),
        ("12,5", None),  # quoted below: a decimal comma is not a number
        ("", "(blank): is blank. Give the minutes as a number, 0 or more."),
    ],
)
def test_minutes_that_are_not_finite_and_0_or_more_are_refused(tmp_path, minutes, problem):
    cell = f'"{minutes}"' if "," in minutes else minutes
    issues = _issues(tmp_path, f"zone_id,building_id,minutes\nZ1,L1,{cell}\n")
    expected = problem or (
        "'12,5': is not a number. Give the minutes as a number, 0 or more (a point for decimals, e.g. 12.5)."
    )
    assert issues == [f"m.csv row 1, column 'minutes' = {expected}"]


def test_every_problem_is_listed_in_row_order(tmp_path):
    issues = _issues(tmp_path, "zone_id,building_id,minutes\n,L2,x\nZ2,,\nZ1,L1,1\n")
    assert issues == [
        "m.csv row 1, column 'zone_id' = (blank): is blank. Give the zone's ID, or remove the row.",
        "m.csv row 1, column 'minutes' = 'x': is not a number. Give the minutes as a number, 0 or more "
        "(a point for decimals, e.g. 12.5).",
        "m.csv row 2, column 'building_id' = (blank): is blank. Give the building's ID, or remove the row.",
        "m.csv row 2, column 'minutes' = (blank): is blank. Give the minutes as a number, 0 or more.",
    ]


def test_words_pandas_reads_as_missing_are_kept_as_ids(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("zone_id,building_id,minutes\nNA,L1,1\n")
    matrix = read_travel_matrix(path, zone_ids=("NA",), building_ids=BUILDINGS)
    assert matrix["zone_id"].tolist() == ["NA"]


def test_very_many_problems_are_counted_not_all_listed(tmp_path, monkeypatch):
    monkeypatch.setattr("estate.travel.MAX_LISTED_ISSUES", 3)
    rows = "".join(f"Z{i + 10},L1,{i}\n" for i in range(10))
    issues = _issues(tmp_path, "zone_id,building_id,minutes\n" + rows)
    assert len(issues) == 4
    assert issues[-1] == (
        "m.csv, column '(every column)' = '10 problems': only the first 3 are listed. Check that the "
        "matrix is for this estate, fix those rows, then load it again."
    )


def test_a_matrix_path_that_is_a_folder_missing_empty_or_not_utf8_is_a_clean_error(tmp_path):
    with pytest.raises(EstateError) as caught:
        read_travel_matrix(tmp_path, zone_ids=ZONES, building_ids=BUILDINGS)
    assert (
        str(caught.value)
        == f"Travel matrix {tmp_path}: is a folder, not a file. Give the path of the file itself."
    )
    with pytest.raises(EstateError, match=r"Travel matrix .*nope\.csv: not found\. Check the path"):
        read_travel_matrix(tmp_path / "nope.csv", zone_ids=ZONES, building_ids=BUILDINGS)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(EstateError) as caught:
        read_travel_matrix(empty, zone_ids=ZONES, building_ids=BUILDINGS)
    assert str(caught.value) == (
        f"Travel matrix {empty}: the file is empty. Give a header zone_id,building_id,minutes and one row per pair."
    )
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"zone_id,building_id,minutes\nZ\xe9,L1,1\n")
    with pytest.raises(EstateError) as caught:
        read_travel_matrix(latin, zone_ids=ZONES, building_ids=BUILDINGS)
    assert str(caught.value) == (
        f"Travel matrix {latin}: not UTF-8 text (byte 0xe9 at position 29). Save it as UTF-8 CSV."
    )
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("zone,building_id,mins\nZ1,L1,1\n")
    with pytest.raises(EstateError) as caught:
        read_travel_matrix(wrong, zone_ids=ZONES, building_ids=BUILDINGS)
    assert str(caught.value) == (
        "wrong.csv: a travel matrix needs columns zone_id, building_id, minutes; missing zone_id, "
        "minutes (found zone, building_id, mins)."
    )


def test_load_estate_checks_the_matrix_against_its_own_zones_and_buildings(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,easting,northing\nL1,C,380000,400000\nL-2,C,1,1\n")
    (tmp_path / "z.csv").write_text("zone_id,population,easting,northing\nZ1,100,380500,400000\n")
    (tmp_path / "m.csv").write_text("zone_id,building_id,minutes\nZ1,L1,3\nZ1,L-2,4\n")
    with pytest.raises(EstateValidationError) as caught:
        load_estate(tmp_path / "b.csv", zones=tmp_path / "z.csv", travel_matrix=tmp_path / "m.csv")
    assert [i.row for i in caught.value.issues] == [2]  # L-2 was rejected, so it is not a building
    assert caught.value.issues[0].value == "L-2"


def test_a_row_with_more_values_than_the_header_is_refused_whole(tmp_path):
    assert _issues(tmp_path, 'zone_id,building_id,minutes\nZ1,L1,12,5\nZ2,L2,"12,5"\n') == [
        "m.csv row 1, column '(whole row)' = 'Z1,L1,12,5': has more values than the 3 columns of the "
        "header. Put values that hold a comma in quotes, and write decimals with a point (12.5, not 12,5).",
        "m.csv row 2, column 'minutes' = '12,5': is not a number. Give the minutes as a number, 0 or more "
        "(a point for decimals, e.g. 12.5).",
    ]


def test_columns_in_another_order_blank_lines_and_short_rows_are_read(tmp_path):
    matrix = _matrix(tmp_path, "minutes,zone_id,building_id\n\n4,Z1,L1\n\n5,Z2,L2\n")
    assert matrix.to_dict("list") == {
        "zone_id": ["Z1", "Z2"],
        "building_id": ["L1", "L2"],
        "minutes": [4.0, 5.0],
    }
    assert _issues(tmp_path, "zone_id,building_id,minutes\nZ1,L1\n") == [
        "m.csv row 1, column 'minutes' = (blank): is blank. Give the minutes as a number, 0 or more."
    ]
