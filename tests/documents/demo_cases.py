"""The demo's cases the documents tests read, and the handle the `demo` fixture yields."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from geo_service.services import Services

# The demo's leads by what they show (install_demo creates them in this order, ids 1..7).
RED_LINE_POINT = 1  # a point inside the demo red line (呼伦湖西岸)
CROSS_LEAGUE = 3  # 跨盟市河道非法采砂: a region-level case (rights holder 150000)


@dataclass(frozen=True)
class Demo:
    backend: str
    services: Services
    client: TestClient
    admin: str
    viewer: str

    def get(self, url: str, token: str | None = None):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers={"Authorization": f"Bearer {token or self.viewer}"})


