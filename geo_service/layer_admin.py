"""Layer management in the service: upload → draft, activate (DB + engine swap), roll back, diff,
feature queries for maps and OGC clients, and the re-screen impact of a candidate version."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from geo_service.auth import Principal
from geo_service.db.models import DecisionRow, LayerFeatureRow, LayerSeries, LayerVersion, Lead
from geo_service.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    LayerNotFound,
    PayloadTooLarge,
)
from geo_service.layer_store import (
    IMPORTING,
    abandoned_imports,
    audit,
    begin_import,
    discard_import,
    finish_import,
    get_or_create_series,
    importing_version,
    insert_features,
    mark_active,
    now,
    version_data,
)
from geo_service.schemas import text_problem
from geo_service.services import Services
from geo_service.settings import Settings
from layers import LAYER_KINDS
from layers.archive import ZipLimits
from layers.diff import diff_versions
from layers.display import display_copies
from layers.errors import LayerError, LayerLimitError
from layers.importer import ImportOptions, ProgressFn
from layers.sandbox import ImportCancelled, ImportLimits, SandboxedImport
from layers.validation import REGION_CODE
from screening.lifecycle import CLOSED_STATUSES
from screening.record import DecisionRecord
from screening.sensitive import protected_area_coverage

log = logging.getLogger("geo_service.layers")

# One activation at a time per process: DB commit and engine swap happen in the same order.
_ACTIVATION_LOCK = threading.Lock()


class VersionStateConflict(DomainError):
    status = 409
    title = "图层版本状态冲突"


@dataclass(frozen=True)
class UploadParams:
    kind: str
    name: str | None = None
    crs: str | None = None
    encoding: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    layer: str | None = None
    effective_from: date | None = None
    title: str | None = None


class UploadConflict(DomainError):
    status = 409
    title = "图层正在导入"


class ImportTooLarge(PayloadTooLarge):
    title = "图层文件超过导入上限"


class UploadCancelled(DomainError):
    """The client went away during the import; nobody reads this answer."""

    status = 400
    title = "上传已取消"


def layer_error(exc: LayerError, *private: Path) -> DomainError:
    """A geometry-layer error as the API's 4xx, naming the field; never a server path."""
    message = _scrub(exc.message, private)
    field = [FieldError(exc.field or "file", message)]
    if isinstance(exc, LayerLimitError) and exc.status == 413:
        return ImportTooLarge(message, field)
    return InvalidInput(message, field)


def _scrub(text: str, private: Sequence[Path]) -> str:
    for p in sorted({str(p) for p in private}, key=len, reverse=True):
        text = text.replace(p, "…")
    return text


def import_limits(settings: Settings) -> ImportLimits:
    return ImportLimits(
        cpu_seconds=settings.import_cpu_seconds,
        memory_mb=settings.import_memory_mb,
        disk_mb=settings.import_disk_mb,
        timeout_s=settings.import_timeout_s,
        zip=ZipLimits(
            max_bytes=settings.import_zip_max_mb << 20,
            max_members=settings.import_zip_max_members,
            max_ratio=settings.import_zip_max_ratio,
        ),
    )


def imports_root(settings: Settings) -> Path:
    return settings.import_tmp_dir or Path(tempfile.gettempdir()) / "geo-screen-imports"


@contextmanager
def import_workdir(settings: Settings) -> Iterator[Path]:
    """A private folder (0700) for one upload, removed on every exit. Folders left by a process
    that was killed are removed by the next upload once older than the import timeout."""
    root = imports_root(settings)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if _private(root):
        _sweep(root, settings.import_timeout_s + 300)
        path = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    else:  # someone else could rename our folder under us: use the system's temp instead
        log.error("import folder %s is not private to this user (symlink, owner or mode); "
                  "unpacking in the system temp folder instead", root)
        path = Path(tempfile.mkdtemp(prefix="geo-screen-upload-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _private(folder: Path) -> bool:
    """A real folder owned by this user that nobody else may write into."""
    st = folder.lstat()
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _sweep(root: Path, max_age_s: float) -> None:
    cutoff = time.time() - max_age_s
    for child in root.glob("upload-*"):
        try:
            if child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue


# --- upload ------------------------------------------------------------------------------


def upload_layer(
    services: Services,
    upload: Path,
    params: UploadParams,
    actor: str,
    *,
    filename: str | None = None,
    progress: ProgressFn | None = None,
    on_total: Callable[[int | None], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read, validate and store `upload` as a draft version. Returns its summary and report.

    The file is read in a sandboxed child process (`layers.sandbox`); features are stored as
    they arrive, in short transactions, under a version marked "importing" that becomes a draft
    only when everything is stored. A file that yields no usable feature is refused (422) and
    nothing is kept; so on any failure, timeout or `cancel()`. Another import running for the
    same series: 409.
    """
    _check_params(params)
    series_name = (params.name or params.kind).strip()
    if workdir is None:
        with import_workdir(services.settings) as tmp:
            return upload_layer(services, upload, params, actor, filename=filename,
                                progress=progress, on_total=on_total, cancel=cancel,
                                workdir=tmp)
    label = filename or upload.name
    private = (workdir, upload.parent)
    digest = _sha256(upload)
    with services.sessions() as s:
        _check_series_kind(s, series_name, params.kind)
        outline = _region_outline(s) if params.kind == "league" else None
    options = ImportOptions(
        kind=params.kind, crs=params.crs, encoding=params.encoding,
        code_field=params.code_field, name_field=params.name_field, layer=params.layer,
    )
    version_id: int | None = None
    try:
        with SandboxedImport(
            upload, workdir / "work", options, import_limits(services.settings), label=label,
            outline=shapely.to_wkb(outline) if outline is not None else None, cancel=cancel,
        ) as run:
            opened = run.opened()
            if on_total is not None:
                on_total(opened.total)
            version_id = _begin_import(services, series_name, params, actor, {
                "source_filename": label, "source_sha256": digest,
                "source_crs": opened.crs_label[:100], "conversion": opened.conversion,
                "effective_from": params.effective_from,
            })
            count = _store_batches(services, version_id, run.batches(progress))
            data = run.report()
        if count == 0:
            raise InvalidInput(
                "文件中没有可用的要素：" + _rejection_summary(data),
                [FieldError("file", "全部要素均被拒绝，见 rejected；"
                                    "若坐标超出范围，请检查坐标系（crs）。")],
            )
        with services.sessions() as s:
            version = get_version(s, version_id, ready=False)
            if params.kind == "nature_reserve":
                names = s.scalars(
                    select(LayerFeatureRow.name).where(LayerFeatureRow.version_id == version.id)
                ).all()
                coverage = protected_area_coverage(names, f"{series_name} {params.title or ''}")
                if coverage is not None:
                    data["warnings"].append(coverage.to_dict())
            finish_import(s, version, count, {"report": data, "series_title": params.title})
            audit(s, actor, "layer_version_validated", "layer_version", version.id, {
                "features_read": data["features_read"], "feature_count": data["feature_count"],
                "repaired": len(data["repaired"]), "rejected": len(data["rejected"]),
                "warnings": [w["code"] for w in data["warnings"]],
            })
            s.commit()
            return version_summary(version, current=True), data
    except LayerError as exc:
        _discard(services, version_id)
        raise layer_error(exc, *private) from exc
    except ImportCancelled as exc:
        _discard(services, version_id)
        raise UploadCancelled("客户端已断开，导入已取消，未保存任何数据。") from exc
    except BaseException:
        _discard(services, version_id)
        raise


def _check_params(params: UploadParams) -> None:
    if params.kind not in LAYER_KINDS:
        raise InvalidInput(
            f"未知的图层类别“{params.kind}”。",
            [FieldError("kind", f"可用类别：{'、'.join(LAYER_KINDS)}")],
        )
    for field in ("name", "title", "crs", "encoding", "code_field", "name_field", "layer"):
        value = getattr(params, field, None)
        if isinstance(value, str) and (problem := text_problem(value)):
            raise InvalidInput(f"参数 {field} 无效。", [FieldError(field, problem)])
    series_name = (params.name or params.kind).strip()
    if not series_name or len(series_name) > 100:
        raise InvalidInput("图层名称无效。", [FieldError("name", "名称应为 1–100 个字符。")])


def _check_series_kind(session: Session, series_name: str, kind: str) -> LayerSeries | None:
    existing = session.scalars(select(LayerSeries).where(LayerSeries.name == series_name)).first()
    if existing is not None and existing.kind != kind:
        raise InvalidInput(
            f"图层“{series_name}”已存在，类别为 {existing.kind}，不能上传 {kind} 版本。",
            [FieldError("kind", f"该图层的类别是 {existing.kind}；或用 name 另起新图层。")],
        )
    return existing


_BEGIN_ATTEMPTS = 5


def _begin_import(services: Services, series_name: str, params: UploadParams, actor: str,
                  provenance: dict[str, Any]) -> int:
    """Create the "importing" version in one short transaction. Two uploads to one series at
    once: the second gets 409 (a unique-key race is retried once the winner is visible)."""
    for attempt in range(_BEGIN_ATTEMPTS):
        try:
            with services.sessions() as s:
                _drop_abandoned(s, services.settings.import_timeout_s)
                existing = _check_series_kind(s, series_name, params.kind)
                if existing is not None and (busy := importing_version(s, existing.id)):
                    raise UploadConflict(
                        f"图层“{series_name}”正在导入另一个文件（第 {busy.version_no} 版，"
                        f"{busy.uploaded_by} 于 {busy.uploaded_at:%H:%M:%S} 开始），"
                        "请等它完成后再上传。",
                        [FieldError("name", "同一图层一次只能导入一个文件。")],
                    )
                series = existing or get_or_create_series(s, series_name, params.kind,
                                                          params.title)
                version = begin_import(s, series=series, uploaded_by=actor, **provenance)
                s.commit()
                return version.id
        except (IntegrityError, OperationalError) as exc:
            if isinstance(exc, OperationalError) and "locked" not in str(exc):
                raise
            log.info("upload to %s collided (attempt %d): %s", series_name, attempt + 1,
                     type(exc).__name__)
            time.sleep(0.05 * (attempt + 1))
    raise UploadConflict(
        f"图层“{series_name}”正被同时上传，请稍后再试。",
        [FieldError("name", "同一图层一次只能导入一个文件。")],
    )


def _drop_abandoned(session: Session, timeout_s: float) -> None:
    """Imports whose process died (kill -9 of the server) are deleted once past the timeout."""
    cutoff = now() - timedelta(seconds=timeout_s + 300)
    for version_id in abandoned_imports(session, cutoff):
        log.warning("deleting abandoned layer import (version %s)", version_id)
        discard_import(session, version_id)
        audit(session, "system:import", "layer_import_abandoned", "layer_version", version_id)


def _store_batches(services: Services, version_id: int, batches: Iterable[list[Any]]) -> int:
    """Append the features, `import_commit_rows` per transaction; returns how many."""
    step = services.settings.import_commit_rows
    count = 0
    for batch in batches:
        for start in range(0, len(batch), step):
            chunk = batch[start:start + step]
            with services.sessions() as s:
                insert_features(s, version_id, chunk)
                s.commit()
            count += len(chunk)
    return count


def _discard(services: Services, version_id: int | None) -> None:
    if version_id is None:
        return
    try:
        with services.sessions() as s:
            discard_import(s, version_id)
            s.commit()
    except Exception:  # the abandoned-import sweep deletes it later
        log.exception("could not delete unfinished layer import %s", version_id)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _rejection_summary(report: Mapping[str, Any]) -> str:
    reasons: dict[str, int] = {}
    for r in report["rejected"]:
        reasons[r["message"].split("：")[0]] = reasons.get(r["message"].split("：")[0], 0) + 1
    return "；".join(f"{k} {v} 个" for k, v in reasons.items()) or "文件为空"


def _region_outline(session: Session) -> BaseGeometry | None:
    """The region's outline: the active province layer's 150000, else the active leagues' union."""
    row = session.execute(
        select(LayerFeatureRow.geom)
        .join(LayerVersion, LayerVersion.id == LayerFeatureRow.version_id)
        .join(LayerSeries, LayerSeries.id == LayerVersion.series_id)
        .where(LayerSeries.kind == "province", LayerVersion.status == "active",
               LayerFeatureRow.code == REGION_CODE)
    ).first()
    if row is not None:
        return row[0]
    geoms = session.scalars(
        select(LayerFeatureRow.geom)
        .join(LayerVersion, LayerVersion.id == LayerFeatureRow.version_id)
        .join(LayerSeries, LayerSeries.id == LayerVersion.series_id)
        .where(LayerSeries.kind == "league", LayerVersion.status == "active")
    ).all()
    return shapely.union_all(list(geoms)) if geoms else None


# --- versions ----------------------------------------------------------------------------


def get_version(session: Session, version_id: int, *, ready: bool = True) -> LayerVersion:
    """The version `version_id`; unless `ready=False`, refused (409) while still importing."""
    version = session.get(LayerVersion, version_id)
    if version is None:
        raise LayerNotFound(f"图层版本 {version_id} 不存在。")
    if ready and version.status == IMPORTING:
        raise VersionStateConflict(
            f"图层版本 {version_id} 仍在导入中，导入完成后才能查看要素、比较或启用。"
        )
    return version


def activate_version(
    services: Services, version_id: int, actor: str, *, rollback: bool = False
) -> dict[str, Any]:
    """Make a version active: the DB commits first, then the engine swaps its snapshot.

    Serialized by a lock so two activations never interleave their DB and engine steps. A
    screen running meanwhile holds the old snapshot or the new one (OverlayEngine swaps whole
    snapshots), never a mix. `rollback` re-activates a retired (earlier) version.
    """
    with _ACTIVATION_LOCK, services.sessions() as s:
        version = get_version(s, version_id)
        if rollback and version.status != "retired":
            raise VersionStateConflict(
                f"只能回退到已停用（retired）的版本；版本 {version_id} 的状态为 {version.status}。"
            )
        if version.status == "active":
            return version_summary(version, current=True)
        data = version_data(s, version)
        previous = mark_active(s, version, actor)
        if rollback:
            audit(s, actor, "layer_version_rolled_back", "layer_version", version.id, {
                "series": version.series.name, "version_no": version.version_no,
                "from": previous.id if previous else None})
        s.commit()
        try:
            with services.swapping_layers():
                services.overlay.activate(data)
        except Exception:
            log.exception("engine swap failed after the database activated version %s", version_id)
            raise
        services.layers_swapped()
        result = version_summary(version, current=True)
        result["retired"] = previous.id if previous else None
        if version.effective_from and version.effective_from > date.today():
            result["warnings"] = [{
                "code": "before_effective_from",
                "message": f"该版本的生效日期为 {version.effective_from.isoformat()}，已提前启用。",
            }]
        return result


def version_summary(version: LayerVersion, *, current: bool = False) -> dict[str, Any]:
    report = (version.meta or {}).get("report") or {}
    return {
        "id": version.id,
        "series": version.series.name,
        "kind": version.series.kind,
        "version_no": version.version_no,
        "status": version.status,
        "feature_count": version.feature_count,
        "uploaded_by": version.uploaded_by,
        "uploaded_at": _iso(version.uploaded_at),
        "activated_at": _iso(version.activated_at),
        "retired_at": _iso(version.retired_at),
        "effective_from": version.effective_from.isoformat() if version.effective_from else None,
        "source_filename": version.source_filename,
        "source_sha256": version.source_sha256,
        "crs_used": report.get("crs_used", version.source_crs),
        "conversion": version.conversion,
        "bbox": report.get("bbox"),
        "repaired": report.get("repaired", []) if current else len(report.get("repaired", [])),
        "rejected": report.get("rejected", []) if current else len(report.get("rejected", [])),
        "warnings": report.get("warnings", []),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def list_layers(session: Session, engine_versions: Mapping[str, int]) -> dict[str, Any]:
    """Every series with its kind, active version and history (newest first)."""
    series_rows = session.scalars(select(LayerSeries).order_by(LayerSeries.kind, LayerSeries.name))
    out = []
    for series in series_rows:
        active = next((v for v in series.versions if v.status == "active"), None)
        out.append({
            "name": series.name,
            "kind": series.kind,
            "title": series.title,
            "builtin": series.builtin,
            "active_version": active.id if active else None,
            "active_version_no": active.version_no if active else None,
            "engine_version": engine_versions.get(series.name),
            "history": [version_summary(v) for v in reversed(series.versions)],
        })
    return {"kinds": list(LAYER_KINDS), "series": out}


def diff(session: Session, from_id: int, to_id: int, *, with_geometry: bool = False
         ) -> dict[str, Any]:
    old, new = get_version(session, from_id), get_version(session, to_id)
    if old.series_id != new.series_id:
        raise InvalidInput(
            "只能比较同一图层的两个版本。",
            [FieldError("to", f"版本 {from_id} 属于“{old.series.name}”，"
                              f"版本 {to_id} 属于“{new.series.name}”。")],
        )
    return diff_versions(version_data(session, old), version_data(session, new),
                         with_geometry=with_geometry)


# --- feature queries (maps, OGC API Features) ------------------------------------------


@dataclass(frozen=True)
class FeatureIndex:
    """Feature ids and bounding boxes of one (immutable) version: bbox queries and counts
    without touching the geometries."""

    ids: np.ndarray
    bounds: np.ndarray  # (n, 4)

    def select(self, bbox: Sequence[float] | None) -> np.ndarray:
        if bbox is None:
            return self.ids
        x0, y0, x1, y1 = bbox
        b = self.bounds
        hit = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        return self.ids[hit]


# Keyed by database, version id and the version's upload: a SQLite id reused after a discarded
# import, or the same id in another database, never serves another version's index.
_INDEX_CACHE: OrderedDict[tuple[Any, ...], FeatureIndex] = OrderedDict()
_INDEX_LOCK = threading.Lock()
_INDEX_CACHE_SIZE = 32


def feature_index(session: Session, version: LayerVersion) -> FeatureIndex:
    database = str(session.get_bind().engine.url)
    key = (database, version.id, version.uploaded_at, version.feature_count)
    with _INDEX_LOCK:
        cached = _INDEX_CACHE.get(key)
        if cached is not None:
            _INDEX_CACHE.move_to_end(key)
            return cached
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import func

        g = LayerFeatureRow.__table__.c.geom
        rows = session.execute(
            select(LayerFeatureRow.id, func.ST_XMin(g), func.ST_YMin(g), func.ST_XMax(g),
                   func.ST_YMax(g))
            .where(LayerFeatureRow.version_id == version.id).order_by(LayerFeatureRow.id)
        ).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        bounds = np.array([r[1:] for r in rows], dtype=float).reshape(-1, 4)
    else:
        rows = session.execute(
            select(LayerFeatureRow.id, LayerFeatureRow.geom)
            .where(LayerFeatureRow.version_id == version.id).order_by(LayerFeatureRow.id)
        ).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        bounds = shapely.bounds(np.array([r[1] for r in rows], dtype=object)).reshape(-1, 4)
    index = FeatureIndex(ids=ids, bounds=bounds)
    with _INDEX_LOCK:
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.popitem(last=False)
    return index


def parse_bbox(text: str | None, field: str = "bbox") -> tuple[float, float, float, float] | None:
    if text is None or text == "":
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 6:  # 3-D bbox: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(np.isfinite(parts)):
        raise InvalidInput("bbox 格式不正确。", [FieldError(
            field, "应为“最小经度,最小纬度,最大经度,最大纬度”四个数，例如 111,40,112,41。")])
    x0, y0, x1, y1 = parts
    if x0 > x1 or y0 > y1:
        raise InvalidInput("bbox 最小值大于最大值。", [FieldError(
            field, "顺序应为 最小经度,最小纬度,最大经度,最大纬度；经纬度是否颠倒？")])
    return x0, y0, x1, y1


def query_features(
    session: Session,
    version: LayerVersion,
    *,
    bbox: Sequence[float] | None = None,
    limit: int = 100,
    offset: int = 0,
    simplify: float | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of GeoJSON features (bbox filter on feature extents) and the number matched."""
    index = feature_index(session, version)
    matched = index.select(bbox)
    page_ids = [int(i) for i in matched[offset: offset + limit]]
    rows = session.scalars(
        select(LayerFeatureRow).where(LayerFeatureRow.id.in_(page_ids)).order_by(LayerFeatureRow.id)
    ).all() if page_ids else []
    geoms = [r.geom for r in rows]
    if simplify:
        geoms = _display(session, version, simplify, [r.id for r in rows])
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": shapely.geometry.mapping(g) if g is not None else None,
            "properties": {"code": r.code, "name": r.name, **(r.attributes or {})},
        }
        for r, g in zip(rows, geoms, strict=True)
    ]
    return features, len(matched)


_DISPLAY_CACHE: OrderedDict[tuple[int, float], dict[int, BaseGeometry]] = OrderedDict()


def _display(session: Session, version: LayerVersion, tolerance: float, ids: list[int]
             ) -> list[BaseGeometry]:
    """Coverage-simplified copies of a whole version (neighbours keep shared edges), cached."""
    key = (version.id, float(tolerance))
    with _INDEX_LOCK:
        cached = _DISPLAY_CACHE.get(key)
    if cached is None:
        rows = session.execute(
            select(LayerFeatureRow.id, LayerFeatureRow.geom)
            .where(LayerFeatureRow.version_id == version.id).order_by(LayerFeatureRow.id)
        ).all()
        copies = display_copies([r[1] for r in rows], tolerance)
        cached = {r[0]: g for r, g in zip(rows, copies, strict=True)}
        with _INDEX_LOCK:
            _DISPLAY_CACHE[key] = cached
            while len(_DISPLAY_CACHE) > 8:
                _DISPLAY_CACHE.popitem(last=False)
    return [cached[i] for i in ids]


# --- re-screen impact --------------------------------------------------------------------


def decision_key(decision: Mapping[str, Any] | DecisionRecord) -> dict[str, Any]:
    """The parts of a decision a layer change can move: jurisdiction, override, departments."""
    record = DecisionRecord.load(decision)
    return {
        "jurisdiction_status": record.jurisdiction.status,
        "jurisdiction_level": record.jurisdiction.level,
        "rights_holder": record.rights_holder_code,
        "minor_override": record.minor.override,
        "departments": record.department_codes,
    }


_CHANGE_ZH = {
    "jurisdiction_status": "管辖判定状态",
    "jurisdiction_level": "管辖层级",
    "rights_holder": "赔偿权利人",
    "minor_override": "显著轻微例外（第十五条第五款）",
    "departments": "责任部门",
}


def decision_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What differs between two decisions in the parts a layer change can move (empty: none)."""
    a, b = decision_key(before), decision_key(after)
    out = []
    for key in a:
        if a[key] != b[key]:
            change: dict[str, Any] = {"field": key, "label": _CHANGE_ZH[key],
                                      "before": a[key], "after": b[key]}
            if key == "minor_override":
                change["effect"] = "override_gained" if b[key] else "override_lost"
            out.append(change)
    return out


def _open_leads(session: Session) -> list[Lead]:
    return list(session.scalars(
        select(Lead).where(Lead.status.not_in(CLOSED_STATUSES)).order_by(Lead.id)
    ))


def _current_decision(lead: Lead) -> DecisionRow | None:
    return lead.decisions[-1] if lead.decisions else None


def _request_of(lead: Lead) -> Any:
    from geo_service.schemas import LeadCreate

    return LeadCreate.model_validate(lead.request)


def _screen_lead(services: Services, lead: Lead, engine: Any) -> dict[str, Any]:
    from geo_service import pipeline

    outcome = pipeline.screen(services, _request_of(lead), None, engine=engine,
                              exclude_lead_id=lead.id)
    return dict(outcome.decision)


ScreenFn = Callable[[Lead, Any], Mapping[str, Any]]


def _impacted(services: Services, leads: Sequence[Lead], engine: Any,
              screen: ScreenFn | None) -> list[dict[str, Any]]:
    """The leads among `leads` whose decision against `engine` differs from their current one."""
    run = screen or (lambda lead, eng: _screen_lead(services, lead, eng))
    impacted = []
    for lead in leads:
        current = _current_decision(lead)
        if current is None:
            continue
        try:
            after = dict(run(lead, engine))
        except (ValidationError, DomainError) as exc:
            # A lead stored before a stricter request schema, or one whose location no longer
            # parses: list it for a person to look at rather than failing the whole query.
            impacted.append({
                "lead_id": lead.id,
                "title": lead.title,
                "status": lead.status,
                "decision_id": current.id,
                "changes": [{"field": "not_rescreenable", "label": "无法重新筛查",
                             "before": None, "after": None}],
                "error": getattr(exc, "detail", None) or "存储的线索请求无法重新筛查，请人工核对。",
            })
            continue
        changes = decision_changes(current.result, after)
        if changes:
            impacted.append({
                "lead_id": lead.id,
                "title": lead.title,
                "status": lead.status,
                "decision_id": current.id,
                "changes": changes,
                "before": decision_key(current.result),
                "after": decision_key(after),
            })
    return impacted


def impact(services: Services, version_id: int, *, screen: ScreenFn | None = None
           ) -> dict[str, Any]:
    """Which open leads would get a different decision if `version_id` were active.

    Each open lead is screened against a preview engine (the current snapshot with this
    version swapped in; nothing is stored) and compared with its current decision.
    """
    with services.sessions() as s:
        version = get_version(s, version_id)
        engine = services.overlay.preview(version_data(s, version))
        leads = _open_leads(s)
        impacted = _impacted(services, leads, engine, screen)
        return {
            "version": version_summary(version),
            "open_leads_checked": len(leads),
            "impacted_count": len(impacted),
            "impacted": impacted,
        }


def rescreen_impacted(
    services: Services,
    version_id: int,
    principal: Principal,
    *,
    screen: ScreenFn | None = None,
    rescreen: Callable[[int], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """After activation: re-screen the open leads whose decision the active version changes
    (those decided on another version of this series); new decisions beside the old, each
    audited, and the batch audited."""
    with services.sessions() as s:
        version = get_version(s, version_id)
        if version.status != "active":
            raise VersionStateConflict(
                f"版本 {version_id} 尚未启用（状态 {version.status}）："
                "请先启用，再重新筛查受影响的线索。"
            )
        series = version.series.name
        stale = [
            lead for lead in _open_leads(s)
            if (d := _current_decision(lead)) is not None
            and (d.layer_versions or {}).get(series) not in (None, version.id)
        ]
        impacted = _impacted(services, stale, services.overlay, screen)
    run = rescreen or (lambda lead_id: _rescreen_lead(services, lead_id, principal))
    results = [{"lead_id": i["lead_id"], **run(i["lead_id"])} for i in impacted]
    with services.sessions() as s:
        audit(s, principal.actor, "layer_impact_rescreened", "layer_version", version_id, {
            "series": series, "checked": [lead.id for lead in stale],
            "rescreened": [r["lead_id"] for r in results],
        })
        s.commit()
    return {"version_id": version_id, "checked": len(stale), "rescreened": len(results),
            "results": results}


def _rescreen_lead(services: Services, lead_id: int, principal: Principal) -> dict[str, Any]:
    """Re-screen one lead the way `POST /leads/{id}/rescreen` does (new decision beside the old,
    audited there), and say what changed."""
    from geo_service.leads import rescreen_lead

    detail = rescreen_lead(services, lead_id, principal, trigger="layer_impact")
    decisions = detail.get("decisions") or []
    before = decisions[-2] if len(decisions) >= 2 else None
    after = decisions[-1] if decisions else None
    before_result = (before or {}).get("result") or {}
    after_result = (after or {}).get("result") or {}
    return {
        "old_decision_id": before.get("id") if before else None,
        "new_decision_id": after.get("id") if after else None,
        "changes": decision_changes(before_result, after_result),
        "before": decision_key(before_result),
        "after": decision_key(after_result),
    }
