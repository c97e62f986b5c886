"""Write tests/data/geocode_corpus.jsonl: lead texts as they arrive, each with its known answer.

The answers come from outside the locator: county codes from the GB/T 2260 table
(layers.admin_names.COUNTIES) and a hand-checked list of township seats; coordinates from the
point written (survey X/Y by pyproj, app coordinates by the published GCJ-02/BD-09 forward
formulas); the county a point lies in from the built-in county polygons. Run once:

    PYTHONPATH=. python tests/data/make_geocode_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Transformer
from shapely.geometry import Point

from layers.admin_names import COUNTIES, LEAGUES
from layers.builtin import load_series
from layers.crs import wgs84_to_bd09, wgs84_to_gcj02

OUT = Path(__file__).with_name("geocode_corpus.jsonl")
LEAGUE_OF = dict(LEAGUES)

# Township seats (旗县政府驻地 and other towns), checked against the 2023 statistical division list.
TOWNS = {
    "150121": "察素齐镇",
    "150122": "双河镇",
    "150124": "城关镇",
    "150125": "可可以力更镇",
    "150221": "萨拉齐镇",
    "150222": "金山镇",
    "150223": "百灵庙镇",
    "150421": "天山镇",
    "150422": "林东镇",
    "150423": "大板镇",
    "150424": "林西镇",
    "150425": "经棚镇",
    "150426": "乌丹镇",
    "150428": "锦山镇",
    "150429": "天义镇",
    "150430": "新惠镇",
    "150521": "保康镇",
    "150522": "甘旗卡镇",
    "150523": "开鲁镇",
    "150524": "库伦镇",
    "150525": "大沁他拉镇",
    "150526": "鲁北镇",
    "150621": "树林召镇",
    "150622": "薛家湾镇",
    "150623": "敖勒召其镇",
    "150624": "乌兰镇",
    "150625": "锡尼镇",
    "150626": "嘎鲁图镇",
    "150627": "乌兰木伦镇",
    "150721": "那吉镇",
    "150722": "尼尔基镇",
    "150723": "阿里河镇",
    "150724": "巴彦托海镇",
    "150725": "巴彦库仁镇",
    "150726": "阿木古郎镇",
    "150727": "阿拉坦额莫勒镇",
    "150821": "隆兴昌镇",
    "150822": "巴彦高勒镇",
    "150823": "乌拉山镇",
    "150824": "海流图镇",
    "150825": "巴音宝力格镇",
    "150826": "陕坝镇",
    "150921": "卓资山镇",
    "150922": "长顺镇",
    "150923": "七台镇",
    "150925": "岱海镇",
    "150926": "土贵乌拉镇",
    "150927": "科布尔镇",
    "150928": "白音察干镇",
    "150929": "乌兰花镇",
    "152221": "索伦镇",
    "152222": "巴彦呼舒镇",
    "152223": "音德尔镇",
    "152224": "突泉镇",
    "152522": "别力古台镇",
    "152523": "满都拉图镇",
    "152524": "赛汉塔拉镇",
    "152525": "乌里雅斯太镇",
    "152526": "巴拉嘎尔高勒镇",
    "152527": "宝昌镇",
    "152528": "新宝拉格镇",
    "152529": "明安图镇",
    "152530": "上都镇",
    "152531": "多伦淖尔镇",
    "152921": "巴彦浩特镇",
    "152922": "额肯呼都格镇",
    "152923": "达来呼布镇",
}

SHORT = {
    "准旗": "150622",
    "达旗": "150621",
    "伊旗": "150627",
    "鄂旗": "150624",
    "鄂前旗": "150623",
    "杭旗": "150625",
    "阿左旗": "152921",
    "阿右旗": "152922",
    "额旗": "152923",
    "达茂旗": "150223",
    "土左旗": "150121",
    "土右旗": "150221",
    "科左中旗": "150521",
    "科左后旗": "150522",
    "科右前旗": "152221",
    "科右中旗": "152222",
    "阿旗": "150421",
    "巴左旗": "150422",
    "巴右旗": "150423",
    "克旗": "150425",
    "翁旗": "150426",
    "喀旗": "150428",
    "扎旗": "150526",
    "莫旗": "150722",
    "陈旗": "150725",
    "新左旗": "150726",
    "新右旗": "150727",
    "乌前旗": "150823",
    "乌中旗": "150824",
    "乌后旗": "150825",
    "杭后旗": "150826",
    "察右前旗": "150926",
    "察右中旗": "150927",
    "察右后旗": "150928",
    "东乌旗": "152525",
    "西乌旗": "152526",
    "苏左旗": "152523",
    "苏右旗": "152524",
    "太旗": "152527",
    "正白旗": "152529",
    "托县": "150122",
    "和林县": "150123",
    "莫力达瓦旗": "150722",
    "鄂伦春旗": "150723",
    "鄂温克旗": "150724",
}
OLD = {
    "集宁市": "150902",
    "东胜市": "150602",
    "临河市": "150802",
    "海拉尔市": "150702",
    "布特哈旗": "150783",
    "喜桂图旗": "150782",
    "康巴什新区": "150603",
}
OLD_LEAGUES = {
    "伊盟": "150600",
    "哲盟": "150500",
    "昭盟": "150400",
    "巴盟": "150800",
    "乌盟": "150900",
    "锡盟": "152500",
    "阿盟": "152900",
    "呼盟": "150700",
    "伊克昭盟": "150600",
}

ADDRESS_TEMPLATES = (
    "12369热线：群众反映{league}{county}{town}某煤矿排土场北侧有大量煤矸石倾倒。",
    "{county}{town}附近有人非法采砂，河道被挖开。",
    "内蒙古自治区{league}{county}境内一处草原被开垦，请核查。",
    "媒体报道：{county}{town}一工业园区向沙漠排放废水。",
)

# Points on whole seconds (DMS is exact), spread over the leagues.
POINTS = (
    ((111, 12, 36), (39, 50, 12)),  # 准格尔旗
    ((105, 40, 12), (38, 50, 24)),  # 阿拉善左旗
    ((117, 30, 0), (43, 15, 36)),  # 克什克腾旗 / 西乌旗 area
    ((122, 5, 24), (46, 4, 48)),  # 乌兰浩特
    ((119, 45, 0), (49, 12, 0)),  # 呼伦贝尔
    ((109, 47, 24), (39, 36, 36)),  # 伊金霍洛旗 / 东胜
    ((113, 6, 0), (41, 1, 48)),  # 乌兰察布
    ((107, 25, 12), (40, 45, 0)),  # 巴彦淖尔
)


def _deg(d: tuple[int, int, int]) -> float:
    return d[0] + d[1] / 60 + d[2] / 3600


def _county_of(lon: float, lat: float) -> str | None:
    p = Point(lon, lat)
    for f in load_series("county").features:
        if f.geometry.contains(p):
            return str(f.code)
    return None


def _dms(d: tuple[int, int, int], style: str) -> str:
    a, b, c = d
    return {
        "symbols": f"{a}°{b}′{c}″",
        "chinese": f"{a}度{b}分{c}秒",
        "hyphen": f"{a}-{b:02d}-{c:02d}",
        "ascii": f"{a}°{b}'{c}\"",
        "colon": f"{a}:{b:02d}:{c:02d}",
        "fullwidth": f"{a}°{b}′{c}″".translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "decimal_minutes": f"{a}°{b + c / 60:.4f}′",
    }[style]


def rows() -> list[dict]:
    out: list[dict] = []

    def add(kind: str, text: str, **expect) -> None:
        out.append({"id": f"{kind}-{len(out):03d}", "kind": kind, "text": text, "expect": expect})

    # Addresses: every county with its league, in the four styles in turn.
    for i, (code, name) in enumerate(COUNTIES):
        league = LEAGUE_OF[code[:4] + "00"]
        town = TOWNS.get(code, "")
        template = ADDRESS_TEMPLATES[i % len(ADDRESS_TEMPLATES)]
        text = template.format(league=league, county=name, town=town)
        unresolved = [town] if town and "{town}" in template else []
        add("address", text, code=code, level="county", unresolved=unresolved)
    for short, code in SHORT.items():
        town = TOWNS.get(code)
        text = f"{short}{town}附近" if town else f"{short}某地有人私挖滥采"
        add("short_name", text, code=code, level="county", unresolved=[town] if town else [])
    for old, code in OLD.items():
        add("old_name", f"原{old}郊外一处河滩被倾倒垃圾", code=code, level="county")
    for old, code in OLD_LEAGUES.items():
        add("old_league", f"{old}境内牧民反映草场被占", code=code, level="league")
    alone = [(c, t) for c, t in TOWNS.items() if t != "城关镇"][:12]
    for code, town in alone:  # a township alone: its county is inferred
        add(
            "town_only",
            f"{town}东侧约两公里处有废渣堆放",
            code=code,
            level="county",
            unresolved=[town],
        )

    # Degrees in six (seven) writings, each point labelled in both orders.
    for lon_d, lat_d in POINTS:
        lon, lat = _deg(lon_d), _deg(lat_d)
        county = _county_of(lon, lat)
        for k, style in enumerate(
            ("symbols", "chinese", "hyphen", "ascii", "colon", "fullwidth", "decimal_minutes")
        ):
            lo, la = _dms(lon_d, style), _dms(lat_d, style)
            text = (
                f"巡查记录：东经{lo}，北纬{la}处发现渗坑。"
                if k % 2 == 0
                else f"现场坐标 N{la} E{lo}，疑似非法填埋。"
            )
            add(f"dms_{style}", text, point=[lon, lat], code=county, tolerance_m=0.5)
        add(
            "decimal_labels",
            f"经度{lon:.7f}，纬度{lat:.7f}",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
        )
        add(
            "decimal_suffix",
            f"{lat:.7f}N, {lon:.7f}E",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
        )
        add(
            "decimal_unlabelled",
            f"定位：{lat:.7f},{lon:.7f}",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
        )

    # Survey X/Y in three zones (37, 39, 41): zone prefix, stated central meridian, GeoJSON order.
    for lon, lat in (
        (111.75, 40.80),
        (110.9, 41.3),
        (116.08, 43.94),
        (117.2, 44.6),
        (122.05, 46.08),
        (121.4, 45.3),
    ):
        zone = round(lon / 3)
        fwd = Transformer.from_crs(4490, 4513 + zone - 25, always_xy=True)
        e, n = fwd.transform(lon, lat)
        county = _county_of(lon, lat)
        add(
            "survey_prefix",
            f"测量坐标：X={n:.3f}，Y={e:.3f}",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs=f"EPSG:{4513 + zone - 25}",
        )
        add(
            "survey_cm",
            f"CGCS2000，中央子午线{zone * 3}°，X={n:.3f}m，Y={e % 1e6:.3f}m",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs=f"EPSG:{4534 + zone - 25}",
        )
        add(
            "survey_swapped",
            f"x: {e:.3f}, y: {n:.3f}",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
        )

    # App links and app coordinates (GCJ-02, BD-09).
    for lon_d, lat_d in POINTS:
        lon, lat = _deg(lon_d), _deg(lat_d)
        county = _county_of(lon, lat)
        gx, gy = (float(v) for v in wgs84_to_gcj02(lon, lat))
        bx, by = (float(v) for v in wgs84_to_bd09(lon, lat))
        if _county_of(lon, lat) is None:
            continue
        add(
            "amap_link",
            f"举报人分享位置 https://uri.amap.com/marker?position={gx:.7f},{gy:.7f}"
            "&name=%E4%BD%8D%E7%BD%AE",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs="GCJ-02",
        )
        add(
            "tencent_link",
            f"微信转来：https://apis.map.qq.com/uri/v1/marker?marker=coord:"
            f"{gy:.7f},{gx:.7f};title:现场",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs="GCJ-02",
        )
        add(
            "baidu_link",
            f"http://api.map.baidu.com/marker?location={by:.7f},{bx:.7f}&title=现场&output=html",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs="BD-09",
        )
        add(
            "gcj02_words",
            f"高德地图坐标：{gx:.7f}，{gy:.7f}",
            point=[lon, lat],
            code=county,
            tolerance_m=0.5,
            crs="GCJ-02",
        )

    # Polygon corner lists.
    for lon0, lat0 in ((111.20, 39.83), (109.80, 39.60), (116.10, 43.95), (105.66, 38.84)):
        zone = round(lon0 / 3)
        fwd = Transformer.from_crs(4490, 4513 + zone - 25, always_xy=True)
        corners = [
            (lon0, lat0),
            (lon0 + 0.01, lat0),
            (lon0 + 0.01, lat0 + 0.008),
            (lon0, lat0 + 0.008),
        ]
        lines = []
        for j, (lo, la) in enumerate(corners, 1):
            e, n = fwd.transform(lo, la)
            lines.append(f"{j}  X={n:.2f}  Y={e:.2f}")
        add(
            "polygon_survey",
            "图斑拐点坐标（2000国家大地坐标系）：\n" + "\n".join(lines),
            polygon=[list(c) for c in corners],
            code=_county_of(lon0 + 0.005, lat0 + 0.004),
        )
        add(
            "polygon_degrees",
            "范围拐点：" + "；".join(f"{lo:.6f}E,{la:.6f}N" for lo, la in corners),
            polygon=[list(c) for c in corners],
            code=_county_of(lon0 + 0.005, lat0 + 0.004),
        )

    # Ambiguous: survey coordinates without zone or central meridian; a town name in two counties.
    for lon, lat in ((111.75, 40.80), (117.2, 44.6), (109.8, 39.6)):
        zone = round(lon / 3)
        e, n = Transformer.from_crs(4490, 4534 + zone - 25, always_xy=True).transform(lon, lat)
        add(
            "ambiguous_zone",
            f"X={n:.2f}，Y={e:.2f}",
            ambiguous=True,
            point=[lon, lat],
            tolerance_m=0.5,
            code=_county_of(lon, lat),
        )
    add("ambiguous_short", "城关镇附近有人挖砂", ambiguous=True, code="150124")

    # Hopeless: nothing to locate, or a place outside the region.
    for text in (
        "群众反映有人倾倒垃圾，请尽快处理。",
        "某地一工厂夜间偷排废水，气味刺鼻。",
        "举报电话13912345678，2024-05-12 发现，面积约3.5亩。",
        "河北省承德市围场县一处林地被毁。",
        "陕西省榆林市神木市煤矿塌陷。",
        "位置见链接 https://surl.amap.com/abcd1234",
        "坐标 12.5, 3.7（单位不明）",
        "草原上有一片沙化的地方，具体不清楚。",
        "",
        "东经200度，北纬95度",
    ):
        add("hopeless", text, hopeless=True)
    return out


def main() -> None:
    data = rows()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(data)} rows → {OUT}")


if __name__ == "__main__":
    main()
