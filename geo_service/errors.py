"""One error tree, one status map, one problem+json handler (RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("geo_service")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # dotted path into the request, e.g. "location.geometry.coordinates"
    message: str  # what is wrong and what to do, in the reader's terms


class DomainError(Exception):
    """Base of errors a caller can act on. `status` picks the HTTP status."""

    status = 400
    title = "请求有误"

    def __init__(
        self,
        detail: str,
        errors: Sequence[FieldError] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.extra = dict(extra or {})  # extension members of the problem (RFC 9457 §3.2)


class InvalidInput(DomainError):
    status = 422
    title = "输入无效"


class InvalidGeometry(InvalidInput):
    title = "几何图形无效"


class UnknownCRS(InvalidInput):
    title = "无法识别的坐标参考系"


class NotFound(DomainError):
    status = 404
    title = "未找到"


class LayerNotFound(NotFound):
    title = "图层不存在"


class RuleConflict(DomainError):
    """The request contradicts the regulation (e.g. not filing a case the law says to file)."""

    status = 409
    title = "与规定冲突"


class Unauthorized(DomainError):
    status = 401
    title = "未认证"


class Forbidden(DomainError):
    status = 403
    title = "无权限"


class PayloadTooLarge(DomainError):
    """The declared cost of a request is over a configured limit (refused before any work)."""

    status = 413
    title = "请求超出处理上限"


class ServiceUnavailable(DomainError):
    """The service cannot do this right now (the database is unreachable, busy or refusing)."""

    status = 503
    title = "服务暂时不可用"


# SQLSTATE classes meaning "the database can't serve this now", not "the request is wrong":
# 08 connection exception, 3D000 database missing, 42501 insufficient privilege (rights revoked),
# 53 insufficient resources, 55P03 lock not available, 57 operator intervention (incl. 57014
# statement timeout, 57P01 terminated), 28 invalid authorization (role disabled).
_UNAVAILABLE_SQLSTATES = ("08", "3D000", "42501", "53", "55P03", "57", "28")
# SQLite's OperationalError also covers mistakes in SQL; only these mean "busy or unreachable".
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open",
    "disk i/o error",
    "readonly database",
    "database or disk is full",
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database is unreachable, busy or refusing."""
    if isinstance(exc, sa_exc.TimeoutError):  # no free pooled connection in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if type(exc.orig).__module__ == "sqlite3":
        message = str(exc.orig).lower()
        return isinstance(exc, sa_exc.OperationalError) and any(
            m in message for m in _SQLITE_UNAVAILABLE
        )
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True  # PostgreSQL: connection refused/lost, timeouts, database gone
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return any(sqlstate.startswith(code) for code in _UNAVAILABLE_SQLSTATES)


def problem(
    status: int,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
        **extra,
    }
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_dict(exc: DomainError) -> dict[str, Any]:
    """A problem object (RFC 9457) for one slot of a batch answer or a CLI output row."""
    return {
        "type": "about:blank",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
    }


_HTTP_TITLES = {
    400: "请求有误",
    401: "未认证",
    403: "无权限",
    404: "未找到",
    405: "不支持的请求方法",
    409: "冲突",
    413: "请求体过大",
    415: "不支持的媒体类型",
    422: "输入无效",
}


def _loc_to_field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.errors, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(_loc_to_field(e.get("loc", ())), str(e.get("msg", ""))) for e in exc.errors()
        ]
        return problem(422, "输入无效", "请求中有字段不符合要求，见 errors。", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _HTTP_TITLES.get(exc.status_code, "请求失败")
        detail = exc.detail if isinstance(exc.detail, str) else title
        errors: list[FieldError] = []
        if exc.status_code == 400:
            # The framework could not read the body at all (bad JSON, a multipart body
            # without boundary, ...): the body is the field to fix.
            errors = [FieldError("body", f"请求体无法解析：{detail}")]
            detail = "请求体无法解析，见 errors。"
        return problem(exc.status_code, title, detail, errors)

    def _retry_after(request: Request) -> dict[str, str]:
        settings = getattr(request.app.state, "settings", None)
        return {"Retry-After": str(getattr(settings, "retry_after_s", 5))}

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.errors, _retry_after(request))

    @app.exception_handler(sa_exc.SQLAlchemyError)
    async def _database(request: Request, exc: sa_exc.SQLAlchemyError) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
        return problem(
            503,
            "数据库暂时不可用",
            "数据库暂时无法访问或正忙，本次操作未保存。请按 Retry-After 所示秒数后重试；"
            "持续出现请联系管理员检查数据库。",
            headers=_retry_after(request),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(
            500, "服务器内部错误", "服务器处理请求时出错，已记录日志。请稍后重试或联系管理员。"
        )
