"""Issue 10 on both backends: decisions that hold up when the officer decides.

Written from the regulation's words:
- 第十五条第五款第（二）项 "赔偿义务人曾因违法行为造成生态环境损害，2年内再次发生的" — earlier
  damage counts when it was established, not only when it was filed;
- 第十五条第二款第（三）项 "显著轻微，且不需要赔偿的" — two findings, not one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api_helpers import new_obligor_id, unique_ref
from fastapi.testclient import TestClient
from test_leads import create, file, lead_body

Auth = Callable[[str], dict[str, str]]


def minor_lead(obligor: dict[str, Any], occurred: str, received: str, **extra: Any) -> dict:
    return lead_body(
        obligor=obligor,
        occurred_on=occurred,
        received_on=received,
        damage_amount_yuan=1000,
        **extra,
    )


def not_file_minor(client: TestClient, auth: Auth, lead_id: int) -> Any:
    return file(
        client, auth, lead_id, "not_file", ["minor"],
        no_compensation_needed=True, override_checked=True,
    )


def test_a_first_lead_not_filed_as_minor_makes_the_second_a_repeat(
    client: TestClient, auth: Auth
) -> None:
    """The A/B probe: A (2025-06-01, ¥1,000) not filed as minor; B by the same obligor
    (2026-08-30, ¥1,000) lies within two years of A and must be claimed, naming lead A."""
    obligor = {"id": new_obligor_id(), "name": "某某化工有限公司"}
    a = create(client, auth, minor_lead(obligor, "2025-06-01", "2025-06-03"))
    assert not_file_minor(client, auth, a["id"]).status_code == 201
    b = create(client, auth, minor_lead(obligor, "2026-08-30", "2026-09-05"))
    minor = b["decision"]["minor"]
    assert minor["override_reasons"] == ["repeat_within_2_years"]
    assert minor["override"] is True and minor["claim_required"] is True
    assert minor["repeat"]["triggered_by_lead_ids"] == [a["id"]]
    assert minor["repeat"]["earlier"] == [
        {"date": "2025-06-01", "source": "lead", "lead_id": a["id"],
         "ref": a["title"], "match": "id"}
    ]
    assert f"线索 {a['id']}" in minor["explanation"]
    r = not_file_minor(client, auth, b["id"])
    assert r.status_code == 409 and "两年内再次发生" in r.json()["detail"]


def test_leads_that_established_no_damage_do_not_count(client: TestClient, auth: Auth) -> None:
    """An excluded lead (第十二条第二款) and an open one have not established damage; a lead
    not filed because the obligor is gone (第（四）项) says nothing about the damage."""
    obligor = {"id": new_obligor_id()}
    create(client, auth, minor_lead(obligor, "2025-06-01", "2025-06-03", already_remediated=True))
    create(client, auth, minor_lead(obligor, "2025-07-01", "2025-07-03"))
    gone = create(client, auth, minor_lead(obligor, "2025-08-01", "2025-08-03"))
    assert file(client, auth, gone["id"], "not_file", ["obligor_gone"]).status_code == 201
    b = create(client, auth, minor_lead(obligor, "2026-08-30", "2026-09-05"))
    assert b["decision"]["minor"]["override_reasons"] == []
    assert b["decision"]["minor"]["repeat"]["earlier"] == []


def test_a_terminated_case_counts_and_a_name_match_is_flagged(
    client: TestClient, auth: Auth
) -> None:
    """Without an identifier the obligor is matched by its normalised name, flagged."""
    name = f"某某 砂石厂（{unique_ref()[:6]}）"
    a = create(client, auth, minor_lead({"name": name}, "2025-09-01", "2025-09-02"))
    assert file(client, auth, a["id"], "file", []).status_code == 201
    assert file(client, auth, a["id"], "terminate", ["already_paid"]).status_code == 201
    spaced = name.replace("（", "(").replace("）", ")").replace(" ", "")
    b = create(client, auth, minor_lead({"name": spaced}, "2026-08-30", "2026-09-05"))
    minor = b["decision"]["minor"]
    assert minor["override_reasons"] == ["repeat_within_2_years"]
    assert minor["repeat"]["earlier"][0]["match"] == "name"
    assert b["decision"]["needs_verification"] is True
    assert "repeat_name_match" in {w["code"] for w in b["decision"]["warnings"]}


def test_filing_decides_on_the_facts_as_they_are_now(client: TestClient, auth: Auth) -> None:
    """The stale-decision probe: B is screened first; the obligor's earlier damage is recorded
    afterwards. Not filing B on "minor" is checked against a fresh decision, stored first."""
    obligor_id = new_obligor_id()
    b = create(client, auth, minor_lead({"id": obligor_id}, "2026-08-30", "2026-09-05"))
    assert b["decision"]["minor"]["override_reasons"] == []
    csv_text = f"obligor_id,damage_date,case_ref\n{obligor_id},2025-03-01,（2025）内07民初9号\n"
    r = client.post(
        "/api/v1/history/import",
        content=csv_text.encode(),
        headers={**auth("screener"), "content-type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["imported"] == 1
    r = not_file_minor(client, auth, b["id"])
    assert r.status_code == 409, r.text
    assert "两年内再次发生" in r.json()["detail"]
    # The refusal answers with the fresh decision it rests on.
    assert r.json()["decision"]["minor"]["override_reasons"] == ["repeat_within_2_years"]
    after = client.get(f"/api/v1/leads/{b['id']}", headers=auth("viewer")).json()
    assert r.json()["decision_id"] == after["decisions"][-1]["id"]
    assert [d["trigger"] for d in after["decisions"]] == ["created", "filing_check"]
    fresh = after["decision"]["minor"]
    assert fresh["override_reasons"] == ["repeat_within_2_years"]
    assert fresh["repeat"]["earlier"][0]["ref"] == "（2025）内07民初9号"
    assert after["status"] == "preliminary_check" and after["minor_override"] is True
    # Filing it is allowed, and records the decision it was checked against.
    done = file(client, auth, b["id"], "file", [])
    assert done.status_code == 201
    assert done.json()["filings"][0]["decision_id"] == after["decisions"][-1]["id"]


def test_a_new_established_damage_rescreens_the_obligors_open_leads(
    client: TestClient, auth: Auth
) -> None:
    obligor = {"id": new_obligor_id()}
    later = create(client, auth, minor_lead(obligor, "2026-08-30", "2026-09-05"))
    earlier = create(client, auth, minor_lead(obligor, "2025-06-01", "2025-06-03"))
    assert later["decision"]["minor"]["override_reasons"] == []
    assert not_file_minor(client, auth, earlier["id"]).status_code == 201
    got = client.get(f"/api/v1/leads/{later['id']}", headers=auth("viewer")).json()
    assert got["decisions"][-1]["trigger"] == "obligor_history"
    assert got["decision"]["minor"]["repeat"]["triggered_by_lead_ids"] == [earlier["id"]]
    assert got["minor_override"] is True


def test_minor_by_impact_alone_needs_both_findings(client: TestClient, auth: Auth) -> None:
    """¥900,000 with "no obvious impact" is 显著轻微 by 第四十八条第（二）项, but 第十五条第二款
    第（三）项 also asks 且不需要赔偿: the decision warns, the filing needs the finding and the
    第四十八条第（二）项 criterion."""
    lead = create(
        client, auth, lead_body(damage_amount_yuan=900_000, no_obvious_impact=True)
    )
    minor = lead["decision"]["minor"]
    assert minor["is_minor"] is True and minor["basis"] == ["no_obvious_impact"]
    assert minor["ground_three"]["no_compensation_needed"] == "to_be_recorded_at_filing"
    codes = {w["code"] for w in lead["decision"]["warnings"]}
    assert {"minor_amount_not_small", "impact_criterion_missing"} <= codes
    assert "不需要赔偿" in minor["explanation"]
    assert "可依第十五条第二款第（三）项不启动索赔程序（" not in minor["explanation"]
    r = file(client, auth, lead["id"], "not_file", ["minor"], override_checked=True)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "no_compensation_needed"
    r = file(
        client, auth, lead["id"], "not_file", ["minor"],
        override_checked=True, no_compensation_needed=True,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "no_obvious_impact_criterion"
    r = file(
        client, auth, lead["id"], "not_file", ["minor"],
        override_checked=True, no_compensation_needed=True, no_obvious_impact_criterion=1,
    )
    assert r.status_code == 201
    assert r.json()["filings"][0]["no_obvious_impact_criterion"] == 1


def test_decided_on_is_never_before_the_lead_or_in_the_future(
    client: TestClient, auth: Auth
) -> None:
    lead = create(client, auth, lead_body())
    r = file(client, auth, lead["id"], "file", [], decided_on="2026-09-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decided_on"
    r = file(client, auth, lead["id"], "file", [], decided_on="2999-01-01")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decided_on"
    r = file(client, auth, lead["id"], "file", [], decided_on="2026-09-10")
    assert r.status_code == 201 and r.json()["filings"][0]["decided_on"] == "2026-09-10"
