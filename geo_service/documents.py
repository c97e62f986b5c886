"""The documents an office files for a case: the static case map figure (PNG) and the
screening opinion as a Word document (python-docx).

Both read the lead's current typed decision (DecisionRecord). The opinion's findings are the
case page's own article-by-article explanation (geo_service/web/explain.py), not a second
wording; the figure is drawn from the same features as the interactive case map.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from sqlalchemy.orm import Session

from geo_service.case_area import analysis_subject, case_area, case_drawing
from geo_service.db.models import Lead
from geo_service.leads import current_record
from geo_service.services import Services
from geo_service.web.explain import explain, other_warnings
from maps.labels import league_display
from screening.record import DecisionRecord

DOC_TITLE = "生态环境损害赔偿案件线索筛查意见（初步核查意见）"
DOC_NUMBER = "〔    〕第    号"  # the office fills in its own number
REGULATION = "《内蒙古自治区生态环境损害赔偿工作规定》（内政办发〔2025〕16号）"
FIGURE_CAPTION = "附图：案件位置示意图"
FILING_NAMES = {"file": "立案", "not_file": "不启动索赔程序", "terminate": "终止索赔程序"}
BODY_FONT, TITLE_FONT = "仿宋", "黑体"  # Word substitutes its own CJK font where these lack


def case_figure(services: Services, session: Session, lead: Lead, display_index: Any) -> bytes:
    """The static case map (PNG): the damage area, or the unit a lead with none was located to.
    404 (NoDrawableArea) when neither can be drawn."""
    from maps.figure import render_case_figure

    return render_case_figure(
        **case_drawing(services, session, display_index, lead, current_record(lead)))


def opinion_figure(
    services: Services, session: Session, lead: Lead, display_index: Any
) -> tuple[bytes | None, str | None]:
    """The opinion's figure and the line under it: for a located area, what that area is; with
    no figure, why there is none."""
    area = case_area(services.overlay, lead, current_record(lead))
    if area.missing is not None:
        return None, area.missing
    note = None if area.located is None else (
        f"注：图中“{area.located.label}”是线索定位到的行政区范围，损害结果发生地在其中，"
        "不是整个范围；该范围未量算到敏感区域或边界的距离。")
    return case_figure(services, session, lead, display_index), note


def opinion_docx(
    lead: Lead, *, figure: bytes | None, today: date, figure_note: str | None = None
) -> bytes:
    """The screening opinion as a .docx: title, number placeholder, facts table, findings
    article by article, filing decisions, the map figure and the signature block.
    `figure_note`: under the figure (what a located area is); without a figure, why not."""
    record = current_record(lead)
    current = lead.decisions[-1] if lead.decisions else None
    doc = Document()
    _base_style(doc)
    _paragraph(doc, DOC_TITLE, size=18, bold=True, font=TITLE_FONT,
               align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, f"文号：{DOC_NUMBER}　　线索编号：{lead.id}　　出具日期：{today.isoformat()}",
               align=WD_ALIGN_PARAGRAPH.CENTER)

    facts = [
        ("线索名称", lead.title or "（无标题）"),
        ("线索来源", " ".join(x for x in (lead.source_system, lead.external_ref) if x) or "—"),
        ("所在盟市", league_display(lead.league_code)),
        ("赔偿义务人", lead.obligor_name or "—"),
        ("统一社会信用代码/身份证号", lead.obligor_id or "—"),
        ("损害发生日期", str(lead.occurred_on or "—")),
        ("线索登记日期", lead.created_at.strftime("%Y-%m-%d") if lead.created_at else "—"),
    ]
    if lead.description:
        facts.append(("线索描述", lead.description))
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for name, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = name, value
        cells[0].width, cells[1].width = Cm(4.5), Cm(11.5)
        for run in cells[0].paragraphs[0].runs:
            run.bold = True

    _heading(doc, "筛查意见")
    subject = analysis_subject(lead, record)
    _paragraph(doc, f"依据{REGULATION}，经对{subject}进行空间叠加分析，意见如下：")
    if record is None:
        _paragraph(doc, "尚无筛查结论。")
    else:
        _findings(doc, record)
        if current is not None:
            versions = "，".join(f"{k}:{v}" for k, v in (current.layer_versions or {}).items())
            _paragraph(doc, f"本意见依据筛查结论 #{current.id}"
                            f"（{current.created_at.strftime('%Y-%m-%d %H:%M')}），规则版本 "
                            f"{current.rulebook_version}，图层版本 {versions or '—'}。"
                            "空间分析结论供初步核查参考，须经办案人员核实。", size=10)

    if lead.filings:
        _heading(doc, "立案决定")
        for f in lead.filings:
            when = (f.decided_on or f.created_at.date()).isoformat()
            _paragraph(doc, f"{when}：{FILING_NAMES.get(f.decision, f.decision)}。"
                            f"理由：{f.reasons}（负责人：{f.approved_by}）")

    _heading(doc, FIGURE_CAPTION)
    if figure is not None:
        doc.add_picture(io.BytesIO(figure), width=Cm(15.5))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if figure_note:
        _paragraph(doc, figure_note, size=10 if figure is not None else None)

    _heading(doc, "签署")
    for line in ("经办人（签字）：＿＿＿＿＿＿　　日期：＿＿＿＿",
                 "负责人意见：＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿",
                 "负责人（签字）：＿＿＿＿＿＿　　日期：＿＿＿＿",
                 "（单位盖章）"):
        _paragraph(doc, line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _findings(doc: Any, record: DecisionRecord) -> None:
    sections = explain(record)
    for s in sections:
        _paragraph(doc, s.title, bold=True, size=14, font=TITLE_FONT)
        _paragraph(doc, s.conclusion, bold=s.emphasis)
        _paragraph(doc, "依据：" + "、".join(s.citations))
        for fact in s.facts:
            _paragraph(doc, fact, style="List Bullet")
        if s.explanation:
            _paragraph(doc, s.explanation, size=10)
        for w in s.warnings:
            _paragraph(doc, f"⚠ {w}")
    rest = other_warnings(record, sections)
    if rest:
        _paragraph(doc, "其他提示", bold=True, size=14, font=TITLE_FONT)
        for w in rest:
            _paragraph(doc, f"⚠ {w}")


def _base_style(doc: Any) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.6)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)


def _heading(doc: Any, text: str) -> None:
    _paragraph(doc, text, bold=True, size=15, font=TITLE_FONT)


def _paragraph(doc: Any, text: str, *, size: float | None = None, bold: bool = False,
               font: str | None = None, align: Any = None, style: str | None = None) -> Any:
    p = doc.add_paragraph(style=style)
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if font:
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if align is not None:
        p.alignment = align
    return p
