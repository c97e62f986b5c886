"""Issue 11 on both backends: a filed case walked through its events, every deadline checked
against a date counted by hand (the count is written beside it), the talks deemed failed
(第二十九条), the duties that follow (第三十条), refused events (409 naming the article) and a
voided event. All dates are fixed days in the past of the 2026 calendar (国庆 2026-10-01..07,
调休上班 2026-10-10) or in 2027, whose schedule is not loaded (provisional).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api_helpers import new_obligor_id
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_leads import create, file, lead_body

from geo_service.db.models import AuditEntry
from geo_service.services import Services

Auth = Callable[[str], dict[str, str]]


def filed_case(client: TestClient, auth: Auth, decided_on: str = "2026-06-10") -> int:
    lead = create(client, auth, lead_body(
        obligor={"id": new_obligor_id(), "name": "某某矿业有限公司"},
        received_on="2026-06-01", occurred_on="2026-05-28",
    ))
    r = file(client, auth, lead["id"], "file", [], decided_on=decided_on)
    assert r.status_code == 201, r.text
    return int(lead["id"])


def event(client: TestClient, auth: Auth, lead_id: int, type_: str, on: str, **extra: Any
          ) -> Any:
    return client.post(
        f"/api/v1/leads/{lead_id}/events", headers=auth("screener"),
        json={"type": type_, "on": on, **extra},
    )


def ok(client: TestClient, auth: Auth, lead_id: int, type_: str, on: str, **extra: Any
       ) -> dict[str, Any]:
    r = event(client, auth, lead_id, type_, on, **extra)
    assert r.status_code == 201, r.text
    return dict(r.json())


def detail(client: TestClient, auth: Auth, lead_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/leads/{lead_id}", headers=auth("viewer"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def deadline(lead: dict[str, Any], name: str) -> dict[str, Any]:
    found = [d for d in lead["deadlines"] if d["name"] == name]
    assert len(found) == 1, (name, lead["deadlines"])
    return found[0]


def test_reply_and_talks_with_the_national_day_roll_then_failed_talks_and_the_duties(
    client: TestClient, auth: Auth, services: Services
) -> None:
    """第二十三条, 第二十七条, 第二十九条第（一）项, 第三十条."""
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "investigation_started", "2026-06-15")
    served = ok(client, auth, lead_id, "notice_served", "2026-07-03", note="直接送达")
    lead = detail(client, auth, lead_id)
    assert [e["type"] for e in lead["events"]] == [
        "filed", "investigation_started", "notice_served"
    ]
    assert lead["events"][0]["on"] == "2026-06-10"  # the filing's decided_on
    check = deadline(lead, "preliminary_check")
    # Received 2026-06-01 + 30 natural days: June 2..30 = 29, July 1 → 30 = Wednesday 07-01
    assert check["due"] == "2026-07-01" and check["citation"] == "第十四条"
    assert check["start_event"] == "received" and check["done_on"] == "2026-06-10"
    reply = deadline(lead, "reply")
    # 2026-07-03 (Fri) not counted; working days Mon 07-06 (1), 07 (2), 08 (3), 09 (4), 10 (5)
    assert reply["due"] == "2026-07-10"
    assert reply["citation"] == "第二十三条" and reply["start_event"] == "notice_served"
    assert reply["start_event_id"] == served["id"] and reply["provisional"] is False
    talks = deadline(lead, "consultation")
    # 2026-07-03 + 90 natural days: July 4..31 = 28, August 31 → 59, September 30 → 89,
    # October 1 → 90 = 2026-10-01, 国庆节 → rolls past 10-01..07 to Thursday 2026-10-08.
    assert talks["due"] == "2026-10-08" and talks["rolled_from"] == "2026-10-01"
    assert talks["citation"] == "第二十七条"
    # No reply within the five working days: deemed failed (第二十九条第（一）项) from 07-11.
    assert lead["duties"] == [
        {"code": "sue", "title": "向有管辖权的人民法院提起诉讼", "citation": "第三十条",
         "since": "2026-07-11", "basis": "第二十九条第（一）项"},
        {"code": "notify_procuratorate", "title": "书面告知同级检察机关", "citation": "第三十条",
         "since": "2026-07-11", "basis": "第二十九条第（一）项"},
    ]
    ok(client, auth, lead_id, "lawsuit_filed", "2026-07-20")
    lead = detail(client, auth, lead_id)
    assert [d["code"] for d in lead["duties"]] == ["notify_procuratorate"]
    court = deadline(lead, "court_notice")
    assert court["due"] is None and court["citation"] == "第三十条第二款"
    assert "10 日" in court["explanation"]
    ok(client, auth, lead_id, "procuratorate_notified", "2026-07-21")
    lead = detail(client, auth, lead_id)
    assert lead["duties"] == []
    # Talks ended in court: the reply and talks deadlines are closed on the lawsuit's day.
    assert deadline(lead, "reply")["done_on"] == "2026-07-20"
    with services.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.detail)
            .where(
                AuditEntry.action == "case_event_recorded",
                AuditEntry.entity_id == str(lead_id),
            )
            .order_by(AuditEntry.id)  # PostgreSQL returns rows in no set order without it
        ).all()
    assert [a["type"] for a in actions] == [
        "investigation_started", "notice_served", "lawsuit_filed", "procuratorate_notified"
    ]


def test_a_refused_reply_and_the_appraisal_pause(client: TestClient, auth: Auth) -> None:
    """第十七条: appraisal days do not count; 第二十九条第（一）项 by an explicit refusal."""
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")
    ok(client, auth, lead_id, "appraisal_started", "2026-07-06")
    ok(client, auth, lead_id, "appraisal_finished", "2026-07-08")
    lead = detail(client, auth, lead_id)
    reply = deadline(lead, "reply")
    # 07-06..08 paused (3 days); working days 07-09 (1), 10 (2), 13 (3), 14 (4), 15 (5)
    assert reply["due"] == "2026-07-15" and reply["paused_days"] == 3
    assert "第十七条第一款" in reply["citations"]
    ok(client, auth, lead_id, "reply_received", "2026-07-14", accepts=False)
    lead = detail(client, auth, lead_id)
    assert deadline(lead, "reply")["done_on"] == "2026-07-14"
    assert {d["basis"] for d in lead["duties"]} == {"第二十九条第（一）项"}
    assert {d["since"] for d in lead["duties"]} == {"2026-07-14"}


def test_three_sessions_then_the_office_records_failure_and_a_provisional_2027_date(
    client: TestClient, auth: Auth
) -> None:
    """第二十七条 (3 sessions, 2027 provisional) and 第二十九条第（三）项."""
    lead_id = filed_case(client, auth, decided_on="2026-11-02")
    ok(client, auth, lead_id, "notice_served", "2026-11-20")
    ok(client, auth, lead_id, "reply_received", "2026-11-23", accepts=True)
    ok(client, auth, lead_id, "consultation_session", "2026-11-24")
    too_early = event(client, auth, lead_id, "consultation_failed", "2026-11-24", item=3)
    assert too_early.status_code == 409
    assert "第二十九条第（三）项" in too_early.json()["detail"]
    ok(client, auth, lead_id, "consultation_session", "2026-11-25")
    ok(client, auth, lead_id, "consultation_session", "2026-11-26")
    lead = detail(client, auth, lead_id)
    talks = deadline(lead, "consultation")
    # 2026-11-20 + 90: November 21..30 = 10, December 31 → 41, January 31 → 72,
    # February 18 → 90 = 2027-02-18 (Thursday); 2027's schedule is not loaded → provisional.
    assert talks["due"] == "2027-02-18" and talks["provisional"] is True
    assert talks["unknown_years"] == [2027]
    assert lead["duties"] == []  # three sessions alone are not failure: the office decides
    fourth = event(client, auth, lead_id, "consultation_session", "2026-11-27")
    assert fourth.status_code == 409 and "第二十七条" in fourth.json()["detail"]
    ok(client, auth, lead_id, "consultation_failed", "2026-11-27", item=3)
    lead = detail(client, auth, lead_id)
    assert {(d["code"], d["basis"], d["since"]) for d in lead["duties"]} == {
        ("sue", "第二十九条第（三）项", "2026-11-27"),
        ("notify_procuratorate", "第二十九条第（三）项", "2026-11-27"),
    }


def test_talks_past_ninety_days_are_deemed_failed(client: TestClient, auth: Auth) -> None:
    """第二十九条第（六）项: the talks deadline 2026-10-08 passed without an agreement."""
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")
    ok(client, auth, lead_id, "reply_received", "2026-07-06", accepts=True)
    ok(client, auth, lead_id, "consultation_session", "2026-07-20")
    lead = detail(client, auth, lead_id)
    assert lead["failures"] == [
        {"item": 6, "basis": "第二十九条第（六）项", "since": "2026-10-09"}
    ]
    assert {d["since"] for d in lead["duties"]} == {"2026-10-09"}
    # Once agreed (a case recorded late), the talks did not fail.
    agreed = filed_case(client, auth)
    ok(client, auth, agreed, "notice_served", "2026-07-03")
    ok(client, auth, agreed, "reply_received", "2026-07-06", accepts=True)
    ok(client, auth, agreed, "consultation_session", "2026-07-20")
    ok(client, auth, agreed, "agreement_signed", "2026-08-03")
    assert detail(client, auth, agreed)["duties"] == []


def test_supervision_reports_and_the_completion_report(client: TestClient, auth: Auth) -> None:
    """第三十八条第一款 (every 30 working days; or the letter's interval) and 第三款."""
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "supervision_started", "2026-08-03", supervisor="自治区生态环境厅")
    lead = detail(client, auth, lead_id)
    report = deadline(lead, "progress_report")
    # From Mon 2026-08-03: Aug 4-7 (4), 10-14 (9), 17-21 (14), 24-28 (19), 31 (20),
    # Sep 1-4 (24), 7-11 (29), 14 (30) → 2026-09-14
    assert report["due"] == "2026-09-14" and report["citation"] == "第三十八条第一款"
    assert lead["next_due"] == "2026-09-14"
    ok(client, auth, lead_id, "progress_reported", "2026-09-10")
    report = deadline(detail(client, auth, lead_id), "progress_report")
    # From 09-10: Sep 11 (1), 14-18 (6), 21-25 (11), 28-30 (14), 国庆 10-01..07 not counted,
    # Oct 8-9 (16), Sat 10-10 调休上班 (17), 12-16 (22), 19-23 (27), 26-28 (30) → 2026-10-28
    assert report["due"] == "2026-10-28" and report["start_event"] == "progress_reported"
    ok(client, auth, lead_id, "closed", "2026-11-02")
    lead = detail(client, auth, lead_id)
    assert [d["name"] for d in lead["deadlines"] if d["name"] == "progress_report"] == []
    done = deadline(lead, "completion_report")
    # From Mon 2026-11-02: Nov 3-6 (4), 9-13 (9), 16-20 (14), 23-27 (19), 30 (20)
    assert done["due"] == "2026-11-30" and done["citation"] == "第三十八条第三款"
    assert lead["next_due"] == "2026-11-30"
    after = event(client, auth, lead_id, "investigation_started", "2026-11-03")
    assert after.status_code == 409 and "第三十八条第三款" in after.json()["detail"]
    assert after.json()["rule"] == "第三十八条第三款"

    letter = filed_case(client, auth)
    ok(client, auth, letter, "supervision_started", "2026-09-16", report_interval_days=15)
    # 2026-09-16 + 15 natural days: Sep 17..30 = 14, Oct 1 → 15 = 国庆节 → 2026-10-08
    report = deadline(detail(client, auth, letter), "progress_report")
    assert report["due"] == "2026-10-08" and report["rolled_from"] == "2026-10-01"


def test_refused_events_name_their_rule(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body(obligor={"id": new_obligor_id()}))
    unfiled = event(client, auth, lead["id"], "investigation_started", "2026-09-10")
    assert unfiled.status_code == 409 and unfiled.json()["rule"] == "第十五条第一款"
    lead_id = filed_case(client, auth)
    early = event(client, auth, lead_id, "investigation_started", "2026-06-09")
    assert early.status_code == 409 and "2026-06-10" in early.json()["detail"]
    session = event(client, auth, lead_id, "consultation_session", "2026-07-01")
    assert session.status_code == 409
    assert session.json()["rule"] == "第二十三条"
    assert "磋商告知书送达之前" in session.json()["detail"]
    sue = event(client, auth, lead_id, "lawsuit_filed", "2026-07-01")
    assert sue.status_code == 409 and sue.json()["rule"] == "第三十条"
    report = event(client, auth, lead_id, "progress_reported", "2026-07-01")
    assert report.status_code == 409 and report.json()["rule"] == "第三十八条第一款"
    # Bad input is a 422 naming the field.
    assert event(client, auth, lead_id, "reply_received", "2026-07-01").status_code == 422
    assert event(client, auth, lead_id, "notice_served", "2099-01-01").status_code == 422
    wrong = event(client, auth, lead_id, "notice_served", "2026-07-01", item=3)
    assert wrong.status_code == 422
    assert event(client, auth, lead_id, "filed", "2026-07-01").status_code == 422


def test_a_voided_event_no_longer_counts(client: TestClient, auth: Auth) -> None:
    lead_id = filed_case(client, auth)
    wrong = ok(client, auth, lead_id, "notice_served", "2026-07-03")
    again = event(client, auth, lead_id, "notice_served", "2026-07-06")
    assert again.status_code == 409 and again.json()["rule"] == "第二十三条"
    assert event(client, auth, lead_id, "void", "2026-07-07", voids=wrong["id"]).status_code == 422
    ok(client, auth, lead_id, "void", "2026-07-07", voids=wrong["id"], reason="送达日期录入错误")
    lead = detail(client, auth, lead_id)
    assert [d["name"] for d in lead["deadlines"] if d["name"] == "reply"] == []
    voided = next(e for e in lead["events"] if e["id"] == wrong["id"])
    assert voided["voided_by"] is not None
    ok(client, auth, lead_id, "notice_served", "2026-07-06")
    # From Mon 2026-07-06: 07 (1), 08 (2), 09 (3), 10 (4), 13 (5)
    assert deadline(detail(client, auth, lead_id), "reply")["due"] == "2026-07-13"
    twice = event(client, auth, lead_id, "void", "2026-07-08", voids=wrong["id"], reason="重复")
    assert twice.status_code == 422
    ok(client, auth, lead_id, "reply_received", "2026-07-08", accepts=True)
    current = next(e for e in detail(client, auth, lead_id)["events"]
                   if e["type"] == "notice_served" and e["voided_by"] is None)
    orphan = event(client, auth, lead_id, "void", "2026-07-09", voids=current["id"],
                   reason="送达有误")
    assert orphan.status_code == 409 and orphan.json()["rule"] == "第二十三条"
    assert "请先作废依赖它的事件" in orphan.json()["detail"]


def test_the_dossier_holds_the_timeline_and_every_deadline(client: TestClient, auth: Auth
                                                           ) -> None:
    """一案一卷: events.json and deadlines.json, each deadline with its basis."""
    import io
    import json
    import zipfile

    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")
    r = client.get(f"/api/v1/leads/{lead_id}/dossier", headers=auth("viewer"))
    assert r.status_code == 200
    z = zipfile.ZipFile(io.BytesIO(r.content))
    events = json.loads(z.read("events.json"))
    assert [e["type"] for e in events] == ["filed", "notice_served"]
    deadlines = json.loads(z.read("deadlines.json"))["deadlines"]
    reply = next(d for d in deadlines if d["name"] == "reply")
    assert reply["due"] == "2026-07-10" and reply["citation"] == "第二十三条"
    assert "第二十三条" in reply["explanation"] and "开始当日不计入" in reply["explanation"]


def test_work_lists_must_sue_and_awaiting_reply_on_a_fixed_day(
    client: TestClient, auth: Auth, services: Services
) -> None:
    """The case list's work lists, judged on fixed days: on 2026-07-06 the reply (due
    2026-07-10) is awaited; on 2026-07-13 it never came, so the case must go to court."""
    from datetime import date

    from geo_service.db.models import Lead
    from geo_service.events import course_work_lists

    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")
    only = select(Lead).where(Lead.id == lead_id)
    with services.sessions() as session:
        before = course_work_lists(session, only, services.calendar, date(2026, 7, 6))
        due_day = course_work_lists(session, only, services.calendar, date(2026, 7, 10))
        after = course_work_lists(session, only, services.calendar, date(2026, 7, 13))
    assert before == {"must_sue": [], "awaiting_reply": [lead_id]}
    assert due_day == {"must_sue": [], "awaiting_reply": [lead_id]}  # the last day still counts
    assert after == {"must_sue": [lead_id], "awaiting_reply": []}
    page = client.get("/?work=must_sue", headers=auth("viewer"))
    assert page.status_code == 200 and f'href="/leads/{lead_id}"' in page.text
    assert client.get("/?work=nonsense", headers=auth("viewer")).status_code == 422
    listed = client.get("/api/v1/leads", headers=auth("viewer"),
                        params={"work": "must_sue", "limit": 500}).json()
    assert lead_id in [i["id"] for i in listed["items"]]
    bad = client.get("/api/v1/leads", headers=auth("viewer"), params={"work": "nonsense"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "work"


def test_a_major_case_is_supervised_by_the_bodies_screening_named_and_the_list_filters_them(
    client: TestClient, auth: Auth
) -> None:
    """第三十五条第二款: a major league case's region-level counterparts supervise; the case
    list filters by supervisor."""
    lead = create(client, auth, lead_body(
        obligor={"id": new_obligor_id()}, received_on="2026-06-01", occurred_on="2026-05-28",
        major_impact=True,
    ))
    assert lead["is_major"] is True
    named = [b["name"] for b in lead["decision"]["major_case"]["supervisor"]]
    assert named
    assert file(client, auth, lead["id"], "file", [], decided_on="2026-06-10").status_code == 201
    started = ok(client, auth, lead["id"], "supervision_started", "2026-08-03")
    assert started["supervisor"] == "、".join(named)
    found = client.get("/api/v1/leads", headers=auth("viewer"),
                       params={"supervisor": named[0], "limit": 500}).json()
    assert lead["id"] in [i["id"] for i in found["items"]]
    other = client.get("/api/v1/leads", headers=auth("viewer"),
                       params={"supervisor": "不存在的督办单位"}).json()
    assert other["total"] == 0


def test_a_refused_judicial_confirmation_allows_one_more_round(
    client: TestClient, auth: Auth
) -> None:
    """第二十八条第二款: 经人民法院审查未予司法确认的，…重新磋商一次；
    重新磋商不成的，应当及时提起诉讼."""
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")
    ok(client, auth, lead_id, "reply_received", "2026-07-06", accepts=True)
    ok(client, auth, lead_id, "consultation_session", "2026-07-20")
    early = event(client, auth, lead_id, "judicial_confirmation_refused", "2026-07-21")
    assert early.status_code == 409 and early.json()["rule"] == "第二十八条第二款"
    ok(client, auth, lead_id, "agreement_signed", "2026-08-03")
    assert detail(client, auth, lead_id)["duties"] == []
    ok(client, auth, lead_id, "judicial_confirmation_refused", "2026-09-01")
    ok(client, auth, lead_id, "consultation_session", "2026-09-15")
    third = event(client, auth, lead_id, "consultation_session", "2026-09-22")
    assert third.status_code == 409 and third.json()["rule"] == "第二十八条第二款"
    ok(client, auth, lead_id, "consultation_failed", "2026-09-22", item=7,
       note="重新磋商不成")
    duties = detail(client, auth, lead_id)["duties"]
    assert {(d["code"], d["basis"], d["since"]) for d in duties} == {
        ("sue", "第二十九条第（七）项", "2026-09-22"),
        ("notify_procuratorate", "第二十九条第（七）项", "2026-09-22"),
    }
