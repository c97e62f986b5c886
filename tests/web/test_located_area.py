"""A lead located from its text to an administrative unit has no damage geometry: its case map,
map.png, Word opinion and dossier draw the unit as the located area (issue 12), on both backends.

Every lead is made by POST /api/v1/leads on a fresh database of its own: first with the built-in
boundaries only (the text resolves to the county), then with the township and village layers an
analyst loads (the text resolves to the township polygon, or to a village point with no area).
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from docx import Document
from fastapi.testclient import TestClient
from PIL import Image
from real_cases import visible_text
from shapely.geometry import shape
from support import private_services

from geo_service import layer_admin
from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from layers.builtin import load_series
from maps.case_map import DAMAGE_STYLE, LOCATED_STYLE, embedded_geojson
from maps.figure import DPI, HEIGHT_IN, WIDTH_IN

DATA = Path(__file__).parents[1] / "data"
COUNTY_TEXT = "鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧"
VILLAGE_TEXT = "准旗薛家湾镇不连沟村东侧"
COUNTY_LABEL = "线索文字定位范围（准格尔旗，未细化：薛家湾镇）"
TOWNSHIP_LABEL = "线索文字定位范围（薛家湾镇）"
DISTANCE_GROUPS = ("到所在敏感区域边界的距离", "到盟市边界的距离", "最近敏感区域距离")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Site:
    client: TestClient
    viewer: dict[str, str]
    leads: dict[str, int]  # "county", "township", "village" → lead id

    def get(self, url: str):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.viewer)


def _load_layer(services: Services, tmp: Path, source: str, kind: str) -> None:
    upload = tmp / source
    shutil.copy(DATA / source, upload)
    summary, report = layer_admin.upload_layer(
        services, upload, layer_admin.UploadParams(kind=kind, name=f"zhunge_{kind}"), "test")
    assert not report["rejected"]
    layer_admin.activate_version(services, summary["id"], "test")


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("located")
    with ExitStack() as stack:
        services = private_services(stack, request.param, tmp)
        with services.sessions() as session:
            screener = create_token(session, "screener", "筛查员", actor="system:test")
            viewer = create_token(session, "viewer", "查看员", actor="system:test")
        client = stack.enter_context(TestClient(create_app(services=services)))

        def lead(text: str, title: str) -> int:
            body = {"location": {"text": text}, "case_type": "waste_dumping", "title": title}
            r = client.post("/api/v1/leads", json=body,
                            headers={"Authorization": f"Bearer {screener}"})
            assert r.status_code == 201, r.text
            assert r.json()["geometry"] is None  # located, not drawn: no damage geometry
            return int(r.json()["id"])

        leads = {"county": lead(COUNTY_TEXT, "煤矸石倾倒（文字定位到旗县）")}
        _load_layer(services, tmp, "geocode_corpus_townships.geojson", "township")
        _load_layer(services, tmp, "geocode_corpus_villages.geojson", "village")
        leads["township"] = lead(COUNTY_TEXT, "煤矸石倾倒（文字定位到乡镇）")
        leads["village"] = lead(VILLAGE_TEXT, "煤矸石倾倒（文字定位到村）")
        yield Site(client, {"Authorization": f"Bearer {viewer}"}, leads)


def _located(html: str, label: str) -> shapely.Geometry:
    (area,) = [f for p in embedded_geojson(html) for f in p["features"]
               if f["properties"].get("label") == label]
    return shape(area["geometry"])


def test_case_map_draws_the_county_as_the_located_area_without_distances(site: Site) -> None:
    lead = site.leads["county"]
    r = site.get(f"/leads/{lead}/map")
    assert r.status_code == 200, r.text
    assert len(r.content) < 300_000
    county = next(f for f in load_series("county").features if f.code == "150622").geometry
    area = _located(r.text, COUNTY_LABEL)
    assert area.geom_type in ("Polygon", "MultiPolygon")
    # The county, simplified for display: the same place and extent, fewer vertices.
    assert area.symmetric_difference(county).area < 0.02 * county.area
    assert shapely.get_num_coordinates(area) < shapely.get_num_coordinates(county)
    legend = r.text[r.text.index('id="gs-legend"'):].split("</ul>")[0]
    assert COUNTY_LABEL in legend and "准格尔旗" in legend
    labels = [f["properties"].get("label", "") for p in embedded_geojson(r.text)
              for f in p["features"]]
    assert "准格尔旗" in labels  # the highlighted county, named
    assert not any(label.startswith("损害结果发生地") for label in labels)
    assert "损害结果发生地" not in legend
    assert not any("gs-dist" in str(f["properties"].get("labelClass", ""))
                   for p in embedded_geojson(r.text) for f in p["features"])
    for group in DISTANCE_GROUPS:
        assert group not in r.text


def test_case_page_and_printed_opinion_show_the_map(site: Site) -> None:
    lead = site.leads["county"]
    page = site.get(f"/leads/{lead}").text
    assert f'<iframe id="case-map" src="/leads/{lead}/map?embed=1"' in page
    assert f'href="/api/v1/leads/{lead}/map.png"' in page
    assert f'href="/leads/{lead}/map"' in page
    assert "<mark>鄂尔多斯市准格尔旗薛家湾镇</mark>某煤矿排土场北侧" in page
    opinion = site.get(f"/leads/{lead}/opinion").text
    assert f'src="/api/v1/leads/{lead}/map.png"' in opinion
    # what was overlaid is named as what it is: a county-wide reading, not the damage location
    assert "经对线索文字所述位置（定位至准格尔旗，未确定具体地点）进行空间叠加分析" in opinion
    assert "经对损害结果发生地进行空间叠加分析" not in opinion


def _pixels_near(png: bytes, colour: str, within: int = 24) -> int:
    assert png.startswith(PNG_MAGIC)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert pixels.shape == (round(HEIGHT_IN * DPI), round(WIDTH_IN * DPI), 3)
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=2) <= within).sum())


def test_map_png_word_opinion_and_dossier_carry_the_located_area(site: Site) -> None:
    lead = site.leads["county"]
    r = site.get(f"/api/v1/leads/{lead}/map.png")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    # The county's hatched outline is drawn; nothing in the damage area's red.
    assert _pixels_near(r.content, str(LOCATED_STYLE["color"])) > 5000
    assert _pixels_near(r.content, str(DAMAGE_STYLE["color"])) < 50

    doc = Document(io.BytesIO(site.get(f"/api/v1/leads/{lead}/opinion.docx").content))
    (shape_,) = doc.inline_shapes
    blob = doc.part.related_parts[shape_._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
    assert _pixels_near(blob, str(LOCATED_STYLE["color"])) > 5000
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"图中“{COUNTY_LABEL}”是线索定位到的行政区范围" in text
    assert "经对线索文字所述位置（定位至准格尔旗，未确定具体地点）进行空间叠加分析" in text

    with zipfile.ZipFile(io.BytesIO(site.get(f"/api/v1/leads/{lead}/dossier").content)) as z:
        assert {"case_map.html", "case_map.png"} <= set(z.namelist())
        assert COUNTY_LABEL in z.read("case_map.html").decode("utf-8")


def test_a_loaded_township_layer_narrows_the_located_area(site: Site) -> None:
    county = _located(site.get(f"/leads/{site.leads['county']}/map").text, COUNTY_LABEL)
    r = site.get(f"/leads/{site.leads['township']}/map")
    assert r.status_code == 200, r.text
    town = _located(r.text, TOWNSHIP_LABEL)
    assert town.area < 0.5 * county.area
    assert county.buffer(0.01).contains(town)
    assert site.get(f"/api/v1/leads/{site.leads['township']}/map.png").status_code == 200


def test_a_village_point_has_no_area_and_every_route_says_why(site: Site) -> None:
    lead = site.leads["village"]
    reason = ("只定位到不连沟村（村（嘎查），代码 150622100201），"
              "当前启用的图层中没有该村（嘎查）的范围")
    page = site.get(f"/leads/{lead}").text
    assert 'id="case-map"' not in page and f"/api/v1/leads/{lead}/map.png" not in page
    assert reason in visible_text(page)
    r = site.get(f"/leads/{lead}/map")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert reason in visible_text(r.text)
    png = site.get(f"/api/v1/leads/{lead}/map.png")
    assert png.status_code == 404
    assert png.headers["content-type"].startswith("application/problem+json")
    assert png.json()["errors"][0]["field"] == "lead_id" and reason in png.json()["detail"]
    doc = Document(io.BytesIO(site.get(f"/api/v1/leads/{lead}/opinion.docx").content))
    assert len(doc.inline_shapes) == 0
    assert any(reason in p.text for p in doc.paragraphs)
