"""A lead's course as pure rules (docs/rules.md §R5, §R9): statuses, open/closed, the filing
decisions of 第十五条 and the checks that refuse a decision the regulation forbids.

One definition of open and closed, imported by the service, the pages and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    """Where a lead stands (第十三条 tracking; 第十四条 check; 第十五条 decisions)."""

    RECEIVED = "received"
    PRELIMINARY_CHECK = "preliminary_check"  # 初步核查中 (第十四条)
    FILED = "filed"  # 立案 (第十五条第一款)
    NOT_FILED = "not_filed"  # 不启动索赔程序 (第十五条第二款、第三款)
    EXCLUDED = "excluded"  # 不予筛查 (第十二条第二款)
    TERMINATED = "terminated"  # 终止索赔程序 (第十五条第四款)


STATUS_TEXT: dict[str, str] = {
    Status.RECEIVED: "已接收",
    Status.PRELIMINARY_CHECK: "初步核查中",
    Status.FILED: "已立案",
    Status.NOT_FILED: "不启动索赔程序",
    Status.EXCLUDED: "不予筛查（已修复）",
    Status.TERMINATED: "已终止索赔程序",
}
# Open: awaiting the 第十五条 decision. Closed: no further screening decision is due.
OPEN_STATUSES: tuple[str, ...] = (Status.RECEIVED, Status.PRELIMINARY_CHECK)
CLOSED_STATUSES: tuple[str, ...] = (Status.NOT_FILED, Status.EXCLUDED, Status.TERMINATED)


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def is_closed(status: str) -> bool:
    return status in CLOSED_STATUSES


class FilingDecision(StrEnum):
    FILE = "file"  # 立案 (第十五条第一款)
    NOT_FILE = "not_file"  # 不启动索赔程序 (第十五条第二款)
    TERMINATE = "terminate"  # 终止索赔程序 (第十五条第四款)


class FilingGround(StrEnum):
    """第十五条第二款第（一）至（六）项."""

    ALREADY_PAID = "already_paid"
    COURT_JUDGMENT = "court_judgment"
    MINOR = "minor"
    OBLIGOR_GONE = "obligor_gone"
    LAWFUL_DISCHARGE = "lawful_discharge"
    OTHER = "other"


FILING_GROUND_TEXT: dict[FilingGround, tuple[str, str]] = {
    FilingGround.ALREADY_PAID: ("第十五条第二款第（一）项", "赔偿义务人已经履行赔偿义务"),
    FilingGround.COURT_JUDGMENT: (
        "第十五条第二款第（二）项",
        "人民法院已就同一生态环境损害形成生效裁判文书，赔偿权利人的索赔请求已被得到支持",
    ),
    FilingGround.MINOR: (
        "第十五条第二款第（三）项",
        "环境污染或者生态破坏行为造成的生态环境损害显著轻微，且不需要赔偿",
    ),
    FilingGround.OBLIGOR_GONE: (
        "第十五条第二款第（四）项",
        "承担赔偿义务的法人终止、非法人组织解散或者自然人死亡，且无财产可供执行",
    ),
    FilingGround.LAWFUL_DISCHARGE: (
        "第十五条第二款第（五）项",
        "赔偿义务人依法持证排污，符合国家规定",
    ),
    FilingGround.OTHER: ("第十五条第二款第（六）项", "其他可以不启动索赔程序的情形"),
}

STATUS_AFTER: dict[FilingDecision, Status] = {
    FilingDecision.FILE: Status.FILED,
    FilingDecision.NOT_FILE: Status.NOT_FILED,
    FilingDecision.TERMINATE: Status.TERMINATED,
}
DECISION_CITATION: dict[FilingDecision, str] = {
    FilingDecision.FILE: "第十五条第一款",
    FilingDecision.NOT_FILE: "第十五条第二款、第三款",
    FilingDecision.TERMINATE: "第十五条第四款",
}

# docs/rules.md §R5.2: a preliminary check that ends in one of these grounds has found damage
# (paid, judged, minor, lawful discharge, other); 第（四）项 says nothing of the damage itself.
ESTABLISHING_GROUNDS = frozenset(
    {
        FilingGround.ALREADY_PAID,
        FilingGround.COURT_JUDGMENT,
        FilingGround.MINOR,
        FilingGround.LAWFUL_DISCHARGE,
        FilingGround.OTHER,
    }
)


def establishes_damage(status: str, grounds: Collection[str]) -> bool:
    """Whether a lead in `status` (decided on `grounds`) is established earlier damage for
    第十五条第五款第（二）项 (docs/rules.md §R5.2): filed, terminated, or not filed on grounds
    （一）（二）（三）（五）（六）. Open and excluded leads (第十二条第二款) do not count."""
    if status in (Status.FILED, Status.TERMINATED):
        return True
    if status == Status.NOT_FILED:
        return any(g in ESTABLISHING_GROUNDS for g in grounds)
    return False


class FilingRefused(Exception):
    """The regulation forbids the requested filing decision (docs/rules.md §R5.4).

    `kind`: "conflict" (the lead's facts forbid it: HTTP 409) or "incomplete" (the request
    lacks a finding the regulation requires: HTTP 422). Messages are in Chinese.
    """

    def __init__(
        self, kind: Literal["conflict", "incomplete"], field: str, message: str, detail: str
    ) -> None:
        super().__init__(detail)
        self.kind, self.field, self.message, self.detail = kind, field, message, detail


def check_transition(status: str, decision: FilingDecision) -> None:
    """第十五条: file / not file only while the check is open; terminate only a filed case
    (第十五条第四款)."""
    label = STATUS_TEXT.get(status, status)
    if decision == FilingDecision.TERMINATE:
        if status != Status.FILED:
            raise FilingRefused(
                "conflict",
                "decision",
                "当前状态不能终止。",
                f"线索当前状态为“{label}”：只有已立案的案件才能终止索赔程序（第十五条第四款）。",
            )
        return
    if status not in OPEN_STATUSES:
        hint = (
            "已立案的案件可决定终止（terminate，第十五条第四款）。"
            if status == Status.FILED
            else ""
        )
        raise FilingRefused(
            "conflict",
            "decision",
            f"当前状态“{label}”不允许此操作。",
            f"线索当前状态为“{label}”，已有结论，不能再作立案或不启动的决定。{hint}",
        )


OVERRIDE_TEXT = {
    "red_line": "损害位于生态保护红线内（第十五条第五款第（一）项）",
    "nature_reserve": "损害位于自然保护地内（第十五条第五款第（一）项）",
    "repeat_within_2_years": "同一赔偿义务人两年内再次发生（第十五条第五款第（二）项）",
    "region_decision": "自治区人民政府或其指定部门决定启动（第十五条第五款第（三）项）",
}


def check_minor_ground(
    decision: FilingDecision,
    grounds: Collection[str],
    *,
    is_minor: bool,
    override: bool | None,
    override_reasons: Sequence[str],
    override_checked: bool,
    no_compensation_needed: bool | None,
    impact_only: bool = False,
    impact_criterion: int | None = None,
) -> None:
    """第十五条第二款第（三）项 and 第十五条第五款 on the decision as it stands now.

    Ground （三） has two conditions — 显著轻微，且不需要赔偿 — so not filing (or terminating) on
    it needs the recorded finding `no_compensation_needed`; and a minor case the override
    catches must be claimed. When the minor finding rests on 第四十八条第（二）项 alone, the
    criterion (1–5) that supports "no obvious impact" must be named.
    """
    if decision == FilingDecision.FILE or FilingGround.MINOR not in grounds:
        return
    action = "不启动索赔程序" if decision == FilingDecision.NOT_FILE else "终止索赔程序"
    if override is True:
        listed = "；".join(OVERRIDE_TEXT.get(r, r) for r in override_reasons) or "当前结论认定适用"
        raise FilingRefused(
            "conflict",
            "grounds",
            f"第十五条第五款排除“显著轻微”情形：{listed}。",
            f"不能以“显著轻微”（第十五条第二款第（三）项）为由{action}：依照第十五条第五款，"
            f"存在下列情形之一的，应当启动索赔程序——{listed}。",
        )
    if not no_compensation_needed:
        raise FilingRefused(
            "incomplete",
            "no_compensation_needed",
            "以“显著轻微”为由须认定不需要赔偿：核实后置为 true，并在理由中说明。",
            f"第十五条第二款第（三）项要求“显著轻微，且不需要赔偿”：以此为由{action}，"
            "须同时记录“不需要赔偿”的认定（no_compensation_needed: true）。",
        )
    if impact_only and impact_criterion is None:
        raise FilingRefused(
            "incomplete",
            "no_obvious_impact_criterion",
            "请填写支持“未造成明显影响”的第四十八条第（二）项判定标准（1–5）。",
            "该线索仅以“未造成明显影响”认定显著轻微：须写明依据第四十八条第（二）项哪一目"
            "（1 水大气土壤污染、2 固体废物、3 野生动植物、4 不予行政处罚情形、5 自治区认定）。",
        )
    if override is None and is_minor and not override_checked:
        raise FilingRefused(
            "conflict",
            "override_checked",
            "须先核实第十五条第五款情形。",
            "无法自动判断是否存在第十五条第五款规定的情形（生态保护红线、自然保护地图层缺失、"
            "定位过粗或重叠低于测量精度）。请核实损害是否位于生态保护红线或自然保护地内、同一"
            "赔偿义务人两年内是否再次发生，将核实情况写入理由，并将 override_checked 置为 true "
            "后重新提交。",
        )
