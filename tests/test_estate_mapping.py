"""Column mappings turn a partner's own names, values and IDs into ours; bad mappings say why."""

from __future__ import annotations

import pandas as pd
import pytest

from estate import EstateError, builtin_mappings, load_estate, load_mapping
from estate.mapping import TableMapping, apply_mapping

REGISTER = "Ref,Site,Landlord,X,Y,Hold,Area\nA/1,Town Hall,Borough,383880,398244,FH,1200\nA-2,Depot,Borough,384000,398300,LH,300\n"


def test_a_yaml_mapping_renames_maps_values_and_ids(tmp_path):
    (tmp_path / "reg.csv").write_text(REGISTER)
    (tmp_path / "map.yaml").write_text(
        "buildings:\n"
        "  columns: {building_id: Ref, name: Site, owner: Landlord, easting: X, northing: Y, tenure: Hold, gia_m2: Area}\n"
        "  values: {tenure: {FH: freehold, LH: leasehold}}\n"
        "  ids: {building_id: {replace: {'/': '_', '-': '_'}, prefix: B_}}\n"
        "  constants: {owner_type: council}\n"
    )
    estate = load_estate(tmp_path / "reg.csv", mapping=tmp_path / "map.yaml")
    b = estate.buildings
    assert list(b.index) == ["B_A_1", "B_A_2"]
    assert b.at["B_A_2", "tenure"] == "leasehold"
    assert b.at["B_A_1", "owner_type"] == "council"
    assert b.at["B_A_1", "gia_m2"] == 1200.0


def test_a_toml_mapping_works_the_same(tmp_path):
    (tmp_path / "reg.csv").write_text(REGISTER)
    (tmp_path / "map.toml").write_text(
        '[buildings.columns]\nbuilding_id = "Ref"\nowner = "Landlord"\neasting = "X"\nnorthing = "Y"\n'
        '[buildings.ids.building_id]\nreplace = { "/" = "_", "-" = "_" }\n'
    )
    assert list(load_estate(tmp_path / "reg.csv", mapping=tmp_path / "map.toml").buildings.index) == [
        "A_1",
        "A_2",
    ]


def test_without_a_mapping_their_ids_are_rejected_with_the_fix(tmp_path):
    (tmp_path / "reg.csv").write_text(
        "building_id,owner,easting,northing\nA/1,B,383880,398244\nA2,B,383880,398244\n"
    )
    reasons = load_estate(tmp_path / "reg.csv").rejected["buildings"]["reasons"].tolist()
    assert reasons == ["building_id may only use letters A-Z a-z, digits 0-9 and '_'"]


def test_transparency_code_is_built_in():
    assert "transparency-code" in builtin_mappings()
    mapping = load_mapping("transparency-code")
    assert mapping.for_table("buildings").columns["building_id"] == "AssetCode"


def test_unknown_mapping_name_lists_the_built_in_ones():
    with pytest.raises(EstateError, match="neither a file nor a built-in mapping.*transparency-code"):
        load_mapping("no-such-mapping")


def test_unknown_section_in_a_mapping_is_an_error(tmp_path):
    (tmp_path / "m.toml").write_text("[bildings.columns]\nbuilding_id = 'Ref'\n")
    with pytest.raises(EstateError) as caught:
        load_mapping(tmp_path / "m.toml")
    assert str(caught.value) == (
        "Mapping m.toml: the file has unknown key 'bildings' (did you mean 'buildings'?). Allowed keys: "
        "name, description, buildings, occupiers, zones, access, compatibility."
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "columns.toml",
            '[buildings]\ncolumns = "Ref"\n',
            'Mapping columns.toml: [buildings.columns] is text ("Ref"), not a table of keys. Fix: give it '
            "keys, or remove it.",
        ),
        (
            "null.yaml",
            "buildings:\n",
            "Mapping null.yaml: [buildings] is empty (null), not a table of keys. Fix: give it keys, or remove it.",
        ),
        (
            "nullcolumns.yaml",
            "buildings:\n  columns: null\n",
            "Mapping nullcolumns.yaml: [buildings.columns] is empty (null), not a table of keys. Fix: give "
            "it keys, or remove it.",
        ),
        (
            "crs.toml",
            '[buildings.read]\ncrs = "EPSG:999999"\n',
            'Mapping crs.toml: buildings.read.crs = "EPSG:999999" is not a coordinate reference system '
            'pyproj knows. Allowed: an EPSG code as text. Fix: e.g. crs = "EPSG:27700" (British National '
            'Grid) or crs = "EPSG:4326" (longitude/latitude).',
        ),
        (
            "crsnumber.toml",
            "[buildings.read]\ncrs = 27700\n",
            "Mapping crsnumber.toml: buildings.read.crs = 27700 is a number. Allowed: an EPSG code as text. "
            'Fix: crs = "EPSG:27700".',
        ),
        (
            "encoding.toml",
            '[buildings.read]\nencoding = "latin-99"\n',
            'Mapping encoding.toml: buildings.read.encoding = "latin-99" is not a known text encoding. '
            'Allowed: a Python codec name. Fix: e.g. encoding = "utf-8", "latin-1" or "cp1252".',
        ),
        (
            "readkey.toml",
            '[buildings.read]\nencodng = "latin-1"\n',
            "Mapping readkey.toml: [buildings.read] has unknown key 'encodng' (did you mean 'encoding'?). "
            "Allowed keys: encoding, crs, decimal.",
        ),
        (
            "number.toml",
            "[buildings.columns]\nbuilding_id = 5\n",
            "Mapping number.toml: buildings.columns.building_id = 5 is a whole number, not text. Allowed: "
            'text. Fix: put it in quotes: building_id = "5".',
        ),
        (
            "yesno.yaml",
            "buildings:\n  values: {has_lift: {yes: lift}}\n",
            "Mapping yesno.yaml: [buildings.values.has_lift] has the key true, which YAML reads as "
            'true/false, not as the text in the file. Fix: put the key in quotes, e.g. "yes": true.',
        ),
        (
            "nan.toml",
            "[buildings.constants]\nowner_type = nan\n",
            "Mapping nan.toml: buildings.constants.owner_type = nan is not a finite number. Allowed: text, "
            'a finite number or true/false. Fix: give one value, e.g. "freehold", or remove the line.',
        ),
        (
            "list.yaml",
            "buildings:\n  constants: {owner_type: [a, b]}\n",
            'Mapping list.yaml: buildings.constants.owner_type = ["a", "b"] is a list. Allowed: text, a '
            'finite number or true/false. Fix: give one value, e.g. "freehold", or remove the line.',
        ),
        (
            "section.toml",
            '[buildings.colums]\nbuilding_id = "Ref"\n',
            "Mapping section.toml: [buildings] has unknown key 'colums' (did you mean 'columns'?). "
            "Allowed keys: columns, values, ids, constants, read.",
        ),
        (
            "idrule.toml",
            "[buildings.ids.building_id]\nreplce = {}\n",
            "Mapping idrule.toml: [buildings.ids.building_id] has unknown key 'replce' (did you mean "
            "'replace'?). Allowed keys: replace, prefix.",
        ),
        (
            "prefix.toml",
            "[buildings.ids.building_id]\nprefix = 5\n",
            "Mapping prefix.toml: buildings.ids.building_id.prefix = 5 is a whole number, not text. "
            'Allowed: text. Fix: put it in quotes: prefix = "5".',
        ),
        (
            "list.yml",
            "- a\n- b\n",
            'Mapping list.yml: the file is a list (["a", "b"]), not a table of keys. Fix: write one section '
            "per table, e.g. [buildings.columns].",
        ),
        (
            "name.toml",
            "name = 3\n",
            'Mapping name.toml: name = 3 is a whole number, not text. Allowed: text. Fix: put it in quotes: name = "3".',
        ),
    ],
)
def test_a_mapping_value_of_the_wrong_kind_is_refused_naming_file_key_and_value(
    tmp_path, name, text, message
):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(EstateError) as caught:
        load_mapping(tmp_path / name)
    assert str(caught.value) == message


def test_a_mapping_path_that_is_a_folder_or_not_utf8_is_a_clean_error(tmp_path):
    folder = tmp_path / "maps.toml"
    folder.mkdir()
    with pytest.raises(EstateError) as caught:
        load_mapping(folder)
    assert (
        str(caught.value) == f"Mapping {folder}: is a folder, not a file. Give the path of the file itself."
    )
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "\xe9"\n')
    with pytest.raises(EstateError) as caught:
        load_mapping(latin)
    assert str(caught.value) == (
        f"Mapping {latin}: not UTF-8 text (byte 0xe9 at position 8). Save it as UTF-8 (plain text)."
    )


def test_yaml_values_of_every_scalar_kind_are_read_as_text(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "name: ok\nbuildings:\n  values: {floors: {1: one, '2': 2, 'x': true}}\n"
        "  constants: {owner_type: council, storeys: 2}\n  read: {crs: 'EPSG:27700', encoding: latin-1}\n"
    )
    table = load_mapping(tmp_path / "m.yaml").for_table("buildings")
    assert table.values == {"floors": {"1": "one", "2": "2", "x": "true"}}
    assert table.constants == {"owner_type": "council", "storeys": 2}
    assert table.read == {"crs": "EPSG:27700", "encoding": "latin-1"}


def test_broken_yaml_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "m.yaml").write_text("buildings: [unclosed\n")
    with pytest.raises(EstateError, match="cannot be read"):
        load_mapping(tmp_path / "m.yaml")


def test_apply_mapping_does_not_modify_its_input():
    raw = pd.DataFrame({"Ref": ["A/1"], "Hold": ["FH"]})
    before = raw.copy()
    apply_mapping(
        raw,
        TableMapping(columns={"building_id": "Ref", "tenure": "Hold"}, values={"tenure": {"FH": "freehold"}}),
    )
    pd.testing.assert_frame_equal(raw, before)
