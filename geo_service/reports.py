"""The periodic summary (定期汇总分析, 第十三条第二款): counts over the leads of a period, and the
same table as CSV or an Excel workbook for the form an office sends upward.

A lead belongs to the period of the day it entered the service (`created_at`, China time).
Counts by column (status, rights holder, major) are SQL-countable; those read from the current
decision (case type, level, sensitive-area leads, override reasons) and from the course
(overdue deadlines, days per stage) are computed from the same leads.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any

from sqlalchemy.orm import selectinload

from geo_service.db.models import Lead
from geo_service.events import rule_events
from geo_service.leads import current_record, filtered_leads, screening_deadlines
from geo_service.schemas import CHINA_TZ
from geo_service.services import Services
from maps.labels import LEVEL_NAMES, OVERRIDE_NAMES
from screening.course import EventType, active_events, course_deadlines
from screening.enums import CASE_TYPE_TEXT
from screening.lifecycle import STATUS_TEXT, Status

SECTIONS: dict[str, str] = {
    "by_status": "按状态",
    "by_league": "按赔偿权利人（盟市代码）",
    "by_case_type": "按案件类型",
    "by_level": "按赔偿权利人层级",
    "override_reasons": "须启动索赔的情形（第十五条第五款）",
    "overdue": "逾期未办期限（按条款）",
    "median_days": "各阶段用时中位数（日）",
}
STAGE_TEXT = {
    "to_decision": "接到线索至立案等决定",
    "to_notice": "立案至送达磋商告知书",
    "talks": "送达磋商告知书至磋商结束",
}
NONE = "unknown"
CASE_TYPES: dict[str, str] = {str(k): v for k, v in CASE_TYPE_TEXT.items()}


@dataclass(slots=True)
class Summary:
    period_from: date | None
    period_to: date | None
    league: str | None
    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_league: Counter[str] = field(default_factory=Counter)
    by_case_type: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    major: int = 0
    sensitive_area_leads: int = 0
    override_reasons: Counter[str] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    stage_days: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.period_from.isoformat() if self.period_from else None,
            "to": self.period_to.isoformat() if self.period_to else None,
            "league": self.league,
            "total": self.total,
            "by_status": dict(sorted(self.by_status.items())),
            "by_league": dict(sorted(self.by_league.items())),
            "by_case_type": dict(sorted(self.by_case_type.items())),
            "by_level": dict(sorted(self.by_level.items())),
            "major": self.major,
            "sensitive_area_leads": self.sensitive_area_leads,
            "override_reasons": dict(sorted(self.override_reasons.items())),
            "overdue": dict(sorted(self.overdue.items())),
            "median_days": {
                k: median(v) for k, v in sorted(self.stage_days.items()) if v
            },
        }

    def rows(self) -> list[tuple[str, str, str, float | int]]:
        """(section, key, label, value): the table the CSV and the workbook hold."""
        d = self.to_dict()
        out: list[tuple[str, str, str, float | int]] = [
            ("total", "total", "线索总数", d["total"]),
            ("major", "major", "重大案件（第三十六条）", d["major"]),
            ("sensitive_area_leads", "sensitive_area_leads",
             "涉及敏感区域的线索（第十二条第一款第（五）项）", d["sensitive_area_leads"]),
        ]
        labels: dict[str, dict[str, str]] = {
            "by_status": dict(STATUS_TEXT), "by_level": LEVEL_NAMES, "by_case_type": CASE_TYPES,
            "override_reasons": OVERRIDE_NAMES, "median_days": STAGE_TEXT,
        }
        for section in SECTIONS:
            for key, value in d[section].items():
                label = labels.get(section, {}).get(key, key)
                out.append((section, key, label, value))
        return out


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=CHINA_TZ).astimezone(UTC)


def summarize(
    services: Services,
    *,
    start: date | None = None,
    end: date | None = None,
    league: str | None = None,
    today: date,
) -> Summary:
    """The summary of the leads that entered the service from `start` to `end` (inclusive)."""
    query = filtered_leads(league=league).options(
        selectinload(Lead.decisions), selectinload(Lead.filings), selectinload(Lead.events)
    )
    if start is not None:
        query = query.where(Lead.created_at >= _day_start(start))
    if end is not None:
        query = query.where(Lead.created_at < _day_start(end + timedelta(days=1)))
    summary = Summary(start, end, league)
    with services.sessions() as session:
        for lead in session.scalars(query.order_by(Lead.id)):
            _count(summary, lead, services, today)
    return summary


def _count(summary: Summary, lead: Lead, services: Services, today: date) -> None:
    summary.total += 1
    summary.by_status[lead.status] += 1
    summary.by_league[lead.league_code or NONE] += 1
    summary.by_case_type[(lead.request or {}).get("case_type") or NONE] += 1
    summary.major += bool(lead.is_major)
    record = current_record(lead)
    if record is not None:
        summary.by_level[record.jurisdiction.level or NONE] += 1
        summary.sensitive_area_leads += record.sensitive_area_lead is True
        summary.override_reasons.update(record.minor.override_reasons)
    else:
        summary.by_level[NONE] += 1
    if lead.status in (Status.RECEIVED, Status.PRELIMINARY_CHECK):
        for d in screening_deadlines(lead):
            if d["due"] and date.fromisoformat(d["due"]) < today:
                summary.overdue[d["citation"] or d["name"]] += 1
    events = rule_events(lead)
    if lead.status == Status.FILED or events:
        for c in course_deadlines(services.calendar, events, today):
            if c.open_due is not None and c.open_due < today:
                summary.overdue[c.citation] += 1
    _stages(summary, lead, events)


def _stages(summary: Summary, lead: Lead, events: list[Any]) -> None:
    received = (lead.request or {}).get("received_on")
    decided = lead.filings[0].decided_on if lead.filings else None
    if received and decided:
        summary.stage_days.setdefault("to_decision", []).append(
            (decided - date.fromisoformat(received)).days
        )
    standing = active_events(events)
    first = {e.type: e.on for e in reversed(standing)}
    filed, notice = first.get(EventType.FILED), first.get(EventType.NOTICE_SERVED)
    if filed and notice:
        summary.stage_days.setdefault("to_notice", []).append((notice - filed).days)
    ends = [first[t] for t in (EventType.AGREEMENT_SIGNED, EventType.CONSULTATION_FAILED,
                               EventType.LAWSUIT_FILED) if t in first]
    if notice and ends:
        summary.stage_days.setdefault("talks", []).append((min(ends) - notice).days)


def to_csv(summary: Summary) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese labels as written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "项目", "数量"])
    for row in summary.rows():
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(summary: Summary) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    period = f"{summary.period_from or '不限'} 至 {summary.period_to or '不限'}"
    ws.append(["生态环境损害赔偿案件线索定期汇总（第十三条第二款）"])
    ws["A1"].font = Font(bold=True)
    ws.append(["期间", period, "盟市", summary.league or "全区"])
    ws.append([])
    ws.append(["分类", "代码", "项目", "数量"])
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for section, key, label, value in summary.rows():
        ws.append([SECTIONS.get(section, "合计"), key, label, value])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["C"].width = 44
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()



# --- Charts for the /reports page -------------------------------------------------------------

CHART_WIDTH = 360  # px of the longest bar


def charts(summary: Summary, league_names: dict[str, str]) -> list[dict[str, Any]]:
    """Each section as bars (label, value, width in px), for SVG drawn by the template."""
    d = summary.to_dict()
    labels: dict[str, dict[str, str]] = {
        "by_status": dict(STATUS_TEXT), "by_league": league_names, "by_level": LEVEL_NAMES,
        "by_case_type": CASE_TYPES,
        "override_reasons": OVERRIDE_NAMES, "median_days": STAGE_TEXT,
    }
    out = []
    for section, title in SECTIONS.items():
        items = list(d[section].items())
        top = max((float(v) for _, v in items), default=0.0) or 1.0
        bars = [
            {"key": k, "label": labels.get(section, {}).get(k, "未知" if k == NONE else k),
             "value": v, "width": max(1, round(float(v) / top * CHART_WIDTH))}
            for k, v in items
        ]
        out.append({"section": section, "title": title, "bars": bars})
    return out
