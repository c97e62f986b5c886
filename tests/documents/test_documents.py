"""The documents an office files: the map figure (PNG) and the Word opinion (docx), from the
demo's own cases on both backends; the dossier carries the same PNG."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from demo_cases import CROSS_LEAGUE, RED_LINE_POINT, Demo
from docx import Document
from PIL import Image

from geo_service.db.models import Lead
from geo_service.documents import DOC_NUMBER, DOC_TITLE
from geo_service.leads import current_record
from geo_service.web.explain import explain
from maps.case_map import LOCATED_STYLE
from maps.figure import DPI, HEIGHT_IN, WIDTH_IN
from maps.labels import REGION_DISPLAY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COARSE_LEAD = 4  # 只知道旗县: located by an administrative name only, drawn as that county


def _image(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_MAGIC)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _assert_a_real_figure(png: bytes) -> None:
    pixels = _image(png)
    assert pixels.shape == (round(HEIGHT_IN * DPI), round(WIDTH_IN * DPI), 3)
    flat = pixels.reshape(-1, 3)
    colours = np.unique(flat // 16, axis=0)  # coarse bins: anti-aliasing aside
    assert len(colours) > 20, "a blank or single-colour image"
    not_white = (flat < 240).any(axis=1).mean()
    assert not_white > 0.2, f"only {not_white:.0%} of the figure is drawn"
    reds = ((flat[:, 0] > 150) & (flat[:, 1] < 120) & (flat[:, 2] < 120)).sum()
    assert reds > 100  # the damage marker and the red line's edge are drawn


def test_map_png_is_a_real_figure(demo: Demo) -> None:
    r = demo.get(f"/api/v1/leads/{RED_LINE_POINT}/map.png")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    _assert_a_real_figure(r.content)


def test_map_png_of_a_lead_located_by_name_draws_the_county(demo: Demo) -> None:
    """No damage geometry: the figure is the county the name resolved to (the located area;
    tests/web/test_located_area.py has the lead with nothing to draw)."""
    r = demo.get(f"/api/v1/leads/{COARSE_LEAD}/map.png")
    assert r.status_code == 200, r.text
    pixels = _image(r.content).reshape(-1, 3).astype(int)
    colour = np.array([int(str(LOCATED_STYLE["color"])[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(pixels - colour).max(axis=1) <= 24).sum() > 5000
    missing = demo.get("/api/v1/leads/999999/map.png")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_opinion_docx_holds_every_finding_with_its_article_and_the_figure(demo: Demo) -> None:
    for lead_id in (RED_LINE_POINT, CROSS_LEAGUE):
        r = demo.get(f"/api/v1/leads/{lead_id}/opinion.docx")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        doc = Document(io.BytesIO(r.content))
        text = "\n".join(p.text for p in doc.paragraphs)
        assert DOC_TITLE in text and DOC_NUMBER in text
        assert "经对损害结果发生地进行空间叠加分析" in text  # a lead drawn as a damage area
        with demo.services.sessions() as session:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            sections = explain(current_record(lead))
        assert len(sections) >= 5
        for s in sections:
            assert s.title in text and s.conclusion in text
            assert "依据：" + "、".join(s.citations) in text
            for c in s.citations:
                assert c in text
            for fact in s.facts:
                assert fact in text
        facts = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
        assert facts["线索名称"] == lead.title
        if lead_id == CROSS_LEAGUE:
            assert facts["所在盟市"] == REGION_DISPLAY
        assert "150000" not in facts.values()
        assert "经办人（签字）" in text and "负责人（签字）" in text
        (shape,) = doc.inline_shapes
        blob = doc.part.related_parts[
            shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        _assert_a_real_figure(blob)


def test_opinion_docx_of_a_lead_located_by_name_says_what_its_figure_shows(demo: Demo) -> None:
    r = demo.get(f"/api/v1/leads/{COARSE_LEAD}/opinion.docx")
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.content))
    assert len(doc.inline_shapes) == 1
    assert any("图中“行政区名称定位范围（阿拉善左旗）”是线索定位到的行政区范围" in p.text
               for p in doc.paragraphs)


def test_dossier_carries_the_png_beside_the_html_map(demo: Demo) -> None:
    r = demo.get(f"/api/v1/leads/{RED_LINE_POINT}/dossier")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        assert {"case_map.html", "case_map.png"} <= names
        _assert_a_real_figure(z.read("case_map.png"))
        assert "case_map.png" in z.read("README.txt").decode("utf-8")


def test_printed_opinion_shows_the_figure(demo: Demo) -> None:
    r = demo.get(f"/leads/{RED_LINE_POINT}/opinion")
    assert r.status_code == 200
    assert f'src="/api/v1/leads/{RED_LINE_POINT}/map.png"' in r.text
    assert f'href="/api/v1/leads/{RED_LINE_POINT}/opinion.docx"' in r.text
