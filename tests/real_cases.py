"""Real cases for the page, map and document tests: every lead here is made by POST
/api/v1/leads through the app, so its stored decision is what `decide()` really produced — over
the real built-in boundaries and small synthetic sensitive layers (the demo's, installed by the
same `install_demo` that `geo-screen demo` runs). Nothing in a decision is typed by hand.

`build_cases(services)` runs in two phases on a fresh database:
1. before any sensitive layer is active — a lead whose red-line status is unknown;
2. after `install_demo` — the demo's own seven leads, and one lead per case in CASES.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.cli_screen import install_demo
from geo_service.schemas import today_in_china
from geo_service.services import Services

HOHHOT = {"type": "Point", "coordinates": [111.70, 40.85]}  # 呼和浩特市新城区
IN_DEMO_RED_LINE = {"type": "Point", "coordinates": [117.40, 48.90]}  # demo red line (呼伦湖)
IN_DEMO_RESERVE = {"type": "Point", "coordinates": [116.40, 43.95]}  # demo nature reserve
CROSS_LEAGUE = {  # 包头市 → 呼和浩特市 along the Yellow River plain (the demo's sand-mining line)
    "type": "LineString", "coordinates": [[110.6, 40.55], [111.0, 40.6], [111.4, 40.62]],
}
CROSS_PROVINCE = {  # 鄂尔多斯市 and 陕西省 (神木): a polygon over the provincial boundary
    "type": "Polygon",
    "coordinates": [[[110.2, 39.0], [110.9, 39.0], [110.9, 39.5], [110.2, 39.5], [110.2, 39.0]]],
}


# Received on a fixed past day whose 30-working-day progress report falls in 2027, a year the
# bundled chinese-calendar has no official schedule for (a fixed date: the test does not depend
# on the day it runs).
PROVISIONAL_RECEIVED_ON = "2026-11-25"


def _days_ago(n: int) -> str:
    return (today_in_china() - timedelta(days=n)).isoformat()


def case_bodies() -> dict[str, dict[str, Any]]:
    """name -> lead body, for the cases after the sensitive layers are active."""
    minor = {"damage_amount_yuan": 2000, "received_on": _days_ago(5), "occurred_on": _days_ago(8)}
    return {
        "league": {"location": {"geometry": HOHHOT}, "case_type": "illegal_mining",
                   "received_on": _days_ago(3), "title": "呼和浩特市非法采矿"},
        "cross_league": {"location": {"geometry": CROSS_LEAGUE},
                         "case_type": "illegal_sand_mining", "title": "跨盟市河道采砂"},
        "cross_province": {"location": {"geometry": CROSS_PROVINCE},
                           "case_type": "land_destruction", "title": "跨省界土地破坏"},
        # A league major case: the region-level counterpart of 生态环境局 supervises (第三十五条
        # 第二款); its 第三十八条 progress report lands in a year chinese-calendar does not know.
        "major_league": {"location": {"geometry": HOHHOT}, "case_type": "pollution_discharge",
                         "incident_grade": "larger", "received_on": PROVISIONAL_RECEIVED_ON,
                         "title": "呼和浩特市较大突发环境事件排污"},
        # A region major case: no 督办 of a league, so no 第三十八条 reporting line either.
        "major_region": {"location": {"geometry": CROSS_LEAGUE},
                         "case_type": "pollution_discharge", "incident_grade": "larger",
                         "title": "跨盟市较大突发环境事件"},
        "coarse": {"location": {"admin_name": "阿左旗"}, "case_type": "forest_grass_wetland_damage",
                   "title": "只知道旗县的草原破坏"},
        "override_red_line": {"location": {"geometry": IN_DEMO_RED_LINE},
                              "case_type": "pollution_discharge", **minor,
                              "title": "红线内小额排污"},
        "override_nature_reserve": {"location": {"geometry": IN_DEMO_RESERVE},
                                    "case_type": "forest_grass_wetland_damage", **minor,
                                    "title": "保护地内小额毁草"},
        "override_repeat": {"location": {"geometry": HOHHOT}, "case_type": "waste_dumping",
                            **minor, "prior_damage_dates": [_days_ago(200)],
                            "title": "两年内再次倾倒"},
        "override_region_decision": {"location": {"geometry": HOHHOT},
                                     "case_type": "waste_dumping", **minor,
                                     "region_decides_start": True, "title": "自治区决定索赔"},
    }


# Before any sensitive layer is active: the service cannot say whether this is in a red line.
UNKNOWN_KINDS = {"location": {"geometry": HOHHOT}, "case_type": "pollution_discharge",
                 "damage_amount_yuan": 2000, "received_on": _days_ago(5),
                 "title": "敏感区图层未启用时的小额排污"}


@dataclass(frozen=True)
class RealCases:
    """Lead ids by case name (CASES, "unknown_kinds", and "demo-1" … "demo-7"), and a token."""

    ids: dict[str, int]
    admin_token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def _post(client: TestClient, token: str, body: dict[str, Any]) -> int:
    body = {"source_system": "real-cases", "external_ref": uuid.uuid4().hex, **body}
    r = client.post("/api/v1/leads", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text[:500]
    return int(r.json()["id"])


def build_cases(services: Services) -> RealCases:
    """Run the pipeline for every case on `services` (a fresh database: see the module doc)."""
    with services.sessions() as session:
        token = create_token(session, "admin", "真实案例", actor="test")
    ids: dict[str, int] = {}
    with TestClient(create_app(services=services)) as client:
        ids["unknown_kinds"] = _post(client, token, UNKNOWN_KINDS)
        install_demo(services)
        listed = client.get("/api/v1/leads?limit=100",
                            headers={"Authorization": f"Bearer {token}"}).json()
        for lead in listed["items"]:
            if lead.get("source_system") == "demo":
                ids[lead["external_ref"]] = lead["id"]
        for name, body in case_bodies().items():
            ids[name] = _post(client, token, body)
    return RealCases(ids, token)


# --- What an officer must never read --------------------------------------------------------

PYTHON_REPR = re.compile(r"\[\{'|\{'code'|'name':|\(\('|\bNone\b|\bTrue\b|\bFalse\b")


class _Text(HTMLParser):
    """The text a reader sees: everything outside <script> and <style>, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def python_repr_in(text: str) -> list[str]:
    """Fragments of Python's repr (a list of dicts, None/True/False) in `text`, HTML-unescaped,
    with 40 characters of context each; [] when there is none."""
    plain = html.unescape(text)
    return [plain[max(0, m.start() - 40): m.end() + 40] for m in PYTHON_REPR.finditer(plain)]
