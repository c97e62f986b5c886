"""Sessions, tokens and CSRF, each written as the attack that worked before (issue 9 holes 2, 7,
11, 14, 15), on both backends: forged and replayed cookies, revoked and expired tokens, login
brute force, cross-origin writes, `Host` spoofing, cached case data."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import POINT_HULUNBUIR, new_obligor_id, unique_ref
from fastapi.testclient import TestClient
from itsdangerous import Signer, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlalchemy import event, func, select, update

from geo_service.app import create_app
from geo_service.auth import SESSION_COOKIE, create_token, hash_token
from geo_service.credentials import find_tokens, revoke_token
from geo_service.db.models import (
    ApiToken,
    AuditEntry,
    HistoricalCase,
    LayerVersion,
    WebSession,
)
from geo_service.layer_store import now
from geo_service.services import Services
from geo_service.settings import InsecureConfiguration, Settings

ORIGIN = "http://testserver"  # the page's own origin under TestClient (make_settings' public URL)
EVIL = "http://127.0.0.1:9999"  # another port of the same host: the attack page of issue 9
OLD_DEFAULT_KEY = "change-me-" + "in-production"  # what the service used to start with
META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')


@contextmanager
def app_client(services: Services, **settings: Any) -> Iterator[TestClient]:
    """A fresh app (its own credential cache and throttle) over the backend's database."""
    s = services.settings.model_copy(update=settings)
    with TestClient(create_app(s, services=services)) as c:
        yield c


def login(c: TestClient, token: str) -> str:
    """Log in as a browser does; returns the page's CSRF token."""
    r = c.post("/login", data={"token": token, "next": "/"}, headers={"Origin": ORIGIN},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    match = META.search(c.get("/layers").text)
    assert match, "every page carries the session's CSRF token"
    return match.group(1)


def fresh_token(services: Services, role: str, **kw: Any) -> str:
    with services.sessions() as s:
        return create_token(s, role, f"attack-{role}-{unique_ref()}", actor="test", **kw)


def audit_since(services: Services, first_id: int, action: str) -> list[AuditEntry]:
    with services.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(
            AuditEntry.id > first_id, AuditEntry.action == action).order_by(AuditEntry.id)))


def last_audit_id(services: Services) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.max(AuditEntry.id))) or 0)


# --- Hole 2: the secret key -------------------------------------------------------------


def test_the_old_default_and_short_keys_are_refused_at_start() -> None:
    for weak in (OLD_DEFAULT_KEY, "x" * 40, "short-but-random-9f3a"):
        with pytest.raises(ValidationError, match="GEO_SCREEN_SECRET_KEY"):
            Settings(_env_file=None, secret_key=weak)  # type: ignore[call-arg]
    # No key at all: only a loopback listener may start (with a random key of its own).
    public = Settings(_env_file=None, host="0.0.0.0")  # type: ignore[call-arg]
    with pytest.raises(InsecureConfiguration, match="GEO_SCREEN_SECRET_KEY"):
        create_app(public)
    loopback = Settings(_env_file=None, host="127.0.0.1")  # type: ignore[call-arg]
    assert create_app(loopback).state.auth.secret != create_app(loopback).state.auth.secret
    strong = Settings(_env_file=None, host="0.0.0.0", secret_key="k" * 20 + "0123456789abcdef")  # type: ignore[call-arg]
    assert create_app(strong).state.auth.secret == strong.secret_key


def test_the_old_default_key_is_gone_from_the_code() -> None:
    package = Path(__file__).resolve().parents[2] / "geo_service"
    for path in package.rglob("*"):
        if path.suffix in (".py", ".html", ".js"):
            assert OLD_DEFAULT_KEY not in path.read_text(encoding="utf-8"), path


def test_a_cookie_forged_with_the_old_default_key_is_refused(
    services: Services, tokens: dict[str, str]
) -> None:
    """Before: the cookie was the token's hash signed with the default key; an analyst who read
    the admin's hash signed themselves an admin session."""
    admin_hash = hash_token(tokens["admin"])
    forged = [
        URLSafeTimedSerializer(OLD_DEFAULT_KEY, salt="geo-screen-session").dumps(admin_hash),
        Signer(OLD_DEFAULT_KEY, salt="geo-screen-session").sign(admin_hash).decode(),
        admin_hash,
    ]
    with app_client(services) as c:
        for cookie in forged:
            c.cookies.set(SESSION_COOKIE, cookie)
            assert c.get("/", follow_redirects=False).status_code == 303
            assert c.get("/api/v1/leads").status_code == 401
            r = c.post("/api/v1/history/import", content=b"x", headers={
                "Origin": ORIGIN, "Content-Type": "text/csv"})
            assert r.status_code in (401, 403)
            c.cookies.clear()


def test_the_database_holds_no_usable_session_secret(
    services: Services, tokens: dict[str, str]
) -> None:
    """A copy of the database (hole 1) gives session hashes, never a cookie that works."""
    with app_client(services) as c:
        login(c, tokens["viewer"])
        cookie = c.cookies[SESSION_COOKIE]
    with services.sessions() as s:
        stored = s.scalars(select(WebSession.session_hash).order_by(WebSession.id.desc())).first()
    assert stored and stored not in cookie
    with app_client(services) as other:
        other.cookies.set(SESSION_COOKIE, stored)
        assert other.get("/api/v1/leads").status_code == 401


# --- Hole 2: server-side sessions ---------------------------------------------------------


def test_logout_ends_the_session_and_a_replayed_cookie_is_refused(
    services: Services, tokens: dict[str, str]
) -> None:
    first = last_audit_id(services)
    with app_client(services) as c:
        csrf = login(c, tokens["screener"])
        stolen = c.cookies[SESSION_COOKIE]
        assert c.get("/api/v1/leads").status_code == 200
        assert c.post("/logout", data={"csrf_token": csrf}, headers={"Origin": ORIGIN},
                      follow_redirects=False).status_code == 303
    with app_client(services) as replay:  # the copied cookie, in another browser
        replay.cookies.set(SESSION_COOKIE, stolen)
        assert replay.get("/", follow_redirects=False).headers["location"].startswith("/login")
        assert replay.get("/api/v1/leads").status_code == 401
    with services.sessions() as s:
        row = s.scalars(select(WebSession).where(
            WebSession.session_hash == hash_token(stolen.rsplit(".", 1)[0]))).one()
        assert row.end_reason == "logout" and row.ended_at is not None
    assert [e.actor for e in audit_since(services, first, "browser_login")] == [
        "screener:test-screener"]
    assert len(audit_since(services, first, "browser_logout")) == 1


def test_a_cross_site_logout_without_the_token_ends_nothing(
    services: Services, tokens: dict[str, str]
) -> None:
    with app_client(services) as c:
        login(c, tokens["viewer"])
        assert c.post("/logout", headers={"Origin": EVIL}).status_code == 403
        assert c.post("/logout", headers={"Origin": ORIGIN}).status_code == 403  # no token
        assert c.get("/api/v1/leads").status_code == 200


def test_sessions_expire_when_idle_and_absolutely(
    services: Services, tokens: dict[str, str]
) -> None:
    for column in ("last_seen_at", "expires_at"):
        with app_client(services) as c:
            login(c, tokens["viewer"])
            cookie = c.cookies[SESSION_COOKIE]
        session_hash = hash_token(cookie.rsplit(".", 1)[0])
        with services.sessions() as s:  # 13 hours pass (the attack's 13-hour-old cookie)
            s.execute(update(WebSession).where(WebSession.session_hash == session_hash)
                      .values({column: now() - timedelta(hours=13)}))
            s.commit()
        with app_client(services) as later:
            later.cookies.set(SESSION_COOKIE, cookie)
            assert later.get("/api/v1/leads").status_code == 401, column


def test_sessions_over_for_a_month_are_cleared_at_the_next_login(
    services: Services, tokens: dict[str, str]
) -> None:
    with app_client(services) as c:
        login(c, tokens["viewer"])
        old = hash_token(c.cookies[SESSION_COOKIE].rsplit(".", 1)[0])
    with services.sessions() as s:
        s.execute(update(WebSession).where(WebSession.session_hash == old)
                  .values(expires_at=now() - timedelta(days=31)))
        s.commit()
    with app_client(services) as c:
        login(c, tokens["viewer"])
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.session_hash == old)) == 0


def test_revoking_a_token_ends_its_sessions_and_every_worker_refuses_it(
    services: Services,
) -> None:
    token = fresh_token(services, "analyst")
    bearer = {"Authorization": f"Bearer {token}"}
    with app_client(services, layer_sync_interval_s=0.2) as worker_a, \
            app_client(services, layer_sync_interval_s=0.2) as worker_b:
        login(worker_a, token)
        assert worker_a.get("/api/v1/leads").status_code == 200  # session, now cached
        assert worker_b.get("/api/v1/leads", headers=bearer).status_code == 200  # cached
        with services.sessions() as s:  # `geo-screen tokens revoke`, from another process
            (row,) = find_tokens(s, str(s.scalar(select(ApiToken.id).where(
                ApiToken.token_hash == hash_token(token)))))
            assert revoke_token(s, row, actor="test") == 1
        time.sleep(0.3)  # the layer-sync interval
        assert worker_b.get("/api/v1/leads", headers=bearer).status_code == 401
        assert worker_a.get("/api/v1/leads").status_code == 401
        assert worker_a.get("/", follow_redirects=False).status_code == 303
        r = worker_a.post("/login", data={"token": token}, headers={"Origin": ORIGIN})
        assert r.status_code == 401


def test_with_layer_sync_off_a_revocation_counts_at_once(services: Services) -> None:
    token = fresh_token(services, "viewer")
    bearer = {"Authorization": f"Bearer {token}"}
    with app_client(services, layer_sync_interval_s=0) as c:
        assert c.get("/api/v1/leads", headers=bearer).status_code == 200
        with services.sessions() as s:
            (row,) = s.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
            revoke_token(s, row, actor="test")
        assert c.get("/api/v1/leads", headers=bearer).status_code == 401


def test_an_expired_token_is_refused(services: Services) -> None:
    token = fresh_token(services, "viewer", expires_in_days=1)
    bearer = {"Authorization": f"Bearer {token}"}
    with app_client(services) as c:
        assert c.get("/api/v1/leads", headers=bearer).status_code == 200
    with services.sessions() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                  .values(expires_at=now() - timedelta(minutes=1)))
        s.commit()
    with app_client(services) as c:
        assert c.get("/api/v1/leads", headers=bearer).status_code == 401
        assert c.post("/login", data={"token": token},
                      headers={"Origin": ORIGIN}).status_code == 401


def test_bearer_lookups_are_cached(services: Services) -> None:
    token = fresh_token(services, "viewer")
    bearer = {"Authorization": f"Bearer {token}"}
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    with app_client(services, layer_sync_interval_s=3600) as c:
        assert c.get("/api/v1/layers", headers=bearer).status_code == 200
        event.listen(services.engine, "before_cursor_execute", record)
        try:
            for _ in range(20):
                assert c.get("/api/v1/layers", headers=bearer).status_code == 200
        finally:
            event.remove(services.engine, "before_cursor_execute", record)
    assert seen, "the layer list itself reads the database"
    assert not [q for q in seen if "api_token" in q or "web_session" in q]


# --- Hole 15: login throttling ------------------------------------------------------------


def test_two_hundred_wrong_logins_are_throttled_and_audited(
    services: Services, tokens: dict[str, str]
) -> None:
    first = last_audit_id(services)
    guesses = [f"gs_guess{i:04d}-not-a-token" for i in range(200)]
    with app_client(services) as c:
        codes = [c.post("/login", data={"token": g}, headers={"Origin": ORIGIN}).status_code
                 for g in guesses]
        throttled = c.post("/login", data={"token": tokens["viewer"]},
                           headers={"Origin": ORIGIN}, follow_redirects=False)
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 60
    failed = audit_since(services, first, "login_failed")
    assert len(failed) == 5
    assert failed[0].detail["token_sha256_prefix"] == hash_token(guesses[0])[:8]
    assert len(audit_since(services, first, "login_throttled")) == 1  # a flood, audited once
    with services.sessions() as s:
        stored = json.dumps([e.detail for e in s.scalars(
            select(AuditEntry).where(AuditEntry.id > first))], ensure_ascii=False)
    assert not any(g in stored for g in guesses)


# --- Hole 7: CSRF ---------------------------------------------------------------------------


def _draft_layer(c: TestClient, analyst: str) -> int:
    square = {"type": "Polygon", "coordinates": [[[111.0, 40.5], [111.01, 40.5],
                                                  [111.01, 40.51], [111.0, 40.51],
                                                  [111.0, 40.5]]]}
    body = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square, "properties": {"code": "C1", "name": "测试"}}]})
    r = c.post("/api/v1/layers", headers={"Authorization": f"Bearer {analyst}"},
               files={"file": ("csrf.geojson", body.encode())},
               data={"kind": "red_line", "name": f"csrf_{unique_ref()[:8]}"})
    assert r.status_code == 201, r.text
    return int(r.json()["version"]["id"] if "version" in r.json() else r.json()["id"])


def _layer_upload(origin: str | None, csrf: str | None) -> dict[str, Any]:
    body = b'{"type": "FeatureCollection", "features": []}'
    headers = {k: v for k, v in (("Origin", origin), ("X-CSRF-Token", csrf)) if v}
    return {"files": {"file": ("x.geojson", body)},
            "data": {"kind": "red_line", "name": f"csrf_up_{unique_ref()[:8]}"},
            "headers": headers}


def test_cross_origin_writes_with_the_admins_cookie_all_fail(
    services: Services, tokens: dict[str, str]
) -> None:
    with app_client(services) as c:
        draft = _draft_layer(c, tokens["analyst"])
        csrf = login(c, tokens["admin"])
        history = f"obligor_id,damage_date,case_ref,note\n{new_obligor_id()},2025-03-01,,x\n"
        plain = {"Content-Type": "text/plain"}
        csv = {"Content-Type": "text/csv"}
        attacks = [
            # activate a draft layer from a page on another port
            (403, f"/api/v1/layers/versions/{draft}/activate", {"headers": {"Origin": EVIL}}),
            (403, f"/api/v1/layers/versions/{draft}/activate",
             {"headers": {"Origin": EVIL, "X-CSRF-Token": csrf}}),  # even with a leaked token
            (403, f"/api/v1/layers/versions/{draft}/activate",
             {"headers": {"Sec-Fetch-Site": "same-site"}}),
            (403, f"/api/v1/layers/versions/{draft}/activate", {"headers": {"Origin": ORIGIN}}),
            # upload a layer
            (403, "/api/v1/layers", _layer_upload(EVIL, None)),
            (403, "/api/v1/layers", _layer_upload(None, None)),
            # an earlier-damage record (forces the 第十五条第五款 override): as text/plain, the
            # body a page elsewhere may send unasked, it is refused whatever its origin …
            (415, "/api/v1/history/import",
             {"content": history.encode(), "headers": {"Origin": EVIL, **plain}}),
            (415, "/api/v1/history/import",
             {"content": history.encode(), "headers": {"Origin": ORIGIN, **plain}}),
            (415, "/api/v1/history/import",
             {"content": history.encode(), "headers": {"Origin": "null", **plain}}),
            # … and as CSV it needs this origin and the session's token
            (403, "/api/v1/history/import",
             {"content": history.encode(), "headers": {"Origin": EVIL, **csv}}),
            (403, "/api/v1/history/import",
             {"content": history.encode(), "headers": {"Origin": ORIGIN, **csv}}),
        ]
        for status, url, kw in attacks:
            r = c.post(url, **kw)
            assert r.status_code == status, (url, kw.get("headers"), r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        with services.sessions() as s:
            assert s.get(LayerVersion, draft).status == "draft"
            assert s.scalar(select(func.count()).select_from(HistoricalCase).where(
                HistoricalCase.note == "x")) == 0

        # The same actions from the page itself succeed.
        page = {"Origin": ORIGIN, "X-CSRF-Token": csrf}
        assert c.post(f"/api/v1/layers/versions/{draft}/activate", headers=page).status_code == 200
        r = c.post("/api/v1/history/import", content=history.encode(),
                   headers={**page, "Content-Type": "text/csv"})
        assert r.status_code == 200 and r.json()["imported"] == 1, r.text


def test_json_routes_refuse_text_plain_and_form_bodies(
    services: Services, tokens: dict[str, str]
) -> None:
    lead = {"location": {"geometry": POINT_HULUNBUIR}, "received_on": "2026-09-05",
            "case_type": "pollution_discharge", "source_channel": "petition_media"}
    bearer = {"Authorization": f"Bearer {tokens['screener']}"}
    with app_client(services) as c:
        for content_type in ("text/plain", "application/x-www-form-urlencoded",
                             "multipart/form-data; boundary=x", "text/csv", None):
            headers = {**bearer, **({"Content-Type": content_type} if content_type else {})}
            for url in ("/api/v1/screen", "/api/v1/leads"):
                r = c.post(url, content=json.dumps(lead).encode(), headers=headers)
                assert r.status_code == 415, (url, content_type, r.text)
                assert r.json()["errors"][0]["field"] == "Content-Type"
        r = c.post("/api/v1/screen", json=lead, headers=bearer)
        assert r.status_code == 200, r.text


# --- Hole 14: absolute links never from Host -----------------------------------------------


def test_a_spoofed_host_reaches_no_link(services: Services, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['screener']}"}
    public = services.settings.public_base_url  # GEO_SCREEN_PUBLIC_URL (make_settings sets it)
    assert public == ORIGIN
    with app_client(services) as c:
        r = c.post("/api/v1/leads", headers=headers, json={
            "location": {"geometry": {"type": "Polygon", "coordinates": [[
                [119.70, 49.20], [119.72, 49.20], [119.72, 49.22], [119.70, 49.20]]]}},
            "title": "Host 头测试", "external_ref": unique_ref(), "source_system": "test"})
        assert r.status_code == 201, r.text
        spoof = {**headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        dossier = c.get(f"/api/v1/leads/{r.json()['id']}/dossier", headers=spoof)
        assert dossier.status_code == 200
        case_map = zipfile.ZipFile(io.BytesIO(dossier.content)).read("case_map.html").decode()
        assert "evil.example" not in case_map
        assert f'src="{public}/static/' in case_map
        for path in ("/ogc/", "/ogc/collections", "/ogc/collections/league/items?limit=1"):
            body = c.get(path, headers=spoof).text
            assert "evil.example" not in body and f"{public}/ogc" in body


# --- Hole 15: nothing kept in caches ---------------------------------------------------------


def test_case_data_is_never_stored_in_caches(
    services: Services, tokens: dict[str, str]
) -> None:
    bearer = {"Authorization": f"Bearer {tokens['viewer']}"}
    with app_client(services) as c:
        for path in ("/api/v1/leads", "/", "/layers", "/ogc/collections", "/api/v1/layers"):
            r = c.get(path, headers=bearer)
            assert r.status_code == 200, path
            assert r.headers["cache-control"] == "no-store", path
        assert c.get("/api/v1/leads/999999999", headers=bearer).headers[
            "cache-control"] == "no-store"
        assert "no-store" not in c.get("/static/common.js").headers.get("cache-control", "")


def test_a_login_posted_from_another_site_is_refused(
    services: Services, tokens: dict[str, str]
) -> None:
    """Login CSRF: a page elsewhere must not log the officer's browser into its own account."""
    with app_client(services) as c:
        r = c.post("/login", data={"token": tokens["viewer"]}, headers={"Origin": EVIL},
                   follow_redirects=False)
        assert r.status_code == 403 and SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_the_case_map_nonce_is_never_given_to_an_injected_script() -> None:
    from shapely.geometry import box

    from maps import render_case_map
    from maps.case_map import add_script_nonce

    html = render_case_map(damage=box(117.4, 49.55, 117.45, 49.58), act=None, decision={},
                           context_features=[], title="</script><script>window.__xss=1</script>")
    marked = add_script_nonce(html, "n0nce")
    assert marked.count('<script nonce="n0nce">') == 2 and "<script>" not in marked
    injected = html.replace("</body>", "<script>window.__xss=1</script></body>")
    assert "nonce=" not in add_script_nonce(injected, "n")


def test_swagger_try_it_out_with_the_session_sends_the_csrf_token(
    services: Services, tokens: dict[str, str]
) -> None:
    with app_client(services) as c:
        csrf = login(c, tokens["screener"])
        html = c.get("/docs").text
        assert f'req.headers["X-CSRF-Token"] = "{csrf}"' in html
        assert "localStorage" not in html
