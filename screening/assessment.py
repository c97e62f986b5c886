"""Simplified assessment (docs/rules.md §R6, 第二十条): the service checks the amount; the
officer checks the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from screening.config import RulebookConfig

CITATION = "第二十条"


@dataclass(frozen=True, slots=True)
class SimplifiedAssessment:
    eligible_by_amount: bool | None  # None: no amount given
    limit_yuan: float
    min_experts: int
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "eligible_by_amount": self.eligible_by_amount,
            "limit_yuan": self.limit_yuan,
            "min_experts": self.min_experts,
            "other_conditions_confirmed_by": "officer",
            "citations": [CITATION],
            "explanation": self.explanation,
        }


def decide_simplified(amount: float | None, config: RulebookConfig) -> SimplifiedAssessment:
    """第二十条 on the amount (docs/rules.md §R6)."""
    limit = config.simplified_amount_yuan
    rest = (
        f"损害事实简单、责任认定无争议、生态环境不利影响较小等其他条件由经办人员确认；简易评估意见"
        f"应当不少于 {config.simplified_min_experts} 名专家共同出具（{CITATION}）"
    )
    if amount is None:
        eligible, head = None, "未填写损害数额，无法按数额判断能否适用简易评估"
    else:
        eligible = amount <= limit
        verdict = "不超过" if eligible else "超过"
        outcome = "数额上可适用简易评估" if eligible else "不适用简易评估"
        head = f"损害数额 {amount:g} 元，{verdict} {limit / 10000:g} 万元，{outcome}"
    explanation = f"{head}（不包括调查、鉴定评估等费用）；{rest}。"
    return SimplifiedAssessment(eligible, limit, config.simplified_min_experts, explanation)
