"""The committed seed dictionaries are complete and consistent."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from console.core.identifiers import resident_id_problem

DICTIONARIES = Path(__file__).resolve().parents[3] / "dictionaries"
HAINAN_HISTORICAL = "4600"  # former 海南行政区: county codes directly under the province


def _rows(name: str) -> list[dict[str, str]]:
    with (DICTIONARIES / name).open(encoding="utf-8") as handle:
        assert handle.readline().startswith("# "), f"{name} must name its source on line 1"
        return list(csv.DictReader(handle))


def test_every_county_reaches_its_city_and_province() -> None:
    rows = {row["code"]: row for row in _rows("divisions.csv")}
    assert len(rows) > 6000
    for code, row in rows.items():
        if row["level"] != "county":
            continue
        parent = rows[row["parent"]]
        if code.startswith(HAINAN_HISTORICAL):
            assert parent["level"] == "province", code
            continue
        assert parent["level"] == "city", code
        assert rows[parent["parent"]]["level"] == "province", code
        assert parent["parent"] == code[:2] + "0000", code


def test_division_codes_are_unique_and_current_districts_are_open_ended() -> None:
    codes = [row["code"] for row in _rows("divisions.csv")]
    assert len(codes) == len(set(codes))
    rows = {row["code"]: row for row in _rows("divisions.csv")}
    assert (rows["330106"]["name"], rows["330106"]["valid_to"]) == ("西湖区", "")
    assert rows["330103"]["valid_to"] == "2021-12-31"  # 下城区, merged in 2021


def test_the_dictionary_knows_the_division_of_the_sample_resident_id() -> None:
    codes = {row["code"] for row in _rows("divisions.csv")}
    assert resident_id_problem("11010519491231002X", division_known=codes.__contains__) is None


def test_national_codes_are_unique_per_type_and_cover_the_domain_lists() -> None:
    rows = _rows("national_codes.csv")
    keys = Counter((row["type_code"], row["code"]) for row in rows)
    assert max(keys.values()) == 1
    types = {row["type_code"] for row in rows}
    assert types == {
        "registration_type",
        "right_type",
        "id_type",
        "holder_type",
        "co_ownership",
        "ownership_status",
        "seizure_type",
        "advance_type",
        "mortgage_mode",
        "house_use",
        "business_code",
        "workflow_role",
    }
    business = [row for row in rows if row["type_code"] == "business_code"]
    registration = {row["code"] for row in rows if row["type_code"] == "registration_type"}
    assert all(len(b["code"]) == 7 and b["code"][:3] in registration for b in business)
