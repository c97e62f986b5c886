"""`decide`: the whole rulebook (docs/rules.md §R2–§R8) over plain facts. Pure: no I/O, no clock."""

from __future__ import annotations

from screening.assessment import decide_simplified
from screening.calendar import WorkCalendar
from screening.config import RulebookConfig
from screening.deadlines import Deadline, make_deadline, provisional_notice
from screening.decision import Decision
from screening.departments import decide_departments, department_name
from screening.enums import NATURE_RESERVE, Department
from screening.facts import LeadFacts, SpatialFacts
from screening.intake import decide_intake
from screening.jurisdiction import decide_jurisdiction
from screening.major import MajorCase, decide_major
from screening.minor import decide_minor
from screening.notices import Notice
from screening.obligor import ObligorId, ObligorIdError, validate_obligor_id
from screening.sensitive import find_sensitive


def decide(
    lead: LeadFacts, spatial: SpatialFacts, config: RulebookConfig, calendar: WorkCalendar
) -> Decision:
    """The screening decision for one lead, article by article (docs/rules.md §R2–§R8)."""
    jurisdiction = decide_jurisdiction(spatial, config, lead.national_impact)
    sensitive = find_sensitive(spatial, config)
    decided = jurisdiction.status != "out_of_region"
    eco_name = department_name(Department.ECOLOGY_ENVIRONMENT, jurisdiction) if decided else None
    intake = decide_intake(
        lead.source_channel, lead.already_remediated, sensitive, eco_name, in_scope=decided
    )
    departments = decide_departments(
        lead.case_type,
        lead.source_channel,
        lead.penalty_department,
        bool(sensitive.status(NATURE_RESERVE)),
        jurisdiction,
        config,
        act_in_nature_reserve=sensitive.act_in(NATURE_RESERVE),
    )
    minor = decide_minor(
        damage_amount_yuan=lead.damage_amount_yuan,
        no_obvious_impact=lead.no_obvious_impact,
        occurred_on=lead.occurred_on,
        received_on=lead.received_on,
        prior_damage_dates=lead.prior_damage_dates,
        prior_damage=lead.prior_damage,
        impact_criterion=lead.no_obvious_impact_criterion,
        region_decides_start=lead.region_decides_start,
        sensitive=sensitive,
        config=config,
    )
    major = decide_major(
        central_inspection_important=lead.central_inspection_important,
        incident_grade=lead.incident_grade,
        eco_destruction_grade=lead.eco_destruction_grade,
        nationally_supervised=lead.nationally_supervised,
        major_impact=lead.major_impact,
        national_impact=lead.national_impact,
        jurisdiction=jurisdiction,
        departments=departments,
        config=config,
    )
    simplified = decide_simplified(lead.damage_amount_yuan, config)

    notices: list[Notice] = [
        *jurisdiction.notices,
        *sensitive.notices,
        *intake.notices,
        *minor.notices,
        *departments.notices,
        *major.notices,
    ]
    deadlines: tuple[Deadline, ...] = ()
    if decided and not lead.already_remediated:
        deadlines, deadline_notices = lead_deadlines(lead, major, config, calendar)
        notices.extend(deadline_notices)

    obligor: ObligorId | None = None
    obligor_error: str | None = None
    if lead.obligor_id:
        try:
            obligor = validate_obligor_id(lead.obligor_id)
        except ObligorIdError as exc:
            obligor_error = exc.message_zh
            message = f"赔偿义务人证件号码无效：{exc.message_zh}"
            notices.append(Notice("obligor_id_invalid", message))

    return Decision(
        jurisdiction=jurisdiction,
        sensitive=sensitive,
        intake=intake,
        minor=minor,
        departments=departments,
        major=major,
        simplified=simplified,
        deadlines=deadlines,
        warnings=tuple(notices),
        needs_verification=jurisdiction.needs_verification
        or sensitive.needs_verification
        or minor.needs_verification,
        layer_versions=dict(spatial.layer_versions),
        rulebook_version=config.rulebook_version,
        obligor=obligor,
        obligor_error=obligor_error,
    )


def lead_deadlines(
    lead: LeadFacts,
    major: MajorCase,
    config: RulebookConfig,
    calendar: WorkCalendar,
) -> tuple[tuple[Deadline, ...], list[Notice]]:
    """The deadlines docs/rules.md §R8 names whose start the lead's facts give."""
    out: list[Deadline] = []
    notices: list[Notice] = []
    pauses = tuple(lead.appraisal_periods)
    roll = config.holiday_roll
    if lead.received_on is not None:
        out.append(
            make_deadline(
                calendar,
                name="preliminary_check",
                title="初步核查",
                start=lead.received_on,
                start_label="发现或者接到线索之日",
                days=config.preliminary_check_days,
                counting="natural_days",
                citation="第十四条",
                pauses=pauses if "preliminary_check" in config.paused_by_appraisal else (),
                roll=roll,
            )
        )
    else:
        notices.append(
            Notice(
                "received_on_missing",
                "未填写发现或者接到线索的日期，无法计算初步核查期限（第十四条：30日内）。",
            )
        )
    served = lead.consultation_notice_served_on
    if served is not None:
        out.append(
            make_deadline(
                calendar,
                name="obligor_reply",
                title="赔偿义务人答复",
                start=served,
                start_label="收到磋商告知书之日",
                days=config.obligor_reply_working_days,
                counting="working_days",
                citation="第二十三条",
            )
        )
        out.append(
            make_deadline(
                calendar,
                name="consultation",
                title="赔偿磋商",
                start=served,
                start_label="送达磋商告知书之日",
                days=config.consultation_days,
                counting="natural_days",
                citation="第二十七条",
                pauses=pauses if "consultation" in config.paused_by_appraisal else (),
                roll=roll,
                note=f"磋商期限原则上不超过 {config.consultation_days} 日，磋商次数原则上不超过 "
                f"{config.consultation_max_sessions} 次；案情重大复杂的，经赔偿权利人指定的部门或"
                "机构负责人同意，可以适当增加会议次数（第二十七条）",
            )
        )
    if major.is_major and major.reporting is not None:  # 第三十八条: only with a 督办单位
        start = lead.supervision_started_on or lead.received_on
        if start is not None:
            default = lead.supervision_started_on is None
            out.append(
                make_deadline(
                    calendar,
                    name="progress_report",
                    title="重大案件进展报告",
                    start=start,
                    start_label="接到线索之日（未给出督办开始日期，默认）"
                    if default
                    else "督办开始之日",
                    days=config.major_progress_working_days,
                    counting="working_days",
                    citation="第三十八条第一款",
                    basis="default" if default else "regulation",
                    note=f"此后每 {config.major_progress_working_days} 个工作日报告一次",
                )
            )
        if lead.case_closed_on is not None:
            out.append(
                make_deadline(
                    calendar,
                    name="completion_report",
                    title="重大案件办结报告",
                    start=lead.case_closed_on,
                    start_label="案件办结之日",
                    days=config.major_completion_working_days,
                    counting="working_days",
                    citation="第三十八条第三款",
                )
            )
    notices.extend(provisional_notice(d) for d in out if d.provisional)
    return tuple(out), notices
