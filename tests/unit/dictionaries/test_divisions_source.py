"""divisions.csv as rebuilt from the current code tables: Zhejiang complete, simplified, consistent.

Reads the committed file only (no network). "Current" = valid_to empty; the 市辖区 rows under each
city are GB/T 2260 placeholders, not divisions, and are left out of the county counts.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

DICTIONARIES = Path(__file__).resolve().parents[3] / "dictionaries"
PLACEHOLDER = "市辖区"

# Zhejiang's 90 county-level divisions (37 districts, 20 county-level cities, 33 counties), by city.
ZHEJIANG_BY_CITY = {
    "330100": "330102 330105 330106 330108 330109 330110 330111 330112 330113 330114 "
    "330122 330127 330182",  # 杭州市
    "330200": "330203 330205 330206 330211 330212 330213 330225 330226 330281 330282",  # 宁波市
    "330300": "330302 330303 330304 330305 330324 330326 330327 330328 330329 "
    "330381 330382 330383",  # 温州市
    "330400": "330402 330411 330421 330424 330481 330482 330483",  # 嘉兴市
    "330500": "330502 330503 330521 330522 330523",  # 湖州市
    "330600": "330602 330603 330604 330624 330681 330683",  # 绍兴市
    "330700": "330702 330703 330723 330726 330727 330781 330782 330783 330784",  # 金华市
    "330800": "330802 330803 330822 330824 330825 330881",  # 衢州市
    "330900": "330902 330903 330921 330922",  # 舟山市
    "331000": "331002 331003 331004 331022 331023 331024 331081 331082 331083",  # 台州市
    "331100": "331102 331121 331122 331123 331124 331125 331126 331127 331181",  # 丽水市
}
ZHEJIANG = {code: city for city, codes in ZHEJIANG_BY_CITY.items() for code in codes.split()}

# Traditional-only forms (OpenCC s2t/s2tw/s2hk) of every character the file's names and remarks
# use, plus common traditional place-name characters. 乾 (乾县, 乾安县) is simplified usage.
TRADITIONAL = (
    "亞來侖倉個們倫偉僕儀兒兗內兩冊凱別則剛劃劍動務勝勸勻匯區叢吳呂員啓啟單國圍園圖團堯場塗墊墾"
    "壇壘壩壯壺壽夢夾婁孫宮寧審寬寶將尋岡峯島峽崍崗嵐嶗嶧嶺嶼嶽巒巖師帶幹庫廂廈廠廣廬張強彌彥後"
    "從復徵恆愛慶憑應懷戶揚撫敘於晉暉會東棗棲楊業極榮樂樅樓樹樺橋橫權欒欽歷歸涇涼淥淶渦渾湞湯準"
    "溝溫溮滄滎滿漢漣漵潁潛潤潯澗澠澤澱濟濰濱瀏瀘瀾灘灣灤為烏無煙煩燈營爐爲爾猶獅獨獲獻琿瑤瑪環"
    "瓊甌甕畢當疇疊監盤盧硯碩碭確碼礄礦祿禪禮稜稱積窪窯競節範簡紅納級細紹結統絳綏經綠維綿縉縣績"
    "織羅羣義習聖聞聯聶肅脫膠臘臥臨臺興舊荊莊華萊萬葉蒼蓋蓮蔭蕪蕭薊薌薩藍藴藺蘄蘆蘇蘊蘭蘿處衛衝"
    "裏裡覺觀計訥許詔誼調諸諾謀謙謝謨譙譜讓豐貝貞貢貴費賀資賈賓賚賢賽贊贛趙車軍載輝輪輿轄辦農連"
    "進遊運達遙遜遠遷遼邁邊郟郵鄆鄉鄒鄖鄧鄭鄰鄲鄴鉛銀銅鋒鋼錢錦錫錯鍾鎣鎮鏡鐵鑲長門開間閔閘閣閩"
    "閬閶閻關陘陝陰陳陸陽隨隴雙雜雞離雲電靈靜鞏韓響頂項順頗頭額類風餘館饒馬駐騰驊驛鬥鬱魚魯鮁鮮"
    "鯉鳥鳩鳳鳴鴨鵝鶴鷹鹹鹼鹽麗麥黃點黨齊龍龐"
)


def _rows() -> list[dict[str, str]]:
    with (DICTIONARIES / "divisions.csv").open(encoding="utf-8") as handle:
        assert handle.readline().startswith("# "), "divisions.csv must name its source on line 1"
        return list(csv.DictReader(handle))


def _current_counties(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {
        row["code"]: row
        for row in rows
        if row["level"] == "county" and not row["valid_to"] and row["name"] != PLACEHOLDER
    }


def test_zhejiang_has_its_90_current_counties_with_linping_and_qiantang() -> None:
    counties = _current_counties(_rows())
    zhejiang = {code: row for code, row in counties.items() if code.startswith("33")}
    assert len(ZHEJIANG) == 90
    assert set(zhejiang) == set(ZHEJIANG)
    assert {code: row["parent"] for code, row in zhejiang.items()} == ZHEJIANG
    assert (zhejiang["330113"]["name"], zhejiang["330114"]["name"]) == ("临平区", "钱塘区")


def test_hangzhou_districts_merged_in_2021_stay_as_history() -> None:
    rows = {row["code"]: row for row in _rows()}
    for code, name in (("330103", "下城区"), ("330104", "江干区")):
        assert rows[code]["name"] == name
        assert rows[code]["valid_to"] == "2021-12-31", code
        assert rows[code]["level"] == "county"


def test_names_and_remarks_are_in_simplified_characters() -> None:
    traditional = set(TRADITIONAL)
    bad = [
        (row["code"], row[field])
        for row in _rows()
        for field in ("name", "remark")
        if traditional & set(row[field])
    ]
    assert bad == []
    names = {row["code"]: row["name"] for row in _rows()}
    assert [names[c] for c in ("232761", "232762", "232763", "232764")] == [
        "加格达奇区",
        "松岭区",
        "新林区",
        "呼中区",
    ]


def test_no_code_appears_twice() -> None:
    rows = _rows()
    current = Counter(row["code"] for row in rows if not row["valid_to"])
    assert [code for code, times in current.items() if times > 1] == []
    assert len({row["code"] for row in rows}) == len(rows)


def test_every_current_county_has_a_current_parent() -> None:
    rows = {row["code"]: row for row in _rows()}
    for code, row in _current_counties(list(rows.values())).items():
        parent = rows.get(row["parent"])
        assert parent is not None, code
        assert parent["valid_to"] == "", (code, parent["code"])
        assert parent["code"][:2] == code[:2], code


def test_every_patch_row_names_its_source_and_is_in_the_file() -> None:
    rows = {row["code"]: row for row in _rows()}
    with (DICTIONARIES / "divisions_patch.csv").open(encoding="utf-8") as handle:
        patch = list(csv.DictReader(handle))
    for fix in patch:
        assert fix["source"].strip(), fix["code"]
        row = rows[fix["code"]]
        for field in ("name", "level", "parent", "valid_from", "valid_to", "remark"):
            assert not fix[field] or row[field] == fix[field], (fix["code"], field)
