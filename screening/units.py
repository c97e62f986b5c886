"""The rights holders (docs/rules.md §R2, 第五条第一款): the region and its 12 leagues/cities,
and their names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

REGION_CODE = "150000"
CHINA_CODE = "CHN"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    kind: Literal["盟", "市", "自治区"]

    @property
    def government(self) -> str:
        """The rights holder's name: a 盟 is governed by its 行政公署, a 市 by its 人民政府."""
        if self.kind == "盟":
            return f"{self.name}行政公署"
        return f"{self.name}人民政府"


REGION = Unit(REGION_CODE, "内蒙古自治区", "自治区")

LEAGUES: tuple[Unit, ...] = (
    Unit("150100", "呼和浩特市", "市"),
    Unit("150200", "包头市", "市"),
    Unit("150300", "乌海市", "市"),
    Unit("150400", "赤峰市", "市"),
    Unit("150500", "通辽市", "市"),
    Unit("150600", "鄂尔多斯市", "市"),
    Unit("150700", "呼伦贝尔市", "市"),
    Unit("150800", "巴彦淖尔市", "市"),
    Unit("150900", "乌兰察布市", "市"),
    Unit("152200", "兴安盟", "盟"),
    Unit("152500", "锡林郭勒盟", "盟"),
    Unit("152900", "阿拉善盟", "盟"),
)

LEAGUES_BY_CODE: dict[str, Unit] = {u.code: u for u in LEAGUES}
UNITS_BY_CODE: dict[str, Unit] = {**LEAGUES_BY_CODE, REGION_CODE: REGION}

# Neighbouring countries by ISO 3166 alpha-3, in the names officers use.
COUNTRY_NAMES: dict[str, str] = {"MNG": "蒙古国", "RUS": "俄罗斯", CHINA_CODE: "中国"}


def league_of(code: str | None) -> Unit | None:
    """The league/city of a league or county code (its first four digits), if one of the 12."""
    if not code or len(code) != 6 or not code.isdigit():
        return None
    return LEAGUES_BY_CODE.get(code[:4] + "00")
