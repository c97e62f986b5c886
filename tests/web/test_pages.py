"""Pages through the app (no browser): login, roles, list filters, the case page article by
article, the case map budget with the built-in layers, escaping, and no external hosts."""

from __future__ import annotations

import html as html_lib
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from web_helpers import XSS, Tokens, insert_lead, sample_decision

from geo_service.auth import SESSION_COOKIE, hash_token
from geo_service.web.pages import STATIC_DIR
from maps.case_map import embedded_geojson

URL = re.compile(r"https?://([A-Za-z0-9.\-]+)[^\s\"'<>)]*")
# Strings in the vendored code that look like URLs but are never fetched: the SVG namespace,
# Leaflet's attribution link (its prefix, which every map here switches off), and a sentence in
# Leaflet.draw's "your Leaflet is too old" error.
NOT_FETCHED = {
    "http://www.w3.org/2000/svg",
    "https://leafletjs.com",
    "https://github.com/Leaflet/Leaflet/",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- Login -------------------------------------------------------------------------------


def test_pages_redirect_to_login_without_credentials(client: TestClient) -> None:
    r = client.get("/leads/1?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/leads/1%3Fx%3D1"


def test_login_with_a_token_sets_a_signed_http_only_cookie(
    web_services, tokens: Tokens
) -> None:
    from geo_service.app import create_app

    with TestClient(create_app(services=web_services)) as c:
        page = c.get("/login?next=/layers")
        assert page.status_code == 200 and "访问令牌" in page.text
        r = c.post("/login", data={"token": tokens.viewer, "next": "/layers"},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/layers"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert tokens.viewer not in cookie and hash_token(tokens.viewer) not in cookie
        # A random session id (signed), neither the token nor its hash: no bearer token.
        value = cookie.split(";")[0].split("=", 1)[1]
        assert c.get("/api/v1/leads", headers=bearer(value)).status_code == 401
        assert c.get("/layers").status_code == 200
        home = c.get("/")
        assert "查看员乙" in home.text
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', home.text)
        assert csrf, "the logout form carries the session's CSRF token"
        out = c.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert c.get("/", follow_redirects=False).status_code == 303


def test_wrong_token_is_refused_in_chinese(client: TestClient) -> None:
    r = client.post("/login", data={"token": "gs_not-a-token", "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 401
    assert "令牌无效" in r.text
    assert "set-cookie" not in r.headers


def test_a_tampered_cookie_is_not_a_session(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "forged.value.sig")
    try:
        assert client.get("/", follow_redirects=False).status_code == 303
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(client: TestClient, tokens: Tokens, target: str) -> None:
    r = client.post("/login", data={"token": tokens.viewer, "next": target},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_pages_accept_the_bearer_header(client: TestClient, tokens: Tokens, seeded) -> None:
    r = client.get(f"/leads/{seeded['later']}", headers=bearer(tokens.viewer),
                   follow_redirects=False)
    assert r.status_code == 200 and "远期线索" in r.text


def test_forms_follow_the_role(client: TestClient, tokens: Tokens, seeded) -> None:
    lead = seeded["later"]
    as_viewer = client.get(f"/leads/{lead}", headers=bearer(tokens.viewer)).text
    as_screener = client.get(f"/leads/{lead}", headers=bearer(tokens.screener)).text
    assert 'id="filing-form"' not in as_viewer and 'id="filing-form"' in as_screener
    assert 'id="upload-form"' not in client.get("/layers", headers=bearer(tokens.screener)).text
    assert 'id="upload-form"' in client.get("/layers", headers=bearer(tokens.analyst)).text


# --- Case list ---------------------------------------------------------------------------


def _listed_ids(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'href="/leads/(\d+)"', html)}


def test_case_list_filters_and_counts(client: TestClient, tokens: Tokens, seeded) -> None:
    h = bearer(tokens.viewer)
    everything = client.get("/", headers=h).text
    assert set(seeded.values()) <= _listed_ids(everything)
    assert _listed_ids(client.get("/?league=150200", headers=h).text) == {seeded["overdue"]}
    assert seeded["overdue"] in _listed_ids(client.get("/?major=1", headers=h).text)
    assert seeded["overdue"] not in _listed_ids(client.get("/?major=0", headers=h).text)
    assert seeded["xss"] in _listed_ids(client.get("/?override=1", headers=h).text)
    assert seeded["later"] not in _listed_ids(client.get("/?override=1", headers=h).text)
    soon = (date.today() + timedelta(days=10)).isoformat()
    in_ten_days = _listed_ids(client.get(f"/?due_before={soon}", headers=h).text)
    assert {seeded["xss"], seeded["overdue"]} <= in_ten_days and seeded["later"] not in in_ten_days
    one = client.get("/?league=152500", headers=h).text
    assert re.search(r"共 <strong>1</strong> 条", one)


def test_due_dates_are_coloured_by_urgency(client: TestClient, tokens: Tokens, seeded) -> None:
    html = client.get("/", headers=bearer(tokens.viewer)).text
    row = {k: re.search(rf'href="/leads/{v}".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
           for k, v in seeded.items()}
    assert 'class="due overdue"' in row["overdue"] and "逾期2天" in row["overdue"]
    assert 'class="due urgent"' in row["xss"]
    assert 'class="due normal"' in row["later"]


def test_bad_filter_value_names_the_field(client: TestClient, tokens: Tokens) -> None:
    r = client.get("/?due_before=next-week", headers=bearer(tokens.viewer))
    assert r.status_code == 422
    assert "due_before" in r.text


# --- Case page ---------------------------------------------------------------------------


def test_case_page_explains_every_section_with_its_article(
    client: TestClient, tokens: Tokens, seeded
) -> None:
    html = client.get(f"/leads/{seeded['overdue']}", headers=bearer(tokens.viewer)).text
    keys = re.findall(r'data-section="(\w+)"', html)
    assert keys[:7] == ["jurisdiction", "sensitive_areas", "minor", "departments",
                        "major_case", "simplified_assessment", "deadlines"]
    for key in ("jurisdiction", "sensitive_areas", "minor", "departments", "major_case",
                "simplified_assessment"):
        block = re.search(rf'data-section="{key}">(.*?)</section>', html, re.S)
        assert block, key
        assert re.search(r'class="article">第.+?条', block.group(1)), key
    # Each conclusion with the facts that triggered it.
    assert "呼伦贝尔市人民政府" in html and "第五条第二款" in html
    assert "呼伦湖生态保护红线" in html and "40.0%" in html  # the red line and its share
    assert "达赉湖自然保护区" in html and "830 米" in html
    assert "应当启动索赔" in html and "第十五条第五款第（一）项" in html
    assert "属于重大生态环境损害赔偿案件" in html and "第三十五条" in html
    assert "督办单位：自治区生态环境厅" in html  # the supervisor, by name (issue 15)
    assert "{'code'" not in html and "[{" not in html  # never a Python repr on a page
    # No 督办 reporting in this decision (no `reporting`): no 第三十八条 reporting line either.
    assert "工作日向督办单位报告" not in html
    assert "距盟市边界 30 米" in html  # the warning, shown with its section
    assert "2026-10-08" in html and "2026-10-05" in html  # deadline and where it rolled from
    assert 'id="history"' in html and 'id="filing-form"' not in html  # viewer: no form


def test_case_page_escapes_the_lead_text(client: TestClient, tokens: Tokens, seeded) -> None:
    html = client.get(f"/leads/{seeded['xss']}", headers=bearer(tokens.viewer)).text
    assert XSS not in html
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;window.__xss=1" in html


@pytest.mark.parametrize("path", ["/", "/map", "/opinion"])
@pytest.mark.parametrize("lead_id", ["0", "2147483648", "99999999999999999999"])
def test_ids_beyond_the_database_are_404_pages(
    client: TestClient, tokens: Tokens, lead_id: str, path: str
) -> None:
    r = client.get(f"/leads/{lead_id}{path}".rstrip("/"), headers=bearer(tokens.viewer))
    assert r.status_code == 404 and "不存在" in r.text


@pytest.mark.parametrize("query", ["league=%00", "league=15010x", "status=%00", "q=%00", "q=a%01b"])
def test_filters_with_junk_are_4xx_naming_the_field(
    client: TestClient, tokens: Tokens, query: str
) -> None:
    r = client.get(f"/?{query}", headers=bearer(tokens.viewer))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize(
    "body",
    [
        {"jurisdiction": 5},
        {"warnings": [5]},
        {"deadlines": 7},
        {"sensitive_areas": {"red_line": [1]}},
        {"minor": "yes", "departments": [None]},
    ],
)
def test_explain_refuses_what_is_not_a_decision(
    client: TestClient, tokens: Tokens, body: dict
) -> None:
    r = client.post("/web/explain", headers=bearer(tokens.screener), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body"


def test_missing_case_is_a_chinese_404_page(client: TestClient, tokens: Tokens) -> None:
    r = client.get("/leads/999999", headers=bearer(tokens.viewer))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "案件线索 999999 不存在" in r.text


def test_printable_opinion(client: TestClient, tokens: Tokens, seeded) -> None:
    html = client.get(f"/leads/{seeded['overdue']}/opinion", headers=bearer(tokens.viewer)).text
    assert "筛查意见" in html and "初步核查意见" in html
    assert '<link rel="stylesheet" href="/static/print.css">' in html
    assert "第五条第二款" in html and "负责人（签字）" in html
    css = (STATIC_DIR / "print.css").read_text(encoding="utf-8")
    assert "@media print" in css and "@page" in css


# --- The case map with the built-in layers ------------------------------------------------


def test_case_map_with_builtin_layers_stays_under_300_kb(
    client: TestClient, tokens: Tokens, web_services, seeded
) -> None:
    big = insert_lead(web_services, title="跨盟市大范围", damage=box(109.0, 40.0, 121.0, 47.5),
                      decision=sample_decision())
    for lead in (seeded["xss"], big):
        r = client.get(f"/leads/{lead}/map", headers=bearer(tokens.viewer))
        assert r.status_code == 200
        assert len(r.content) < 300_000
        policy = r.headers["content-security-policy"]
        nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_\-]{20,})';", policy)
        assert nonce and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        # Every inline script carries this response's nonce; the payload in the title none.
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", r.text)
        assert inline and all(f'nonce="{nonce.group(1)}"' in attrs for attrs in inline)
        labels = {f["properties"]["label"] for p in embedded_geojson(r.text)
                  for f in p["features"]}
        assert "呼伦贝尔市" in labels  # the affected league, from the built-in layer
        assert any("满洲里" in label for label in labels)  # the affected county


def test_embedded_map_folds_its_summary(client: TestClient, tokens: Tokens, seeded) -> None:
    h = bearer(tokens.viewer)
    assert 'id="gs-summary" open>' in client.get(f"/leads/{seeded['later']}/map", headers=h).text
    assert 'id="gs-summary">' in client.get(f"/leads/{seeded['later']}/map?embed=1",
                                             headers=h).text


# --- /screen, /layers, fragments ------------------------------------------------------------


def test_screen_page_offers_every_input_frame(client: TestClient, tokens: Tokens) -> None:
    html = client.get("/screen", headers=bearer(tokens.screener)).text
    for crs in ("EPSG:4490", "EPSG:4326", "GCJ02", "BD09", "EPSG:4524", "EPSG:4545"):
        assert f'value="{crs}"' in html
    assert "/static/vendor/leaflet-draw-1.0.4/leaflet.draw.js" in html
    assert 'id="save-form"' in html
    viewer = client.get("/screen", headers=bearer(tokens.viewer)).text
    assert 'id="save-form"' not in viewer


def test_explain_fragment_renders_a_screen_response(client: TestClient, tokens: Tokens) -> None:
    r = client.post("/web/explain", headers=bearer(tokens.screener),
                    json=sample_decision(warnings=[{"code": "x", "message": XSS}]))
    assert r.status_code == 200
    assert "呼伦贝尔市人民政府" in r.text and "第十五条第五款第（一）项" in r.text
    assert XSS not in r.text and "&lt;img src=x" in r.text


def test_layers_page_lists_builtin_series(client: TestClient, tokens: Tokens) -> None:
    html = client.get("/layers", headers=bearer(tokens.viewer)).text
    for kind in ("盟市", "旗县（市、区）", "省级行政区", "国家"):
        assert kind in html
    assert "启用中" in html


def test_boundaries_for_orientation_are_small(client: TestClient, tokens: Tokens) -> None:
    r = client.get("/web/boundaries.json", headers=bearer(tokens.viewer))
    gj = r.json()
    assert len(gj["features"]) == 12
    assert len(r.content) < 200_000


# --- No external host ------------------------------------------------------------------------


def _strip_comments(text: str, suffix: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    if suffix == ".js":
        text = re.sub(r"(?m)^\s*//.*$", "", text)
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def _external_hosts(text: str) -> set[str]:
    return {m.group(1) for m in URL.finditer(text) if m.group(0) not in NOT_FETCHED
            and m.group(1) not in ("127.0.0.1", "localhost", "testserver")}


def test_no_page_or_map_references_an_external_host(
    client: TestClient, tokens: Tokens, seeded
) -> None:
    h = bearer(tokens.admin)
    lead = seeded["xss"]
    for path in ("/", f"/leads/{lead}", f"/leads/{lead}/map", f"/leads/{lead}/opinion",
                 "/screen", "/layers", "/login"):
        r = client.get(path, headers=h)
        assert r.status_code == 200, path
        assert _external_hosts(r.text) == set(), path
        # Every script and stylesheet the page loads is served here.
        for ref in re.findall(r'(?:src|href)="([^"]+)"', r.text):
            if ref.endswith((".js", ".css")):
                assert ref.startswith("/static/"), (path, ref)
                assert client.get(ref).status_code == 200, ref


def test_served_static_files_reference_no_external_host() -> None:
    files = [p for p in Path(STATIC_DIR).rglob("*") if p.suffix in (".js", ".css", ".html")]
    assert any(p.name == "leaflet.js" for p in files)
    for p in files:
        hosts = _external_hosts(_strip_comments(p.read_text(encoding="utf-8"), p.suffix))
        assert hosts == set(), p


def test_vendored_libraries_keep_their_licences() -> None:
    for folder in ("leaflet-1.9.4", "leaflet-draw-1.0.4"):
        assert (STATIC_DIR / "vendor" / folder / "LICENSE").read_text(encoding="utf-8").strip()


def test_page_data_reaches_scripts_as_json_not_code(client: TestClient, tokens: Tokens) -> None:
    html = client.get("/screen", headers=bearer(tokens.screener)).text
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert data and json.loads(data.group(1))["frame"] == "CGCS2000"
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert inline == []  # no inline script on pages: the CSP allows 'self' only


def test_case_page_for_a_lead_created_through_the_api(
    client: TestClient, tokens: Tokens
) -> None:
    body = {
        "location": {"geometry": {"type": "Polygon", "coordinates": [[
            [117.40, 49.55], [117.45, 49.55], [117.45, 49.58], [117.40, 49.55]]]}},
        "title": "接口登记的线索", "description": "经接口登记", "damage_amount_yuan": 2000,
        "received_on": "2026-11-20", "case_type": "pollution_discharge",
    }
    created = client.post("/api/v1/leads", headers=bearer(tokens.screener), json=body)
    assert created.status_code in (200, 201), created.text
    lead = created.json()
    html = client.get(f"/leads/{lead['id']}", headers=bearer(tokens.viewer)).text
    # The officer reads the sections in the order of the regulation, under these titles.
    titles = re.findall(r'data-section="(\w+)">\s*<h3>(.*?)</h3>', html, re.S)
    assert titles == [
        ("jurisdiction", "一、管辖与赔偿权利人"),
        ("sensitive_areas", "二、敏感区域（第十二条第一款第（五）项线索）"),
        ("intake", "三、线索筛查与登记"),
        ("minor", "四、显著轻微情形及其例外"),
        ("departments", "五、责任部门"),
        ("major_case", "六、重大案件"),
        ("simplified_assessment", "七、简化评估"),
        ("deadlines", "八、办理期限"),
    ]
    decision = lead["decision"]
    for key, _ in titles:
        block = re.search(rf'data-section="{key}">(.*?)</section>', html, re.S)
        assert block, key
        assert re.search(r'class="article">第.+?条', block.group(1)), key
    # The rulebook's own words (from the API's decision, not from the page code), on the page.
    for key in ("jurisdiction", "minor", "departments", "major_case"):
        words = html_lib.escape(decision[key]["explanation"], quote=True).replace("&#x27;", "&#39;")
        assert words in html, key
    assert "赔偿权利人：呼伦贝尔市人民政府（盟市级）" in html
    assert "涉及旗县（市、区）：满洲里市（100.0%）" in html
    assert "无法判断是否涉及敏感区域（图层未启用或位置不具体），不能视为“未涉及”" in html
    assert "呼伦贝尔市人民政府" in html
    m = client.get(f"/leads/{lead['id']}/map", headers=bearer(tokens.viewer))
    assert m.status_code == 200 and len(m.content) < 300_000
    labels = {f["properties"]["label"] for p in embedded_geojson(m.text) for f in p["features"]}
    assert {"呼伦贝尔市", "满洲里市"} <= labels


def test_gcj02_intranet_tiles_put_vectors_in_their_frame(
    web_services, tokens: Tokens, seeded
) -> None:
    import dataclasses

    from geo_service.app import create_app

    settings = web_services.settings.model_copy(update={
        "basemap": "http://tiles.intranet/{z}/{x}/{y}.png", "basemap_frame": "GCJ02"})
    gcj = dataclasses.replace(web_services, settings=settings)
    h = bearer(tokens.viewer)
    with TestClient(create_app(services=gcj)) as c, TestClient(
        create_app(services=web_services)
    ) as plain:
        page = c.get("/screen", headers=h)
        assert "img-src 'self' data: http://tiles.intranet" in page.headers[
            "content-security-policy"]
        assert '"frame": "GCJ02"' in page.text and "GCJ-02" in page.text
        shifted = c.get("/web/boundaries.json", headers=h).json()["features"][0]
        true = plain.get("/web/boundaries.json", headers=h).json()["features"][0]
        assert shifted["properties"]["code"] == true["properties"]["code"]
        a = shapely.get_coordinates(shape(shifted["geometry"]))[0]
        b = shapely.get_coordinates(shape(true["geometry"]))[0]
        assert 0.001 < abs(a[0] - b[0]) < 0.02  # hundreds of metres: the GCJ-02 offset
        m = c.get(f"/leads/{seeded['later']}/map", headers=h).text
        assert "tiles.intranet" in m and "已转换为 GCJ-02 显示" in m


def test_case_list_pages_and_counts_every_filtered_lead(services) -> None:
    """Beyond one page: the bands count all matching leads, and the pager walks them all."""
    import uuid

    from geo_service.app import create_app
    from geo_service.auth import create_token

    tag = f"分页{uuid.uuid4().hex[:8]}"
    today = date.today()
    overdue = [
        insert_lead(services, title=f"{tag}-逾期{i}", due=today - timedelta(days=1))
        for i in range(30)
    ]
    undated = [insert_lead(services, title=f"{tag}-无期限{i}") for i in range(100)]
    with services.sessions() as s:
        token = create_token(s, "viewer", "分页测试")
    with TestClient(create_app(services=services)) as c:
        first = c.get("/", params={"q": tag}, headers=bearer(token)).text
        assert re.search(r"共 <strong>130</strong> 条（第 1 / 2 页，本页 100 条）", first)
        assert "已逾期 30" in first and "其他 100" in first
        assert set(overdue) <= _listed_ids(first)  # dated first
        nxt = re.search(r'href="([^"]+)" rel="next"', first).group(1)  # type: ignore[union-attr]
        assert "q=" in nxt and "page=2" in nxt
        second = c.get(nxt.replace("&amp;", "&"), headers=bearer(token)).text
        assert "已逾期 30" in second  # the bands still count every matching lead
        seen = _listed_ids(first) | _listed_ids(second)
        assert seen >= set(overdue) | set(undated)
        assert not (_listed_ids(first) & _listed_ids(second))
        assert 'rel="next"' not in second and 'rel="prev"' in second
