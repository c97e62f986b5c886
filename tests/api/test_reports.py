"""第十三条第二款 定期汇总分析 on both backends: the summary's figures equal direct SQL counts
over the same leads, and the CSV and the workbook (read back with openpyxl) hold the same."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from api_helpers import new_obligor_id
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from test_case_events import filed_case, ok
from test_leads import create, lead_body

from geo_service.schemas import today_in_china
from geo_service.services import Services

Auth = Callable[[str], dict[str, str]]
LEAGUE = "150700"  # 呼伦贝尔市, where lead_body's point lies
WHERE = (
    "created_at >= :a AND created_at < :b "
    "AND (league_code = :league OR leagues LIKE :pattern)"
)


def _params() -> dict[str, Any]:
    today = today_in_china()
    china = timezone(timedelta(hours=8))
    start = datetime(today.year, today.month, today.day, tzinfo=china).astimezone(UTC)
    return {"a": start, "b": start + timedelta(days=1), "league": LEAGUE,
            "pattern": f"%,{LEAGUE},%"}


def _seed(client: TestClient, auth: Auth) -> None:
    # An open lead received long ago: its 第十四条 preliminary check is overdue.
    create(client, auth, lead_body(obligor={"id": new_obligor_id()},
                                   received_on="2026-06-01", occurred_on="2026-05-28"))
    create(client, auth, lead_body(obligor={"id": new_obligor_id()},
                                   case_type="illegal_mining"))
    # A filed case whose reply (第二十三条, due 2026-07-10) never came.
    lead_id = filed_case(client, auth)
    ok(client, auth, lead_id, "notice_served", "2026-07-03")


def test_the_summary_equals_direct_sql_counts(
    client: TestClient, auth: Auth, services: Services
) -> None:
    _seed(client, auth)
    today = today_in_china().isoformat()
    r = client.get("/api/v1/reports/summary", headers=auth("viewer"),
                   params={"from": today, "to": today, "league": LEAGUE})
    assert r.status_code == 200, r.text
    got = r.json()
    p = _params()
    with services.sessions() as session:
        def count(sql: str) -> int:
            return int(session.execute(text(sql), p).scalar_one())

        def grouped(column: str) -> dict[str, int]:
            rows = session.execute(
                text(f"SELECT {column}, COUNT(*) FROM lead WHERE {WHERE} GROUP BY {column}"), p
            ).all()
            return {(k if k is not None else "unknown"): int(n) for k, n in rows}

        total = count(f"SELECT COUNT(*) FROM lead WHERE {WHERE}")
        by_status = grouped("status")
        by_league = grouped("league_code")
        major = int(session.execute(
            text(f"SELECT COUNT(*) FROM lead WHERE {WHERE} AND is_major = :t"),
            {**p, "t": True}).scalar_one())
        overdue_checks = int(session.execute(
            text(f"SELECT COUNT(*) FROM lead WHERE {WHERE} AND status IN "
                 "('received', 'preliminary_check') AND next_due < :today"),
            {**p, "today": today_in_china()}).scalar_one())
        requests = [
            r[0] for r in session.execute(text(f"SELECT request FROM lead WHERE {WHERE}"), p)
        ]
    assert total >= 3 and got["total"] == total
    assert got["by_status"] == by_status
    assert got["by_league"] == by_league
    assert got["major"] == major
    assert got["overdue"]["第十四条"] == overdue_checks >= 1
    assert got["overdue"]["第二十三条"] >= 1
    types = Counter(
        (json.loads(q) if isinstance(q, str) else q).get("case_type") or "unknown"
        for q in requests
    )
    assert got["by_case_type"] == dict(types)
    assert got["by_case_type"]["illegal_mining"] >= 1
    assert sum(got["by_level"].values()) == total

    r = client.get("/api/v1/reports/summary", headers=auth("viewer"),
                   params={"from": today, "to": today, "league": LEAGUE, "format": "xlsx"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    cells = {(row[0], row[1]): row[3] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert cells[("合计", "total")] == total
    assert cells[("合计", "major")] == major
    for status, n in by_status.items():
        assert cells[("按状态", status)] == n
    assert cells[("逾期未办期限（按条款）", "第十四条")] == overdue_checks

    r = client.get("/api/v1/reports/summary", headers=auth("viewer"),
                   params={"from": today, "to": today, "league": LEAGUE, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["total", "total", "线索总数", str(total)] in rows


def test_a_period_before_any_lead_is_empty_and_a_reversed_period_is_refused(
    client: TestClient, auth: Auth
) -> None:
    r = client.get("/api/v1/reports/summary", headers=auth("viewer"),
                   params={"from": "2020-01-01", "to": "2020-12-31"})
    assert r.status_code == 200 and r.json()["total"] == 0
    bad = client.get("/api/v1/reports/summary", headers=auth("viewer"),
                     params={"from": "2026-02-01", "to": "2026-01-01"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "to"


def test_median_days_per_stage_over_three_cases() -> None:
    """Days per stage: receipt → decision, filing → notice, notice → end of talks; medians."""
    from datetime import date
    from types import SimpleNamespace

    from geo_service.db.models import CaseEvent, Filing, Lead
    from geo_service.reports import Summary, _count
    from screening.calendar import WorkCalendar

    def case(n: int, received: str, decided: str, notice: str | None, end: str | None) -> Lead:
        lead = Lead(id=n, status="filed", request={"received_on": received}, is_major=False)
        lead.filings = [Filing(decided_on=date.fromisoformat(decided))]
        events = [CaseEvent(id=n * 10, type="filed", on=date.fromisoformat(decided), data={})]
        if notice:
            events.append(CaseEvent(id=n * 10 + 1, type="notice_served",
                                    on=date.fromisoformat(notice), data={}))
        if end:
            events.append(CaseEvent(id=n * 10 + 2, type="consultation_session",
                                    on=date.fromisoformat(end), data={}))
            events.append(CaseEvent(id=n * 10 + 3, type="agreement_signed",
                                    on=date.fromisoformat(end), data={}))
        lead.events = events
        return lead

    summary = Summary(None, None, None)
    services = SimpleNamespace(calendar=WorkCalendar())
    for lead in (
        case(1, "2026-06-01", "2026-06-10", "2026-07-03", "2026-08-03"),  # 9, 23, 31 days
        case(2, "2026-06-01", "2026-06-21", "2026-06-26", "2026-07-06"),  # 20, 5, 10
        case(3, "2026-06-01", "2026-06-05", None, None),  # 4
    ):
        _count(summary, lead, services, date(2026, 11, 30))  # type: ignore[arg-type]
    assert summary.to_dict()["median_days"] == {
        "talks": 20.5,  # median of 31 and 10
        "to_decision": 9,  # median of 9, 20, 4
        "to_notice": 14,  # median of 23 and 5
    }
