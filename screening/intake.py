"""Lead intake (docs/rules.md §R3): the channel (第十二条第一款), the sensitive-area lead
(第十二条第一款第（五）项), exclusion of remediated leads (第十二条第二款) and the case-handling
list (第十三条)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from screening.enums import (
    KEY_FUNCTION_ZONE,
    NATURE_RESERVE,
    PROHIBITED_ZONE,
    RED_LINE,
    SENSITIVE_KIND_TEXT,
    SOURCE_CHANNEL_TEXT,
    SourceChannel,
)
from screening.notices import Notice
from screening.sensitive import ESSENTIAL_KINDS, SensitiveAreas

SENSITIVE_LEAD_CITATION = "第十二条第一款第（五）项"
EXCLUSION_CITATION = "第十二条第二款"
LIST_CITATION = "第十三条第一款"
LEAD_KINDS = (RED_LINE, PROHIBITED_ZONE, NATURE_RESERVE, KEY_FUNCTION_ZONE)


@dataclass(frozen=True, slots=True)
class Intake:
    source_channel: str | None
    channel_citation: str | None
    sensitive_area_lead: bool | None
    sensitive_basis: tuple[str, ...]  # kinds touched, or "source_channel"
    excluded: bool
    in_scope: bool  # False when the area lies outside the region (第二条)
    report_to: str | None  # the same-level ecology-environment department (汇总), every lead
    notices: tuple[Notice, ...]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        cites = [c for c in (self.channel_citation,) if c]
        if self.sensitive_area_lead:
            cites.append(SENSITIVE_LEAD_CITATION)
        if self.excluded:
            cites.append(EXCLUSION_CITATION)
        cites.append(LIST_CITATION)
        return {
            "source_channel": self.source_channel,
            "channel_citation": self.channel_citation,
            "sensitive_area_lead": self.sensitive_area_lead,
            "sensitive_basis": list(self.sensitive_basis),
            "excluded": self.excluded,
            "report_to": self.report_to,
            "in_scope": self.in_scope,
            "tracked": self.in_scope and not self.excluded,
            "citations": cites,
            "explanation": self.explanation,
        }


def decide_intake(
    source_channel: str | None,
    already_remediated: bool,
    sensitive: SensitiveAreas,
    ecology_department_name: str | None,
    in_scope: bool = True,
) -> Intake:
    """第十二条、第十三条、第十四条 (docs/rules.md §R3)."""
    # The area counts only through each kind's status: the same statuses, the same intake.
    statuses = tuple(sensitive.status(k) for k in LEAD_KINDS)
    return _intake(source_channel, already_remediated, statuses, ecology_department_name, in_scope)


@lru_cache(maxsize=1024)
def _intake(
    source_channel: str | None,
    already_remediated: bool,
    statuses: tuple[bool | None, ...],
    ecology_department_name: str | None,
    in_scope: bool,
) -> Intake:
    status = dict(zip(LEAD_KINDS, statuses, strict=True))
    notices: list[Notice] = []
    parts: list[str] = []
    channel: SourceChannel | None = None
    if source_channel:
        try:
            channel = SourceChannel(source_channel)
        except ValueError:
            notices.append(
                Notice(
                    "unknown_source_channel",
                    f"线索来源 {source_channel!r} 不在第十二条第一款所列渠道中，按“其他”处理。",
                )
            )
    cite = None
    if channel is not None:
        cite, text = SOURCE_CHANNEL_TEXT[channel]
        parts.append(f"线索来源：{text}（{cite}）")

    touched = tuple(k for k in LEAD_KINDS if status[k])
    basis: tuple[str, ...] = touched
    lead: bool | None
    if touched:
        lead = True
        names = "、".join(SENSITIVE_KIND_TEXT[k] for k in touched)
        parts.append(
            f"损害区域位于{names}，无论从何渠道发现，均属{SENSITIVE_LEAD_CITATION}规定的线索"
        )
    elif channel == SourceChannel.SENSITIVE_AREA:
        lead, basis = True, ("source_channel",)
        parts.append(f"提交人按{SENSITIVE_LEAD_CITATION}报送，属敏感区域线索")
        if not any(status[k] is None for k in ESSENTIAL_KINDS):
            notices.append(
                Notice(
                    "sensitive_channel_without_overlap",
                    "线索按第十二条第一款第（五）项报送，但现有图层未显示损害区域位于生态保护红线、"
                    "自然保护地或重点生态功能区内，请核实位置或图层。",
                )
            )
    elif any(status[k] is None for k in ESSENTIAL_KINDS):
        lead = None
        parts.append(f"是否属于{SENSITIVE_LEAD_CITATION}规定的线索无法判断（敏感区状态未知）")
    else:
        lead = False
        parts.append("损害区域不涉及生态保护红线、禁止开发区域或重点生态功能区")
    # 第十二条第一款 covers every channel (一)–(十), not only item (五): after the preliminary
    # check each lead goes to the same-level ecology-environment department to be collected.
    report_to = ecology_department_name if in_scope and not already_remediated else None
    if report_to:
        parts.append(f"完成初步核查后，应将案件作为线索送{report_to}汇总（第十二条第一款）")

    if already_remediated:
        notices.append(
            Notice(
                "excluded_remediated",
                "该线索已通过行政执法、诉讼等其他途径实现生态环境损害修复，依第十二条第二款不纳入"
                "线索筛查范围；判定结果仅供参考，不计算办理期限。",
            )
        )
        parts.append(f"已实现修复，依{EXCLUSION_CITATION}不纳入线索筛查范围")
    elif not in_scope:
        parts.append("损害区域不在自治区行政区域内，不适用本规定（第二条），不纳入案件办理清单")
    else:
        parts.append(f"纳入案件办理清单，实行跟踪管理（{LIST_CITATION}）")
    return Intake(
        source_channel,
        cite,
        lead,
        basis,
        already_remediated,
        in_scope,
        report_to,
        tuple(notices),
        "；".join(parts) + "。",
    )
