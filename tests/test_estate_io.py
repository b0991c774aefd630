"""Reading registers: formats, coordinates, CRS, mappings, and nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from estate import EstateError, EstateValidationError, load_estate, read_table
from tests.conftest import DATA, REPO


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimiser", *args], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_seven_bad_rows_load_leniently_and_only_the_good_one_is_accepted():
    estate = load_estate(DATA / "buildings_seven_bad.csv")
    assert list(estate.buildings.index) == ["F6"]
    assert sorted(estate.rejected["buildings"]["source_row"]) == [1, 2, 3, 4, 5, 6]
    assert len(estate.buildings) + len(estate.rejected["buildings"]) == 7


def test_each_rejected_row_has_a_reason_naming_its_column():
    reasons = (
        load_estate(DATA / "buildings_seven_bad.csv").rejected["buildings"].set_index("source_row")["reasons"]
    )
    assert "building_id appears more than once" in reasons[1]
    assert "building_id may only use" in reasons[3]
    assert "gia_m2 must be at least 0" in reasons[4]
    assert "gia_m2 is not a number" in reasons[5]
    assert reasons[6] == "lon is blank (no location); lat is blank (no location)"


def test_strict_mode_raises_naming_the_row_and_the_column():
    with pytest.raises(EstateValidationError, match=r"row 4 \(C3\), column 'gia_m2' = '-5'"):
        load_estate(DATA / "buildings_seven_bad.csv", strict=True)


def test_rejected_rows_keep_the_values_as_read():
    rejected = load_estate(DATA / "buildings_seven_bad.csv").rejected["buildings"]
    assert rejected.set_index("source_row").at[5, "gia_m2"] == "lots"


def test_the_input_file_is_not_changed(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes((DATA / "buildings_seven_bad.csv").read_bytes())
    before = path.read_bytes()
    load_estate(path)
    assert path.read_bytes() == before


def test_cli_validate_json_counts_add_up_and_exit_zero():
    done = _run_cli("validate", "--buildings", str(DATA / "buildings_seven_bad.csv"), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["buildings"] == {"accepted": 1, "rejected": 6, "fixed": 1}
    assert "Traceback" not in done.stderr


def test_cli_validate_strict_exits_2_naming_row_and_gia_without_traceback():
    done = _run_cli("validate", "--buildings", str(DATA / "buildings_seven_bad.csv"), "--strict")
    assert done.returncode == 2
    assert "row 4 (C3), column 'gia_m2'" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_validate_missing_file_exits_2_without_traceback(tmp_path):
    done = _run_cli("validate", "--buildings", str(tmp_path / "nope.csv"))
    assert done.returncode == 2
    assert "file not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_cheltenham_register_loads_with_the_transparency_code_mapping():
    estate = load_estate(DATA / "cheltenham_land_and_assets_2023.csv", mapping="transparency-code")
    assert len(estate.buildings) == 455
    rejected = estate.rejected["buildings"]
    assert len(rejected) == 6
    assert rejected["reasons"].str.len().gt(0).all()
    # asset codes like 10/00022/LAND become valid IDs, and the easting/northing are BNG
    assert estate.buildings.at["10_00022_LAND", "easting"] == 395522
    # no floor areas or costs: loaded, but kept as they are
    assert estate.buildings["fixed"].all()


def test_cheltenham_chattels_are_rejected_for_their_tenure():
    estate = load_estate(DATA / "cheltenham_land_and_assets_2023.csv", mapping="transparency-code")
    reasons = estate.rejected["buildings"].set_index("source_row")["reasons"]
    assert reasons[210] == "tenure is not one of freehold, leasehold"


def test_lon_lat_and_easting_northing_give_the_same_point(tmp_path):
    (tmp_path / "ll.csv").write_text("building_id,owner,lon,lat\nA,x,-2.244,53.4808\n")
    (tmp_path / "en.csv").write_text("building_id,owner,easting,northing\nA,x,383880,398244\n")
    a = load_estate(tmp_path / "ll.csv").buildings.loc["A", ["easting", "northing"]]
    b = load_estate(tmp_path / "en.csv").buildings.loc["A", ["easting", "northing"]]
    assert abs(a.easting - b.easting) < 50
    assert abs(a.northing - b.northing) < 50


def test_a_table_without_location_columns_is_refused(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner\nA,x\n")
    with pytest.raises(EstateError, match="no location.*lon.*lat.*easting"):
        load_estate(tmp_path / "b.csv")


def test_a_spatial_file_without_crs_is_refused_with_how_to_fix(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    frame = gpd.GeoDataFrame({"building_id": ["A"], "owner": ["x"]}, geometry=[Point(383880, 398244)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        frame.to_file(path)
    with pytest.raises(EstateError, match=r"no coordinate reference system.*set_crs"):
        load_estate(path)


def test_any_crs_is_reprojected_to_british_national_grid(tmp_path):
    path = tmp_path / "wgs.geojson"
    gdf = gpd.GeoDataFrame(
        {"building_id": ["A"], "owner": ["x"]}, geometry=[Point(-2.244, 53.4808)], crs=4326
    )
    gdf.to_file(path)
    estate = load_estate(path)
    assert estate.buildings.crs.to_epsg() == 27700
    assert estate.buildings.at["A", "easting"] == pytest.approx(383880, abs=50)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".xlsx"])
def test_other_formats_load(tmp_path, suffix):
    gdf = gpd.GeoDataFrame(
        {"building_id": ["A", "B"], "owner": ["x", "y"], "gia_m2": [100.0, 200.0]},
        geometry=[Point(383880, 398244), Point(384880, 398244)],
        crs=27700,
    )
    path = tmp_path / f"b{suffix}"
    if suffix == ".xlsx":
        pd.DataFrame(gdf.drop(columns="geometry")).assign(
            easting=[383880, 384880], northing=[398244] * 2
        ).to_excel(path, index=False)
    elif suffix == ".shp":  # shapefiles cut names to 10 characters; the reader restores ours
        with pytest.warns(UserWarning, match="truncated"), pytest.warns(RuntimeWarning, match="laundered"):
            gdf.to_file(path)
    else:
        gdf.to_file(path)
    estate = load_estate(path)
    assert list(estate.buildings.index) == ["A", "B"]
    assert estate.buildings.at["B", "gia_m2"] == 200.0


def test_a_missing_required_column_raises_even_when_lenient(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,lon,lat\nA,-2.2,53.4\n")
    with pytest.raises(EstateValidationError, match="column 'owner'.*required column is missing"):
        load_estate(tmp_path / "b.csv")


def test_unsupported_file_type_is_refused(tmp_path):
    (tmp_path / "b.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(EstateError, match="unsupported file type '.pkl'"):
        read_table(tmp_path / "b.pkl", "buildings")


def test_occupier_in_an_unknown_building_is_rejected(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\nA,x,-2.2,53.4\n")
    (tmp_path / "o.csv").write_text(
        "occupier_id,partner,service,building_id,space_m2,space_type\n"
        "o1,x,library,A,50,library\no2,x,library,Z,50,library\n"
    )
    estate = load_estate(tmp_path / "b.csv", occupiers=tmp_path / "o.csv")
    assert list(estate.occupiers.index) == ["o1"]
    assert estate.rejected["occupiers"]["reasons"].tolist() == ["building_id is not in the buildings table"]


def test_capacity_defaults_from_gia_and_is_flagged_modelled(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat,gia_m2\nA,x,-2.2,53.4,100\n")
    b = load_estate(tmp_path / "b.csv").buildings
    assert b.at["A", "capacity_m2"] == 80.0
    assert "capacity_m2" in b.at["A", "modelled"]


def test_non_utf8_csv_is_read_with_a_warning(tmp_path):
    (tmp_path / "b.csv").write_bytes(
        "building_id,owner,lon,lat\nA,Caf\xe9 council,-2.2,53.4\n".encode("cp1252")
    )
    with pytest.warns(UserWarning, match="not valid UTF-8"):
        estate = load_estate(tmp_path / "b.csv")
    assert estate.buildings.at["A", "owner"] == "Café council"


def test_swapped_coordinates_are_rejected_as_outside_great_britain(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,easting,northing\nA,x,53.4,-2.2\n")
    with pytest.raises(EstateError, match="no building was accepted"):
        load_estate(tmp_path / "b.csv")


def test_cli_reads_a_named_geopackage_layer(tmp_path):
    path = tmp_path / "register.gpkg"
    gdf = gpd.GeoDataFrame(
        {"building_id": ["A", "B"], "owner": ["x", "y"]},
        geometry=[Point(383880, 398244), Point(384880, 398244)],
        crs=27700,
    )
    gdf.to_file(path, layer="assets")
    gdf.iloc[:1].to_file(path, layer="other")
    done = _run_cli("validate", "--buildings", str(path), "--layer", "buildings=assets", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["buildings"]["accepted"] == 2
    bad = _run_cli("validate", "--buildings", str(path), "--layer", "assets")
    assert bad.returncode == 2
    assert "use TABLE=NAME" in bad.stderr


# ---------------------------------------------------------------------- values read as meant
def _issues(path, **kwargs) -> list[str]:
    estate = load_estate(path, **kwargs)
    return [str(i) for i in estate.issues]


def test_missing_value_words_stay_text_in_a_csv(tmp_path):
    (tmp_path / "b.csv").write_text(
        "building_id,name,owner,lon,lat\nA,None,NA,-2.3,53.4\nB,NULL,N/A,-2.3,53.41\nC,,x,-2.3,53.42\n"
    )
    b = load_estate(tmp_path / "b.csv").buildings
    assert b["name"].tolist() == ["None", "NULL", ""]
    assert b["owner"].tolist() == ["NA", "N/A", "x"]


def test_missing_value_words_stay_text_in_a_geopackage(tmp_path):
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame(
        {"building_id": ["A", "B"], "name": ["None", None], "owner": ["NA", "NULL"]},
        geometry=[Point(383880, 398244), Point(384880, 398244)],
        crs=27700,
    ).to_file(path, layer="buildings")
    b = load_estate(path).buildings
    assert b["name"].tolist() == ["None", ""]
    assert b["owner"].tolist() == ["NA", "NULL"]


def test_a_blank_lat_is_reported_on_lat(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\nA,x,-2.317037,\nB,x,-2.3,53.4\n")
    assert _issues(tmp_path / "b.csv") == [
        "b.csv row 1 (A), column 'lat' = (blank): is blank (no location). Give both lon and lat."
    ]


def test_a_lat_that_is_not_a_number_is_reported_on_lat(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\nA,x,-2.317037,north\nB,x,-2.3,53.4\n")
    assert _issues(tmp_path / "b.csv") == [
        "b.csv row 1 (A), column 'lat' = 'north': is not a number. Give lat as a plain number of degrees (WGS84)."
    ]


def test_a_decimal_comma_coordinate_is_refused_not_read_as_5345(tmp_path):
    (tmp_path / "b.csv").write_text(
        'building_id,owner,lon,lat\nA,x,-2.3,"53,45"\nB,x,-2.3,"53,450"\nC,x,-2.3,53.4\n'
    )
    assert _issues(tmp_path / "b.csv") == [
        "b.csv row 1 (A), column 'lat' = '53,45': has a comma that is not a thousands separator "
        "(a decimal comma?). Write it with a decimal point (53.45), or, if the file uses decimal "
        'commas throughout, set decimal = "," in the mapping\'s [read] section for this table '
        "(e.g. [buildings.read]).",
        "b.csv row 2 (B), column 'lat' = '53,450': has a comma that is not a thousands separator "
        "(a decimal comma?). Write it with a decimal point (53.450), or, if the file uses decimal "
        'commas throughout, set decimal = "," in the mapping\'s [read] section for this table '
        "(e.g. [buildings.read]).",
    ]


def test_decimal_commas_read_correctly_when_the_mapping_says_so(tmp_path):
    (tmp_path / "b.csv").write_text('building_id,owner,lon,lat,gia_m2\nA,x,"-2,244","53,4808","1.200,5"\n')
    (tmp_path / "m.toml").write_text('[buildings.read]\ndecimal = ","\n')
    (tmp_path / "ll.csv").write_text("building_id,owner,lon,lat\nA,x,-2.244,53.4808\n")
    comma = load_estate(tmp_path / "b.csv", mapping=tmp_path / "m.toml").buildings
    point = load_estate(tmp_path / "ll.csv").buildings
    assert comma.at["A", "gia_m2"] == 1200.5
    assert comma.at["A", "easting"] == pytest.approx(point.at["A", "easting"])
    assert comma.at["A", "northing"] == pytest.approx(point.at["A", "northing"])


def test_an_unknown_decimal_mark_in_the_mapping_is_refused(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\nA,x,-2.3,53.4\n")
    (tmp_path / "m.toml").write_text('[buildings.read]\ndecimal = ";"\n')
    with pytest.raises(EstateError) as err:
        load_estate(tmp_path / "b.csv", mapping=tmp_path / "m.toml")
    assert str(err.value) == (  # the mapping's schema refuses it before any reading
        'Mapping m.toml: buildings.read.decimal = ";" is not one of the choices. Allowed: one of ".", ",". '
        'Fix: e.g. decimal = ",".'
    )


def test_swapped_lon_and_lat_name_both_columns_with_their_ranges(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\nA,x,53.4,-2.3\nB,x,-2.3,53.4\n")
    assert _issues(tmp_path / "b.csv") == [
        "b.csv row 1 (A), column 'lon' = '53.4': is outside Great Britain (-9 to 2.5 degrees "
        "expected). Check whether lon and lat are swapped, and the CRS.",
        "b.csv row 1 (A), column 'lat' = '-2.3': is outside Great Britain (49 to 61.5 degrees "
        "expected). Check whether lon and lat are swapped, and the CRS.",
    ]


def test_degrees_in_easting_and_northing_are_named(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,easting,northing\nA,x,2.3,53.4\nB,x,383880,398244\n")
    assert _issues(tmp_path / "b.csv")[0] == (
        "b.csv row 1 (A), column 'easting' = '2.3': looks like degrees, not British National Grid "
        "metres. Name the columns lon and lat if they hold degrees, or check easting."
    )


def test_an_unknown_crs_in_the_mapping_is_refused(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,x,y\nA,x,383880,398244\n")
    (tmp_path / "m.toml").write_text(
        '[buildings.read]\ncrs = "EPSG:999999"\n[buildings.columns]\neasting = "x"\nnorthing = "y"\n'
    )
    with pytest.raises(EstateError) as err:  # the mapping's schema refuses it before any reading
        load_estate(tmp_path / "b.csv", mapping=tmp_path / "m.toml")
    assert str(err.value) == (
        'Mapping m.toml: buildings.read.crs = "EPSG:999999" is not a coordinate reference system pyproj '
        'knows. Allowed: an EPSG code as text. Fix: e.g. crs = "EPSG:27700" (British National Grid) or '
        'crs = "EPSG:4326" (longitude/latitude).'
    )


def test_huge_figures_are_rejected_at_validation_not_by_the_solver(tmp_path):
    (tmp_path / "b.csv").write_text(
        "building_id,owner,lon,lat,running_cost_gbp\nA,x,-2.3,53.4,1e308\nB,x,-2.3,53.41,5000\n"
    )
    done = _run_cli("validate", "--buildings", str(tmp_path / "b.csv"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["buildings"]["rejected"] == 1


def test_a_register_with_only_a_header_is_named_even_with_occupiers(tmp_path):
    (tmp_path / "b.csv").write_text("building_id,owner,lon,lat\n")
    (tmp_path / "o.csv").write_text(
        "occupier_id,partner,service,building_id,space_m2,space_type\no1,x,library,A,50,library\n"
    )
    with pytest.raises(EstateError) as err:
        load_estate(tmp_path / "b.csv", occupiers=tmp_path / "o.csv", strict=True)
    assert str(err.value).startswith("b.csv: no rows below the header; a register needs at least one building.")
