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
    assert list(load_estate(tmp_path / "reg.csv", mapping=tmp_path / "map.toml").buildings.index) == ["A_1", "A_2"]


def test_without_a_mapping_their_ids_are_rejected_with_the_fix(tmp_path):
    (tmp_path / "reg.csv").write_text("building_id,owner,easting,northing\nA/1,B,383880,398244\nA2,B,383880,398244\n")
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
    with pytest.raises(EstateError, match=r"unknown section \[bildings\]"):
        load_mapping(tmp_path / "m.toml")


def test_broken_yaml_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "m.yaml").write_text("buildings: [unclosed\n")
    with pytest.raises(EstateError, match="cannot be read"):
        load_mapping(tmp_path / "m.yaml")


def test_apply_mapping_does_not_modify_its_input():
    raw = pd.DataFrame({"Ref": ["A/1"], "Hold": ["FH"]})
    before = raw.copy()
    apply_mapping(raw, TableMapping(columns={"building_id": "Ref", "tenure": "Hold"},
                                    values={"tenure": {"FH": "freehold"}}))
    pd.testing.assert_frame_equal(raw, before)
