"""Persistent leads on both backends: create, idempotency, list, re-screen, filing, dossier."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from api_helpers import POINT_HOHHOT, POINT_HULUNBUIR, new_obligor_id, unique_ref
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from geo_service.db.models import AuditEntry, Lead
from geo_service.services import Services

Auth = Callable[[str], dict[str, str]]


def lead_body(**extra: Any) -> dict[str, Any]:
    return {
        "location": {"geometry": POINT_HULUNBUIR, "precision_m": 30},
        "title": "海拉尔区河道排污投诉",
        "description": "群众举报",
        "source_system": "test",
        "external_ref": unique_ref(),
        "received_on": "2026-09-05",
        "occurred_on": "2026-08-30",
        "case_type": "pollution_discharge",
        "source_channel": "petition_media",
        **extra,
    }


def create(
    client: TestClient, auth: Auth, body: dict[str, Any], role: str = "screener", **headers: str
) -> dict[str, Any]:
    r = client.post("/api/v1/leads", json=body, headers={**auth(role), **headers})
    assert r.status_code == 201, r.text
    return r.json()


def file(
    client: TestClient,
    auth: Auth,
    lead_id: int,
    decision: str,
    grounds: list[str],
    role: str = "screener",
    **extra: Any,
) -> Any:
    return client.post(
        f"/api/v1/leads/{lead_id}/filing",
        headers=auth(role),
        json={
            "decision": decision,
            "grounds": grounds,
            "reasons": "经初步核查。",
            "approved_by": "张局长",
            **extra,
        },
    )


def test_create_and_read(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body(obligor={"id": new_obligor_id(), "name": "某某公司"}))
    assert lead["status"] == "preliminary_check"
    assert lead["status_label"] == "初步核查中"
    assert lead["decision"]["jurisdiction"]["rights_holder"]["code"] == "150700"
    assert lead["league_code"] == "150700"
    assert lead["next_due"] == lead["decision"]["deadlines"][0]["due"]
    assert lead["geometry"] == POINT_HULUNBUIR
    assert len(lead["decisions"]) == 1 and lead["decisions"][0]["trigger"] == "created"
    got = client.get(f"/api/v1/leads/{lead['id']}", headers=auth("viewer")).json()
    assert got["decision"] == lead["decision"]
    assert got["created_by"] == "screener:test-screener"


def test_same_external_ref_or_key_returns_the_existing_lead(client: TestClient, auth: Auth) -> None:
    body = lead_body()
    first = create(client, auth, body)
    again = client.post("/api/v1/leads", json=body, headers=auth("system"))
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    key = unique_ref()
    keyed_body = lead_body()
    keyed = create(client, auth, keyed_body, **{"Idempotency-Key": key})
    retry = client.post(
        "/api/v1/leads", json=keyed_body, headers={**auth("screener"), "Idempotency-Key": key}
    )
    assert retry.status_code == 200 and retry.json()["id"] == keyed["id"]


def test_another_callers_idempotency_key_never_returns_their_lead(
    client: TestClient, auth: Auth
) -> None:
    """The attack (issue 9, hole 13): a second caller guesses or observes a key and sends it
    with its own lead; it must get its own new lead, never the first caller's record."""
    key = unique_ref()
    body = lead_body(source_system=None, external_ref=None, title="甲单位的线索")
    victim = create(client, auth, body, role="screener", **{"Idempotency-Key": key})
    attacker_body = {**body, "title": "乙单位的线索"}
    r = client.post(
        "/api/v1/leads", json=attacker_body, headers={**auth("system"), "Idempotency-Key": key}
    )
    assert r.status_code == 201, r.text
    assert r.json()["id"] != victim["id"] and r.json()["title"] == "乙单位的线索"
    # Even the very same body from another caller is that caller's own lead.
    admin = {**auth("admin"), "Idempotency-Key": key}
    same = client.post("/api/v1/leads", json=body, headers=admin)
    assert same.status_code == 201 and same.json()["id"] not in (victim["id"], r.json()["id"])


def test_reusing_a_key_with_a_different_body_is_422(client: TestClient, auth: Auth) -> None:
    key = unique_ref()
    body = lead_body(source_system=None, external_ref=None)
    first = create(client, auth, body, **{"Idempotency-Key": key})
    changed = {**body, "damage_amount_yuan": 5000}
    keyed = {**auth("screener"), "Idempotency-Key": key}
    r = client.post("/api/v1/leads", json=changed, headers=keyed)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert "幂等键" in r.json()["errors"][0]["message"]
    again = client.post("/api/v1/leads", json=body, headers=keyed)
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_external_ref_needs_a_source_system(client: TestClient, auth: Auth) -> None:
    body = lead_body()
    del body["source_system"]
    r = client.post("/api/v1/leads", json=body, headers=auth("screener"))
    assert r.status_code == 422
    assert "source_system" in r.json()["errors"][0]["message"]


def _race(
    client: TestClient, auth: Auth, body: dict[str, Any], headers: dict[str, str], n: int = 8
) -> list[Any]:
    barrier = threading.Barrier(n)
    responses: list[Any] = [None] * n

    def go(i: int) -> None:
        barrier.wait()
        responses[i] = client.post(
            "/api/v1/leads", json=body, headers={**auth("system"), **headers}
        )

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def test_concurrent_retries_make_exactly_one_lead(
    client: TestClient, auth: Auth, services: Services
) -> None:
    body = lead_body()
    responses = _race(client, auth, body, {})
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [
        r.text[:300] for r in responses if r.status_code not in (200, 201)
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    with services.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.source_system == "test", Lead.external_ref == body["external_ref"])
        )
    assert count == 1


def test_concurrent_retries_with_idempotency_key(
    client: TestClient, auth: Auth, services: Services
) -> None:
    key = unique_ref()
    body = lead_body(title=f"并发重试 {key}")
    del body["external_ref"], body["source_system"]
    responses = _race(client, auth, body, {"Idempotency-Key": key})
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    with services.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.title == body["title"])
        )
        keys = session.scalars(
            select(Lead.idempotency_key).where(Lead.id.in_({r.json()["id"] for r in responses}))
        ).all()
    assert count == 1
    assert len(keys) == 1 and keys[0] != key  # stored scoped to the caller, not as sent


def test_already_remediated_is_excluded_at_creation(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body(already_remediated=True))
    assert lead["status"] == "excluded"
    assert lead["next_due"] is None
    r = file(client, auth, lead["id"], "file", [])
    assert r.status_code == 409


def test_rescreen_adds_a_decision_beside_the_old(
    client: TestClient, auth: Auth, services: Services
) -> None:
    lead = create(client, auth, lead_body())
    r = client.post(f"/api/v1/leads/{lead['id']}/rescreen", headers=auth("screener"))
    assert r.status_code == 201, r.text
    again = client.get(f"/api/v1/leads/{lead['id']}", headers=auth("viewer")).json()
    assert [d["trigger"] for d in again["decisions"]] == ["created", "rescreen"]
    assert again["decisions"][0]["id"] < again["decisions"][1]["id"]
    assert again["decisions"][0]["result"] == lead["decision"]  # never edited
    assert again["decision"] == again["decisions"][1]["result"]
    with services.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "lead", AuditEntry.entity_id == str(lead["id"])
            )
        ).all()
    assert "lead_rescreened" in actions


def test_league_filter_finds_the_region_level_cases_that_touch_it(
    client: TestClient, auth: Auth
) -> None:
    """A cross-league case belongs to the region (第五条第二款), yet each league it touches
    must find it in its own list."""
    from layers.builtin import builtin_layers

    (leagues,) = builtin_layers(only=["league"])
    geom = {f.code: f.geometry for f in leagues.features}
    seam = geom["150100"].boundary.intersection(geom["150200"].boundary)
    x, y = seam.representative_point().coords[0]
    across = {
        "type": "Polygon",
        "coordinates": [
            [
                [x - 0.03, y - 0.03],
                [x + 0.03, y - 0.03],
                [x + 0.03, y + 0.03],
                [x - 0.03, y + 0.03],
                [x - 0.03, y - 0.03],
            ]
        ],
    }
    lead = create(client, auth, lead_body(location={"geometry": across}))
    jurisdiction = lead["decision"]["jurisdiction"]
    assert jurisdiction["reason"] == "cross_league"
    assert jurisdiction["rights_holder"]["code"] == "150000"

    def listed(league: str) -> bool:
        r = client.get(
            "/api/v1/leads", params={"league": league, "limit": 500}, headers=auth("viewer")
        )
        assert r.status_code == 200, r.text
        return lead["id"] in {i["id"] for i in r.json()["items"]}

    assert listed("150100") and listed("150200") and listed("150000")
    assert not listed("150300") and not listed("150700")


def test_list_filters_and_paging(client: TestClient, auth: Auth) -> None:
    system = f"list-{unique_ref()[:8]}"
    hulun = create(client, auth, lead_body(source_system=system))
    hohhot = create(
        client, auth, lead_body(source_system=system, location={"geometry": POINT_HOHHOT})
    )
    major = create(
        client,
        auth,
        lead_body(
            source_system=system, case_type="environmental_emergency", incident_grade="major"
        ),
    )

    def ids(**params: Any) -> set[int]:
        r = client.get("/api/v1/leads", params={"limit": 500, **params}, headers=auth("viewer"))
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    mine = {hulun["id"], hohhot["id"], major["id"]}
    assert {hulun["id"], major["id"]} <= ids(league="150700")
    assert hohhot["id"] not in ids(league="150700")
    assert major["id"] in ids(major="true") and hulun["id"] not in ids(major="true")
    assert mine <= ids(status="preliminary_check")
    due = date.fromisoformat(hulun["next_due"])
    assert hulun["id"] in ids(due_before=(due + timedelta(days=1)).isoformat())
    assert hulun["id"] not in ids(due_before=due.isoformat())
    page = client.get(
        "/api/v1/leads", params={"limit": 1, "offset": 1}, headers=auth("viewer")
    ).json()
    assert len(page["items"]) == 1 and page["total"] >= 3 and page["offset"] == 1
    bad = client.get("/api/v1/leads", params={"status": "open"}, headers=auth("viewer"))
    assert bad.status_code == 422 and "preliminary_check" in bad.json()["errors"][0]["message"]
    bad = client.get("/api/v1/leads", params={"league": "呼伦贝尔"}, headers=auth("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "league"


def test_filing_file_then_terminate(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body())
    r = file(client, auth, lead["id"], "file", [])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "filed"
    assert r.json()["filings"][0]["approved_by"] == "张局长"
    r = file(client, auth, lead["id"], "not_file", ["already_paid"])
    assert r.status_code == 409
    r = file(client, auth, lead["id"], "terminate", ["already_paid"])
    assert r.status_code == 201 and r.json()["status"] == "terminated"
    assert r.json()["filings"][1]["citations"] == ["第十五条第二款第（一）项"]


def test_filing_requires_reasons_approval_and_grounds(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body())
    url = f"/api/v1/leads/{lead['id']}/filing"
    r = client.post(
        url, json={"decision": "not_file", "grounds": ["other"]}, headers=auth("screener")
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"reasons", "approved_by"}
    r = client.post(
        url,
        json={"decision": "not_file", "reasons": "x", "approved_by": "y"},
        headers=auth("screener"),
    )
    assert r.status_code == 422 and "grounds" in r.json()["errors"][0]["message"]
    r = client.post(
        url,
        json={"decision": "maybe", "reasons": "x", "approved_by": "y"},
        headers=auth("screener"),
    )
    assert r.status_code == 422 and "not_file" in r.json()["errors"][0]["message"]
    r = file(client, auth, lead["id"], "terminate", ["other"])
    assert r.status_code == 409 and "第十五条第四款" in r.json()["detail"]
    assert (
        client.post(
            "/api/v1/leads/999999999/filing",
            headers=auth("screener"),
            json={"decision": "file", "reasons": "x", "approved_by": "y"},
        ).status_code
        == 404
    )


def test_not_filing_a_minor_case_the_override_catches_is_409(
    client: TestClient, auth: Auth
) -> None:
    lead = create(client, auth, lead_body(damage_amount_yuan=2000, region_decides_start=True))
    assert lead["decision"]["minor"]["override"] is True
    assert lead["minor_override"] is True
    r = file(client, auth, lead["id"], "not_file", ["minor"])
    assert r.status_code == 409
    problem = r.json()
    assert "第十五条第五款" in problem["detail"]
    assert "自治区人民政府或其指定部门决定启动" in problem["detail"]
    assert problem["errors"][0]["field"] == "grounds"
    # Another ground stands on its own (RULES.md R5: the override applies to ground (三) only).
    assert file(client, auth, lead["id"], "not_file", ["already_paid"]).status_code == 201
    assert (
        client.get(f"/api/v1/leads/{lead['id']}", headers=auth("viewer")).json()["status"]
        == "not_filed"
    )


def test_minor_case_with_unknown_override_needs_a_check(client: TestClient, auth: Auth) -> None:
    """No red line / reserve layer is active here: 第十五条第五款 cannot be ruled out by the
    system, so "minor" is accepted only once the officer states the override was checked."""
    lead = create(client, auth, lead_body(damage_amount_yuan=2000))
    assert lead["decision"]["minor"]["is_minor"] is True
    assert lead["decision"]["minor"]["override"] is None
    r = file(client, auth, lead["id"], "not_file", ["minor"], no_compensation_needed=True)
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "override_checked"
    r = file(client, auth, lead["id"], "not_file", ["minor"], override_checked=True)
    assert r.status_code == 422  # 第十五条第二款第（三）项: 且不需要赔偿 is a finding of its own
    assert r.json()["errors"][0]["field"] == "no_compensation_needed"
    r = file(
        client, auth, lead["id"], "not_file", ["minor"],
        override_checked=True, no_compensation_needed=True,
    )
    assert r.status_code == 201 and r.json()["status"] == "not_filed"
    assert r.json()["filings"][0]["no_compensation_needed"] is True


def test_a_filed_case_makes_the_next_one_a_repeat(client: TestClient, auth: Auth) -> None:
    obligor = {"id": new_obligor_id(), "name": "某某化工"}
    first = create(
        client, auth, lead_body(obligor=obligor, occurred_on="2025-06-01", received_on="2025-06-03")
    )
    second = create(client, auth, lead_body(obligor=obligor, damage_amount_yuan=1000))
    assert "repeat_within_2_years" not in second["decision"]["minor"]["override_reasons"]
    assert file(client, auth, first["id"], "file", []).status_code == 201
    r = client.post(f"/api/v1/leads/{second['id']}/rescreen", headers=auth("screener"))
    minor = r.json()["decision"]["minor"]
    assert "repeat_within_2_years" in minor["override_reasons"]
    assert "2025-06-01" in minor["repeat"]["earlier_damage_dates"]
    assert file(client, auth, second["id"], "not_file", ["minor"]).status_code == 409
    # The lead's own filing never counts as its own prior damage.
    own = client.post(f"/api/v1/leads/{first['id']}/rescreen", headers=auth("screener")).json()
    assert own["decision"]["minor"]["repeat"]["earlier_damage_dates"] == []


def test_history_import_feeds_the_two_year_rule(client: TestClient, auth: Auth) -> None:
    obligor = new_obligor_id()
    csv_text = (
        "obligor_id,damage_date,case_ref,note\n"
        f"{obligor},2025-03-01,（2025）内07民初1号,历史案件\n"
        "91150100MA0N0C8A1X,2025-03-01,,校验码错\n"
        f"{obligor},2025/13/01,,日期错\n"
        f"{obligor},2999-01-01,,未来\n"
    )
    r = client.post(
        "/api/v1/history/import",
        content=csv_text.encode(),
        headers={**auth("screener"), "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["imported"]) == (4, 1)
    assert [x["line"] for x in report["rejected"]] == [3, 4, 5]
    assert "校验码" in report["rejected"][0]["reasons"][0]
    again = client.post(
        "/api/v1/history/import",
        files={"file": ("h.csv", csv_text.encode())},
        headers=auth("admin"),
    ).json()
    assert again["imported"] == 0 and [d["line"] for d in again["duplicates"]] == [2]
    lead = create(client, auth, lead_body(obligor={"id": obligor}, damage_amount_yuan=100))
    assert "repeat_within_2_years" in lead["decision"]["minor"]["override_reasons"]


def test_history_import_rejects_an_unusable_file(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/v1/history/import",
        content=b"who,when\n1,2\n",
        headers={**auth("screener"), "content-type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = client.post(
        "/api/v1/history/import",
        content=b"",
        headers={**auth("screener"), "content-type": "text/csv"},
    )
    assert r.status_code == 422


def test_dossier_holds_the_whole_record(client: TestClient, auth: Auth) -> None:
    lead = create(client, auth, lead_body())
    client.post(f"/api/v1/leads/{lead['id']}/rescreen", headers=auth("screener"))
    file(client, auth, lead["id"], "file", [])
    r = client.get(f"/api/v1/leads/{lead['id']}/dossier", headers=auth("viewer"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert {"lead.json", "filings.json", "audit.json", "README.txt"} <= set(names)
    assert len([n for n in names if n.startswith("decisions/")]) == 2
    assert json.loads(z.read("lead.json"))["id"] == lead["id"]
    assert json.loads(z.read("filings.json"))[0]["decision"] == "file"
    actions = [e["action"] for e in json.loads(z.read("audit.json"))]
    assert actions[:3] == ["lead_created", "decision_recorded", "lead_status_changed"]
    assert {"lead_rescreened", "filing_recorded"} <= set(actions)
    # The case map is in every dossier of a lead with a damage area (issue 15: never dropped).
    assert "case_map.html" in names
    case_map = z.read("case_map.html").decode()
    assert "<html" in case_map.lower() and "海拉尔区河道排污投诉" in case_map
    assert "leaflet" in case_map.lower()
    assert "case_map.html" in z.read("README.txt").decode()


def test_unknown_lead_is_404(client: TestClient, auth: Auth) -> None:
    for path in ("", "/dossier"):
        r = client.get(f"/api/v1/leads/999999999{path}", headers=auth("viewer"))
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "lead_id"
    assert (
        client.post("/api/v1/leads/999999999/rescreen", headers=auth("screener")).status_code == 404
    )
