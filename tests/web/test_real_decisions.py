"""Pages, maps and documents fed by REAL decisions (tests/real_cases.py): every lead was made by
POST /api/v1/leads on a fresh database of each backend, over the built-in boundaries and the
demo's synthetic sensitive layers. The assertions are on what the officer reads, in fixed
Chinese text — never on what the page code itself computes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from real_cases import RealCases, build_cases, case_bodies, python_repr_in, visible_text
from support import PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.app import create_app
from geo_service.services import Services

BACKENDS = ("sqlite", "postgis")
SUPERVISOR_LINE = "督办单位：自治区生态环境厅"  # 第三十五条第二款: 生态环境局's region counterpart
REPORTING_LINE = re.compile(r"每\s*30\s*个工作日向督办单位报告")  # 第三十八条第一款
# Every page of every case is read; maps and dossiers for one case of each kind.
DOCUMENT_CASES = ("unknown_kinds", "demo-7", "major_league", "major_region", "cross_province",
                  "coarse", "override_red_line", "override_repeat")


@pytest.fixture(scope="session")
def real_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Per backend, built on first use: a fresh database with the real cases in it."""
    built: dict[str, tuple[Services, RealCases]] = {}
    with ExitStack() as stack:

        def get(backend: str) -> tuple[Services, RealCases]:
            if backend not in built:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}"
                else:
                    url = stack.enter_context(throwaway_database(PG_ADMIN_URL, "geo_screen_real"))
                services = Services.open(make_settings(url))
                stack.callback(services.close)
                built[backend] = (services, build_cases(services))
            return built[backend]

        yield {"get": get}


@pytest.fixture(params=BACKENDS)
def real(
    request: pytest.FixtureRequest, real_services: dict
) -> Iterator[tuple[TestClient, RealCases]]:
    services, cases = real_services["get"](request.param)
    with TestClient(create_app(services=services)) as client:
        client.headers.update(cases.headers())
        yield client, cases


def _page(client: TestClient, path: str, status: int = 200) -> str:
    r = client.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    return r.text


def _text(client: TestClient, path: str) -> str:
    return visible_text(_page(client, path))


# --- No Python repr, anywhere an officer reads -------------------------------------------------


def test_no_page_map_or_document_shows_python_repr(real: tuple[TestClient, RealCases]) -> None:
    client, cases = real
    found: dict[str, list[str]] = {}

    def check(where: str, text: str) -> None:
        if hits := python_repr_in(text):
            found[where] = hits[:2]

    for name, lead_id in cases.ids.items():
        for suffix in ("", "/opinion"):
            page = _page(client, f"/leads/{lead_id}{suffix}")
            check(f"{name} /leads/{lead_id}{suffix} (text)", visible_text(page))
            check(f"{name} /leads/{lead_id}{suffix} (html)", page)
        if name not in DOCUMENT_CASES:
            continue  # maps and dossiers are slow to draw: one of each kind of case
        # A lead located only by a name is drawn as the unit it names (issue 12).
        map_page = _page(client, f"/leads/{lead_id}/map")
        check(f"{name} /leads/{lead_id}/map", map_page)
        r = client.get(f"/api/v1/leads/{lead_id}/dossier")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            for member in z.namelist():
                if member.endswith(".png"):  # the map figure: checked in tests/documents
                    continue
                check(f"{name} dossier {member}", z.read(member).decode("utf-8"))
    check("list page", _text(client, "/"))
    assert not found, "Python repr shown to officers:\n" + "\n".join(
        f"{where}: {hits}" for where, hits in found.items()
    )


# --- The supervisor and the 第三十八条 reporting line -----------------------------------------


@pytest.mark.parametrize("case", ["major_league", "demo-7"])
def test_league_major_case_names_its_supervisor(
    real: tuple[TestClient, RealCases], case: str
) -> None:
    client, cases = real
    for suffix in ("", "/opinion"):
        text = _text(client, f"/leads/{cases.ids[case]}{suffix}")
        assert "属于重大生态环境损害赔偿案件" in text
        assert SUPERVISOR_LINE in text, text[text.find("重大案件"):][:400]
        assert REPORTING_LINE.search(text)


def test_region_major_case_has_no_supervisor_and_no_reporting_line(
    real: tuple[TestClient, RealCases],
) -> None:
    """A case the region itself handles is nobody's 督办 case (第三十五条第二款), so the
    第三十八条 duty to report to the 督办单位 does not arise: no such line on the page."""
    client, cases = real
    lead = client.get(f"/api/v1/leads/{cases.ids['major_region']}").json()
    assert lead["decision"]["major_case"]["is_major"] is True
    assert lead["decision"]["jurisdiction"]["level"] == "region"
    for suffix in ("", "/opinion"):
        text = _text(client, f"/leads/{cases.ids['major_region']}{suffix}")
        assert "属于重大生态环境损害赔偿案件" in text
        assert "督办单位：" not in text
        assert not REPORTING_LINE.search(text), text[text.find("重大案件"):][:300]


# --- Deadlines ------------------------------------------------------------------------------


def test_provisional_deadline_reads_as_provisional(real: tuple[TestClient, RealCases]) -> None:
    """The 第三十八条 progress report of a case received days ago falls in 2027, a year
    chinese-calendar has no holiday schedule for: the page says it is provisional, by name."""
    client, cases = real
    page = _page(client, f"/leads/{cases.ids['major_league']}")
    table = re.search(r'<table class="grid" id="deadlines">(.*?)</table>', page, re.S)
    assert table, "the case page has no deadlines table"
    rows = [visible_text(row) for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)]
    progress = [r for r in rows if "重大案件进展报告" in r]
    assert progress, f"no 重大案件进展报告 row: {rows}"
    assert re.search(r"2027-\d\d-\d\d", progress[0]) and "暂定" in progress[0], progress[0]
    assert "major_progress_report" not in visible_text(page)


# --- Sensitive areas, location, override reasons --------------------------------------------


def test_unknown_sensitive_kinds_are_never_read_as_not_touching(
    real: tuple[TestClient, RealCases],
) -> None:
    client, cases = real
    text = _text(client, f"/leads/{cases.ids['unknown_kinds']}")
    assert "无法判断是否涉及敏感区域" in text
    assert "不能视为“未涉及”" in text
    assert "不涉及生态保护红线" not in text
    assert "损害区域未涉及生态保护红线" not in text
    # A minor amount whose red-line status is unknown may not be dropped yet.
    assert "属于显著轻微情形，但能否以此不启动索赔尚无法判断" in text


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("override_red_line", "位于生态保护红线内"),
        ("demo-1", "位于生态保护红线内"),
        ("override_nature_reserve", "位于自然保护地内"),
        ("override_repeat", "同一赔偿义务人二年内再次发生"),
        ("override_region_decision", "自治区人民政府或其指定部门决定启动"),
    ],
)
def test_override_by_each_reason_reads_in_the_regulations_terms(
    real: tuple[TestClient, RealCases], case: str, reason: str
) -> None:
    client, cases = real
    lead = client.get(f"/api/v1/leads/{cases.ids[case]}").json()
    assert lead["minor_override"] is True
    for suffix in ("", "/opinion"):
        text = _text(client, f"/leads/{cases.ids[case]}{suffix}")
        assert f"虽属显著轻微情形，但应当启动索赔：{reason}" in text
        assert f"例外情形：{reason}" in text
    row = _list_row(client, cases.ids[case])
    assert "是" in row  # the list's 应当启动 column


def test_coarse_location_names_the_county_and_maps_it_as_the_located_area(
    real: tuple[TestClient, RealCases],
) -> None:
    client, cases = real
    lead_id = cases.ids["coarse"]
    page = _page(client, f"/leads/{lead_id}")
    text = visible_text(page)
    assert "赔偿权利人：阿拉善盟行政公署（盟市级）" in text
    assert "线索只定位到阿拉善左旗" in text
    assert f'<iframe id="case-map" src="/leads/{lead_id}/map?embed=1"' in page
    shown = _page(client, f"/leads/{lead_id}/map")
    legend = visible_text(shown[shown.index('id="gs-legend"'):].split("</ul>")[0])
    assert "行政区名称定位范围（阿拉善左旗）" in legend
    assert "损害结果发生地" not in legend
    assert "阿拉善盟" in _list_row(client, lead_id)


@pytest.mark.parametrize(
    ("case", "holder", "facts"),
    [
        ("league", "赔偿权利人：呼和浩特市人民政府（盟市级）", ["理由：损害结果发生地在一个盟市"]),
        ("cross_league", "赔偿权利人：内蒙古自治区人民政府（自治区级）",
         ["理由：自治区内跨盟市", "呼和浩特市", "包头市"]),
        ("cross_province", "赔偿权利人：内蒙古自治区人民政府（自治区级）",
         ["理由：跨省（区、市）", "涉及其他省（区、市）：陕西省"]),
    ],
)
def test_jurisdiction_reads_as_decided(
    real: tuple[TestClient, RealCases], case: str, holder: str, facts: list[str]
) -> None:
    client, cases = real
    for suffix in ("", "/opinion"):
        text = _text(client, f"/leads/{cases.ids[case]}{suffix}")
        assert holder in text
        for fact in facts:
            assert fact in text, fact


@pytest.mark.parametrize("case", ["cross_league", "cross_province", "major_region"])
def test_region_cases_never_show_a_bare_code_for_their_league(
    real: tuple[TestClient, RealCases], case: str
) -> None:
    """A case the region handles shows no 6-digit code where the league's name belongs."""
    client, cases = real
    lead_id = cases.ids[case]
    assert not re.search(r"\b150000\b", _list_row(client, lead_id))
    summary = _text(client, f"/leads/{lead_id}").split("筛查结论")[0]
    assert not re.search(r"\b150000\b", summary), summary


# --- The list page and the dossier ---------------------------------------------------------


def _list_row(client: TestClient, lead_id: int) -> str:
    page = _page(client, "/")
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        if f'href="/leads/{lead_id}"' in row:
            return visible_text(row)
    raise AssertionError(f"lead {lead_id} is not on the list page")


def test_list_page_shows_every_real_case(real: tuple[TestClient, RealCases]) -> None:
    client, cases = real
    major = _list_row(client, cases.ids["major_league"])
    assert "呼和浩特市较大突发环境事件排污" in major and "重大" in major and "呼和浩特市" in major
    assert "重大" not in _list_row(client, cases.ids["league"]).replace("较大", "")
    for lead_id in cases.ids.values():
        assert _list_row(client, lead_id)


@pytest.mark.parametrize("case", ["major_league", "cross_province", "override_red_line"])
def test_dossier_carries_the_decision_and_the_map(
    real: tuple[TestClient, RealCases], case: str
) -> None:
    client, cases = real
    lead_id = cases.ids[case]
    api = client.get(f"/api/v1/leads/{lead_id}").json()
    r = client.get(f"/api/v1/leads/{lead_id}/dossier")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert "case_map.html" in names
        assert "leaflet" in z.read("case_map.html").decode().lower()
        assert json.loads(z.read("lead.json"))["decision"] == api["decision"]
        readme = z.read("README.txt").decode()
    assert "case_map.html" in readme and api["title"] in readme


def test_the_case_table_is_real(real: tuple[TestClient, RealCases]) -> None:
    """The fixtures are what they claim: each case's decision has the property it stands for."""
    client, cases = real

    def decision(name: str) -> dict:
        return client.get(f"/api/v1/leads/{cases.ids[name]}").json()["decision"]

    assert decision("unknown_kinds")["sensitive_areas"]["status"]["red_line"] is None
    assert decision("cross_league")["jurisdiction"]["reason"] == "cross_league"
    assert decision("cross_province")["jurisdiction"]["reason"] == "cross_province"
    assert decision("major_league")["major_case"]["supervisor"]
    assert any(d["provisional"] for d in decision("major_league")["deadlines"])
    for case, reason in [("override_red_line", "red_line"),
                         ("override_nature_reserve", "nature_reserve"),
                         ("override_repeat", "repeat_within_2_years"),
                         ("override_region_decision", "region_decision")]:
        assert decision(case)["minor"]["override_reasons"] == [reason]


# --- The case map's decision panel ------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "lines"),
    [
        ("major_league", ["赔偿权利人", "呼和浩特市人民政府", "重大案件", "期限：初步核查",
                          "期限：重大案件进展报告"]),
        ("unknown_kinds", ["无法判断", "生态保护红线", "是否存在应当启动索赔的情形尚无法判断"]),
        ("override_red_line", ["应当启动索赔", "位于生态保护红线内"]),
        ("cross_province", ["内蒙古自治区人民政府", "陕西省"]),
    ],
)
def test_case_map_panel_reads_the_real_decision(
    real: tuple[TestClient, RealCases], case: str, lines: list[str]
) -> None:
    client, cases = real
    page = _page(client, f"/leads/{cases.ids[case]}/map")
    panel = re.search(r'<details[^>]*id="gs-summary".*?</details>', page, re.S)
    assert panel, "the map has no decision panel"
    text = visible_text(panel.group(0))
    for line in lines:
        assert line in text, (line, text[:600])
    assert not re.search(r"\b[a-z]+(?:_[a-z]+)+\b", text), text  # no rulebook identifiers


# --- /screen's explanation of a fresh /api/v1/screen answer --------------------------------


@pytest.mark.parametrize("case", ["major_league", "major_region", "override_repeat", "coarse"])
def test_explain_fragment_of_a_real_screen_answer(
    real: tuple[TestClient, RealCases], case: str
) -> None:
    """What /screen does in the browser: POST /api/v1/screen, then post the answer, as is, to
    /web/explain."""
    client, _ = real
    body = {k: v for k, v in case_bodies()[case].items() if k != "title"}
    answer = client.post("/api/v1/screen", json=body)
    assert answer.status_code == 200, answer.text[:300]
    r = client.post("/web/explain", json=answer.json())
    assert r.status_code == 200, r.text[:300]
    text = visible_text(r.text)
    assert python_repr_in(r.text) == []
    assert python_repr_in(text) == []
    assert "一、管辖与赔偿权利人" in text
    if case == "major_league":
        assert SUPERVISOR_LINE in text
        assert REPORTING_LINE.search(text)
    if case == "major_region":
        assert "督办单位：" not in text
        assert not REPORTING_LINE.search(text)
    if case == "override_repeat":
        assert "虽属显著轻微情形，但应当启动索赔：同一赔偿义务人二年内再次发生" in text
    if case == "coarse":
        assert "线索只定位到阿拉善左旗" in text
