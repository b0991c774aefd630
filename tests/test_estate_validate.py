"""Validation: every problem named by row and column; accepted + rejected == input."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from estate import EstateError, EstateValidationError, load_estate
from estate.validate import find_issues, validate_table

NUMERIC = ["gia_m2", "capacity_m2", "running_cost_gbp", "market_value_gbp", "lease_end_year"]
OTHER = ["owner_type", "tenure", "space_types", "protected"]


def _raw(**columns: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    frame.insert(0, "source_row", np.arange(1, n + 1))
    return gpd.GeoDataFrame(frame, geometry=[Point(380000 + i, 400000) for i in range(n)], crs=27700)


def test_a_clean_row_has_no_issues_and_parses_types():
    raw = _raw(
        building_id=["A"], owner=["x"], gia_m2=["1,200"], protected=["yes"], space_types=["Office; clinical"]
    )
    issues, parsed = find_issues(raw, "buildings", source="b.csv")
    assert issues == []
    assert parsed.at[0, "gia_m2"] == 1200.0
    assert parsed.at[0, "protected"] is True
    assert parsed.at[0, "space_types"] == ("office", "clinical")


def test_an_unknown_space_type_rejects_the_row_with_the_allowed_values():
    raw = _raw(building_id=["A"], owner=["x"], space_types=["office;gym"])
    (issue,), _ = find_issues(raw, "buildings", source="b.csv")
    assert issue.column == "space_types"
    assert "'gym'" in issue.problem
    assert "library" in issue.problem


def test_capacity_above_gia_is_an_issue():
    raw = _raw(building_id=["A"], owner=["x"], gia_m2=[100], capacity_m2=[150])
    (issue,), _ = find_issues(raw, "buildings", source="b.csv")
    assert (issue.row, issue.column, issue.value) == (1, "capacity_m2", 150.0)


def test_a_bad_boolean_is_an_issue():
    raw = _raw(building_id=["A"], owner=["x"], protected=["maybe"])
    (issue,), _ = find_issues(raw, "buildings", source="b.csv")
    assert "true or false" in issue.problem


def test_a_fractional_year_is_an_issue():
    raw = _raw(building_id=["A"], owner=["x"], lease_end_year=["2030.5"])
    (issue,), _ = find_issues(raw, "buildings", source="b.csv")
    assert issue.problem == "must be a whole number"


def test_access_min_share_rule_needs_a_share():
    raw = pd.DataFrame({"source_row": [1], "service": ["library"], "reach_km": [3], "rule": ["min_share"]})
    (issue,), _ = find_issues(raw, "access", source="a.csv")
    assert issue.column == "min_share"


def test_strict_validation_error_lists_issues_and_keeps_them():
    raw = _raw(building_id=["A", "A"], owner=["x", ""])
    with pytest.raises(EstateValidationError, match=r"row 2 \(A\), column 'owner'") as err:
        validate_table(raw, "buildings", source="b.csv", strict=True)
    assert len(err.value.issues) == 3


def test_validation_error_message_lists_ten_and_counts_the_rest():
    raw = _raw(building_id=[f"B-{i}" for i in range(12)], owner=["x"] * 12)
    with pytest.raises(EstateValidationError, match=r"and 2 more \(see `.issues`\)"):
        validate_table(raw, "buildings", source="b.csv", strict=True)


def test_validate_does_not_modify_its_input():
    raw = _raw(building_id=["A", "B-1"], owner=["x", "y"], gia_m2=["5", "-1"])
    before = raw.copy()
    validate_table(raw, "buildings", source="b.csv")
    pd.testing.assert_frame_equal(pd.DataFrame(raw), pd.DataFrame(before))


JUNK = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(float("inf")),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.sampled_from(["", " ", "1,000", "£5", "yes", "office;clinical", "freehold", "-0", "1e309"]),
)
IDS = st.text(alphabet="AB-_ 1é", max_size=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 6))
def test_whatever_junk_is_in_any_cell_accepted_plus_rejected_equals_input(data, n):
    cells = {
        "building_id": data.draw(st.lists(IDS, min_size=n, max_size=n)),
        "owner": data.draw(st.lists(JUNK, min_size=n, max_size=n)),
        **{c: data.draw(st.lists(JUNK, min_size=n, max_size=n)) for c in NUMERIC + OTHER},
    }
    raw = _raw(**cells)
    accepted, rejected, _ = validate_table(raw, "buildings", source="junk.csv")
    rows = sorted([*accepted["source_row"], *rejected["source_row"]])
    assert rows == list(range(1, n + 1))
    assert rejected["reasons"].map(lambda r: isinstance(r, str) and len(r) > 0).all()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_junk_csv_raises_only_documented_errors(tmp_path, data):
    n = data.draw(st.integers(1, 5))
    header = ["building_id", "owner", "lon", "lat", "gia_m2", "tenure"]
    text_cell = st.text(alphabet='AB-_ 1.,"\n£é', max_size=5)
    rows = [[data.draw(text_cell) for _ in header] for _ in range(n)]
    frame = pd.DataFrame(rows, columns=header)
    path = tmp_path / "junk.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            estate = load_estate(path)
        except EstateError:
            return  # documented: nothing accepted, or unreadable
    total = len(estate.buildings) + len(estate.rejected["buildings"])
    assert total == len(pd.read_csv(path, dtype=object))


# ---------------------------------------------------------------------- values read as meant
def _one_issue(table: str = "buildings", **columns: list[object]) -> str:
    (issue,), _ = find_issues(_raw(**columns), table, source="b.csv")
    return str(issue)


def test_a_cost_of_1e308_is_refused_with_the_reason():
    assert _one_issue(building_id=["A"], owner=["x"], running_cost_gbp=["1e308"]) == (
        "b.csv row 1 (A), column 'running_cost_gbp' = '1e308': must be at most 1,000,000,000,000. "
        "£1 trillion (about the UK government's annual spending) is the most accepted; check the "
        "units. Correct running_cost_gbp or leave it blank."
    )


def test_a_population_of_1e308_is_refused_with_the_reason():
    assert _one_issue("zones", zone_id=["E01"], population=[1e308]) == (
        "b.csv row 1 (E01), column 'population' = 1e+308: must be at most 10,000,000. 10 million "
        "(more than any UK city) is the most accepted for one zone. Correct population or leave it blank."
    )


def test_every_number_column_has_a_finite_maximum_with_a_reason():
    from estate.schema import TABLES

    for table, columns in TABLES.items():
        for col in columns:
            if col.kind in ("number", "integer"):
                assert col.maximum is not None and np.isfinite(col.maximum), (table, col.name)
                assert col.maximum_reason or col.maximum <= 2300, (table, col.name)


def test_a_decimal_comma_is_refused_not_read_as_thousands():
    assert _one_issue(building_id=["A"], owner=["x"], gia_m2=["12,5"]) == (
        "b.csv row 1 (A), column 'gia_m2' = '12,5': has a comma that is not a thousands separator "
        "(a decimal comma?). Write it with a decimal point (12.5), or, if the file uses decimal "
        'commas throughout, set decimal = "," in the mapping\'s [read] section for this table '
        "(e.g. [buildings.read])."
    )


def test_thousands_separators_still_read():
    raw = _raw(building_id=["A"], owner=["x"], gia_m2=["1,234,567.5"], running_cost_gbp=["£ 12 000"])
    issues, parsed = find_issues(raw, "buildings", source="b.csv")
    assert issues == []
    assert (parsed.at[0, "gia_m2"], parsed.at[0, "running_cost_gbp"]) == (1234567.5, 12000.0)


def test_decimal_commas_read_when_the_mapping_says_so():
    raw = _raw(building_id=["A", "B"], owner=["x", "y"], gia_m2=["1.234,5", "53.45"])
    issues, parsed = find_issues(raw, "buildings", source="b.csv", decimal=",")
    assert parsed.at[0, "gia_m2"] == 1234.5
    assert [str(i) for i in issues] == [
        "b.csv row 2 (B), column 'gia_m2' = '53.45': has a '.' that is not a thousands separator, "
        "and the mapping says this file uses decimal commas. Write it with a decimal comma (53,45), "
        'or remove decimal = "," from the mapping.'
    ]


@pytest.mark.parametrize("word", ["NA", "N/A", "None", "NULL", "nan", "-"])
def test_missing_value_words_in_a_number_column_are_not_blank(word):
    assert _one_issue(building_id=["A"], owner=["x"], gia_m2=[word]) == (
        f"b.csv row 1 (A), column 'gia_m2' = {word!r}: is not a number. Give gia_m2 as a plain number in m2."
    )


def test_missing_value_words_in_a_text_column_are_text():
    raw = _raw(building_id=["A", "B"], owner=["NA", "None"], name=["NULL", "N/A"])
    issues, parsed = find_issues(raw, "buildings", source="b.csv")
    assert issues == []
    assert parsed["owner"].tolist() == ["NA", "None"]
    assert parsed["name"].tolist() == ["NULL", "N/A"]


# ---------------------------------------------------------------------- duplicate keys
def test_two_rows_with_one_id_are_both_rejected_naming_each_other():
    raw = _raw(building_id=["A", "A"], owner=["x", "y"])
    issues, _ = find_issues(raw, "buildings", source="b.csv")
    assert [str(i) for i in issues] == [
        "b.csv row 1 (A), column 'building_id' = 'A': appears more than once (also row 2). "
        "Give each row its own ID.",
        "b.csv row 2 (A), column 'building_id' = 'A': appears more than once (also row 1). "
        "Give each row its own ID.",
    ]


def test_a_much_repeated_id_names_a_few_rows_and_counts_the_rest():
    raw = _raw(building_id=["A"] * 9, owner=["x"] * 9)
    issues, _ = find_issues(raw, "buildings", source="b.csv")
    assert len(issues) == 9
    assert issues[0].problem == "appears more than once (also rows 2, 3, 4, 5, 6 and 3 more)"
    assert issues[4].problem == "appears more than once (also rows 1, 2, 3, 4, 6 and 3 more)"
    assert issues[8].problem == "appears more than once (also rows 1, 2, 3, 4, 5 and 3 more)"


def test_twenty_thousand_rows_with_one_id_give_short_messages():
    n = 20_000
    frame = pd.DataFrame({"source_row": np.arange(1, n + 1), "building_id": ["A"] * n, "owner": ["x"] * n})
    raw = gpd.GeoDataFrame(frame, geometry=[Point(380000, 400000)] * n, crs=27700)
    accepted, rejected, issues = validate_table(raw, "buildings", source="b.csv")
    assert len(accepted) == 0 and len(rejected) == n
    assert issues[-1].problem == "appears more than once (also rows 1, 2, 3, 4, 5 and 19,994 more)"
    assert max(len(r) for r in rejected["reasons"]) < 120


def test_a_repeated_pair_key_names_both_columns():
    raw = pd.DataFrame(
        {"source_row": [1, 2], "service": ["library", "library"], "host_service": ["gp", "gp"]}
    )
    issues, _ = find_issues(raw, "compatibility", source="c.csv")
    assert str(issues[0]) == (
        "c.csv row 1 (library), column 'host_service' = 'gp': (service + host_service) appears more "
        "than once (also row 2). Remove the repeated row."
    )


# ---------------------------------------------------------------------- messages
def test_a_missing_column_message_names_the_file_and_column_without_a_value():
    raw = _raw(building_id=["A"])
    with pytest.raises(EstateValidationError) as err:
        validate_table(raw, "buildings", source="b.csv")
    assert str(err.value).splitlines() == [
        "b.csv: 1 problem(s) with its columns.",
        "  - b.csv, column 'owner': required column is missing. Add a 'owner' column, or map yours "
        "to it with `--mapping`. Columns found: source_row, building_id, geometry.",
    ]


def test_a_long_value_is_shortened_in_the_message_but_kept_whole():
    value = "x" * 500
    raw = _raw(building_id=["A"], owner=["x"], tenure=[value])
    (issue,), _ = find_issues(raw, "buildings", source="b.csv")
    assert issue.value == value
    assert str(issue).startswith(
        "b.csv row 1 (A), column 'tenure' = '" + "x" * 74 + "...' (502 characters): is not one of"
    )


def test_the_largest_accepted_values_are_documented_as_in_the_schema():
    from estate.schema import TABLES
    from estate.validate import _figure
    from tests.conftest import REPO

    lines = (REPO / "docs" / "registers.md").read_text().splitlines()
    for table, columns in TABLES.items():
        for col in columns:
            if col.kind in ("number", "integer"):
                (line,) = [ln for ln in lines if ln.startswith(f"| {table} |") and f"`{col.name}`" in ln]
                assert f"| {_figure(col.maximum)} |" in line, (table, col.name)
                assert f"| {_figure(col.minimum)} |" in line, (table, col.name)
