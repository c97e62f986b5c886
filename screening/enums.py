"""The rulebook's vocabularies (docs/rules.md §R3, §R4, §R7): codes the API uses, names officers
read."""

from __future__ import annotations

from enum import StrEnum


class SourceChannel(StrEnum):
    """第十二条第一款第（一）至（十）项: where a lead came from."""

    INSPECTION = "inspection"
    EMERGENCY = "emergency"
    ADMIN_PENALTY = "admin_penalty"
    CRIMINAL = "criminal"
    SENSITIVE_AREA = "sensitive_area"
    ROUTINE_ENFORCEMENT = "routine_enforcement"
    PETITION_MEDIA = "petition_media"
    SUPERIOR_ASSIGNED = "superior_assigned"
    PROCURATORATE = "procuratorate"
    OTHER = "other"


# channel -> (item citation, the regulation's wording)
SOURCE_CHANNEL_TEXT: dict[SourceChannel, tuple[str, str]] = {
    SourceChannel.INSPECTION: (
        "第十二条第一款第（一）项",
        "中央和自治区生态环境保护督察发现的案件线索",
    ),
    SourceChannel.EMERGENCY: ("第十二条第一款第（二）项", "突发生态环境事件"),
    SourceChannel.ADMIN_PENALTY: (
        "第十二条第一款第（三）项",
        "发生生态环境损害的资源与环境行政处罚案件",
    ),
    SourceChannel.CRIMINAL: ("第十二条第一款第（四）项", "涉嫌构成破坏环境资源保护犯罪的案件"),
    SourceChannel.SENSITIVE_AREA: (
        "第十二条第一款第（五）项",
        "在生态保护红线等禁止开发区域、国家和自治区级国土空间规划中确定的重点生态功能区"
        "发生的环境污染、生态破坏事件",
    ),
    SourceChannel.ROUTINE_ENFORCEMENT: (
        "第十二条第一款第（六）项",
        "日常监管、执法巡查、各项资源与环境专项行动发现的案件线索",
    ),
    SourceChannel.PETITION_MEDIA: (
        "第十二条第一款第（七）项",
        "信访投诉、举报和媒体曝光涉及的案件线索",
    ),
    SourceChannel.SUPERIOR_ASSIGNED: ("第十二条第一款第（八）项", "上级机关交办的案件线索"),
    SourceChannel.PROCURATORATE: ("第十二条第一款第（九）项", "检察机关移送的案件线索"),
    SourceChannel.OTHER: ("第十二条第一款第（十）项", "赔偿权利人确定的其他线索渠道"),
}


class Department(StrEnum):
    """The departments a rights holder may designate (第五条第三款, 第六条)."""

    ECOLOGY_ENVIRONMENT = "ecology_environment"
    NATURAL_RESOURCES = "natural_resources"
    HOUSING_URBAN_RURAL = "housing_urban_rural"
    WATER_RESOURCES = "water_resources"
    AGRICULTURE_ANIMAL_HUSBANDRY = "agriculture_animal_husbandry"
    FORESTRY_GRASSLAND = "forestry_grassland"


# code -> (region-level name, league-level suffix, generic name)
DEPARTMENT_NAMES: dict[Department, tuple[str, str, str]] = {
    Department.ECOLOGY_ENVIRONMENT: ("自治区生态环境厅", "生态环境局", "生态环境部门"),
    Department.NATURAL_RESOURCES: ("自治区自然资源厅", "自然资源局", "自然资源部门"),
    Department.HOUSING_URBAN_RURAL: (
        "自治区住房和城乡建设厅",
        "住房和城乡建设局",
        "住房城乡建设部门",
    ),
    Department.WATER_RESOURCES: ("自治区水利厅", "水利局", "水利部门"),
    Department.AGRICULTURE_ANIMAL_HUSBANDRY: ("自治区农牧厅", "农牧局", "农牧部门"),
    Department.FORESTRY_GRASSLAND: ("自治区林业和草原局", "林业和草原局", "林草部门"),
}

# 公安机关 is not a responsible department but cooperates on criminal leads (第六条).
PUBLIC_SECURITY = "public_security"
PUBLIC_SECURITY_NAMES = ("自治区公安厅", "公安局", "公安机关")


class CaseType(StrEnum):
    """第六条's case types, each mapped to a department by RulebookConfig.department_table."""

    POLLUTION_DISCHARGE = "pollution_discharge"
    ENVIRONMENTAL_EMERGENCY = "environmental_emergency"
    FARMLAND_OCCUPATION = "farmland_occupation"
    LAND_DESTRUCTION = "land_destruction"
    ILLEGAL_MINING = "illegal_mining"
    WASTE_DUMPING = "waste_dumping"
    URBAN_SEWAGE = "urban_sewage"
    URBAN_GREEN_SPACE = "urban_green_space"
    ILLEGAL_SAND_MINING = "illegal_sand_mining"
    ILLEGAL_WATER_WITHDRAWAL = "illegal_water_withdrawal"
    SOIL_EROSION = "soil_erosion"
    AQUATIC_WILDLIFE = "aquatic_wildlife"
    FISHERY_DAMAGE = "fishery_damage"
    LIVESTOCK_WASTE = "livestock_waste"
    RURAL_HOUSING_ON_FARMLAND = "rural_housing_on_farmland"
    AGRI_INPUT_WASTE = "agri_input_waste"
    FOREST_GRASS_WETLAND_DAMAGE = "forest_grass_wetland_damage"
    ILLEGAL_LOGGING = "illegal_logging"
    WILDLIFE_POACHING = "wildlife_poaching"
    OTHER = "other"


CASE_TYPE_TEXT: dict[CaseType, str] = {
    CaseType.POLLUTION_DISCHARGE: "因违法违规排污造成的环境污染或生态破坏",
    CaseType.ENVIRONMENTAL_EMERGENCY: "突发环境事件",
    CaseType.FARMLAND_OCCUPATION: "违法违规占用耕地",
    CaseType.LAND_DESTRUCTION: "土地资源破坏",
    CaseType.ILLEGAL_MINING: "违法开采矿产资源造成的生态破坏",
    CaseType.WASTE_DUMPING: "违法违规倾倒生活垃圾、建筑垃圾",
    CaseType.URBAN_SEWAGE: "城镇生活污水污染环境",
    CaseType.URBAN_GREEN_SPACE: "破坏城镇园林绿地",
    CaseType.ILLEGAL_SAND_MINING: "在河道、湖库管理范围内非法采砂",
    CaseType.ILLEGAL_WATER_WITHDRAWAL: "违规取用水资源",
    CaseType.SOIL_EROSION: "违法违规造成人为水土流失危害",
    CaseType.AQUATIC_WILDLIFE: "水生野生动物保护",
    CaseType.FISHERY_DAMAGE: "破坏渔业资源",
    CaseType.LIVESTOCK_WASTE: "未按规定无害化处理养殖环节染疫畜禽和病害畜禽养殖废弃物",
    CaseType.RURAL_HOUSING_ON_FARMLAND: "农村村民非法在耕地上建住宅",
    CaseType.AGRI_INPUT_WASTE: "未按照规定及时回收肥料农药等农业投入品的包装废弃物和农用薄膜",
    CaseType.FOREST_GRASS_WETLAND_DAMAGE: "违法违规破坏林地、草地、湿地",
    CaseType.ILLEGAL_LOGGING: "盗伐、滥伐林木",
    CaseType.WILDLIFE_POACHING: "盗猎（采）濒危陆生野生动植物",
    CaseType.OTHER: "其他",
}


class Grade(StrEnum):
    """Event grades, in order (一般 < 较大 < 重大 < 特别重大)."""

    GENERAL = "general"
    LARGER = "larger"
    MAJOR = "major"
    ESPECIALLY_MAJOR = "especially_major"

    @property
    def rank(self) -> int:
        return _GRADE_RANK[self]


_GRADE_RANK = {g: i for i, g in enumerate(Grade)}


GRADE_TEXT: dict[Grade, str] = {
    Grade.GENERAL: "一般",
    Grade.LARGER: "较大",
    Grade.MAJOR: "重大",
    Grade.ESPECIALLY_MAJOR: "特别重大",
}

# Kinds of sensitive area layers (R3 第十二条第一款第（五）项, R5 第十五条第五款第（一）项).
RED_LINE = "red_line"
NATURE_RESERVE = "nature_reserve"
KEY_FUNCTION_ZONE = "key_function_zone"
PROHIBITED_ZONE = "prohibited_zone"
SENSITIVE_KINDS = (RED_LINE, NATURE_RESERVE, KEY_FUNCTION_ZONE, PROHIBITED_ZONE)
SENSITIVE_KIND_TEXT = {
    RED_LINE: "生态保护红线",
    NATURE_RESERVE: "自然保护地",
    KEY_FUNCTION_ZONE: "重点生态功能区",
    PROHIBITED_ZONE: "禁止开发区域",
}
