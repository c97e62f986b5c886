"""Request body caps, enforced while the body streams in, before authentication or parsing.

A pure ASGI middleware: a declared `Content-Length` over the cap is answered 413 at once, without
reading a byte; a chunked body is counted as it arrives and refused the moment it passes the cap.
Nothing the application would have answered (401, 400, …) goes out instead: the 413 wins, so a
caller without a token learns nothing more than the limit, and the server never buffers more than
the cap.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from geo_service.errors import PROBLEM_JSON

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _BodyTooLarge(Exception):
    """Raised from `receive` once the body passes the cap; the middleware answers 413."""


def body_cap(headers: dict[bytes, bytes], *, max_json: int, max_upload: int) -> tuple[int, str]:
    """The cap that applies to a request and the setting that sets it."""
    content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if content_type == b"multipart/form-data":
        return max_upload, "GEO_SCREEN_MAX_UPLOAD_BYTES"
    return max_json, "GEO_SCREEN_MAX_JSON_BYTES"


def too_large_body(cap: int, setting: str) -> bytes:
    what = "上传文件" if setting.endswith("UPLOAD_BYTES") else "请求体"
    return json.dumps(
        {
            "type": "about:blank",
            "title": "请求体过大",
            "status": 413,
            "detail": f"{what}超过上限 {cap:,} 字节（设置项 {setting}），服务未读取其余内容。"
            "请拆分后分批提交，或请管理员调整该设置。",
            "errors": [{"field": "body", "message": f"请求体不得超过 {cap:,} 字节（{setting}）。"}],
            "limit": cap,
            "setting": setting,
        },
        ensure_ascii=False,
    ).encode("utf-8")


class BodySizeLimit:
    """ASGI middleware: 413 problem+json for bodies over the JSON or the upload cap."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json = max_json_bytes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cap, setting = body_cap(headers, max_json=self.max_json, max_upload=self.max_upload)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > cap:
                await _answer_413(send, cap, setting)
                return

        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the application made of the cut body, the 413 goes out
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if over and not started:
            await _answer_413(send, cap, setting)


async def _answer_413(send: Send, cap: int, setting: str) -> None:
    body = too_large_body(cap, setting)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
