"""Layer versions in the database, and the bridge to the in-memory overlay engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from geo_service.db.models import LayerFeatureRow, LayerSeries, LayerVersion
from layers.model import LayerFeature, LayerVersionData

SYSTEM_ACTOR = "system:builtin"


def now() -> datetime:
    return datetime.now(UTC)


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append to the audit log (R9), hash-chained (geo_service.audit_chain). The caller commits
    with the change it records; the entry is written in that same commit.

    Sessions of the service's sessionmaker chain their entries at commit (the chain lock held
    only for the insert); any other session chains the entry now, holding the lock until its
    commit.
    """
    from geo_service.audit_chain import AT_COMMIT_KEY, PENDING_KEY, append_entries, stored_detail

    entry = {
        "at": now(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "detail": stored_detail(detail),
    }
    if session.info.get(AT_COMMIT_KEY):
        session.connection()  # begin the transaction, so its rollback discards the entry
        session.info.setdefault(PENDING_KEY, []).append(entry)
    else:
        append_entries(session, [entry])


def get_or_create_series(
    session: Session, name: str, kind: str, title: str | None = None, builtin: bool = False
) -> LayerSeries:
    series = session.scalars(select(LayerSeries).where(LayerSeries.name == name)).one_or_none()
    if series is None:
        series = LayerSeries(name=name, kind=kind, title=title, builtin=builtin)
        session.add(series)
        session.flush()
    return series


def store_version(
    session: Session,
    *,
    series: LayerSeries,
    features: Iterable[LayerFeature],
    uploaded_by: str,
    **provenance: Any,
) -> LayerVersion:
    """Store a new draft version of `series` with its features (bulk insert).

    `provenance`: source_filename, source_sha256, source_crs, conversion, effective_from, meta.
    """
    return store_version_batches(
        session, series=series, batches=[list(features)], uploaded_by=uploaded_by, **provenance
    )


def store_version_batches(
    session: Session,
    *,
    series: LayerSeries,
    batches: Iterable[Sequence[LayerFeature]],
    uploaded_by: str,
    source_filename: str | None = None,
    source_sha256: str | None = None,
    source_crs: str | None = None,
    conversion: str | None = None,
    effective_from: date | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LayerVersion:
    """A new draft version whose features arrive batch by batch and are written as they come
    (PostgreSQL: COPY with hex EWKB; elsewhere: executemany), so a big file is never held twice."""
    last = max((v.version_no for v in series.versions), default=0)
    version = LayerVersion(
        series_id=series.id,
        version_no=last + 1,
        status="draft",
        uploaded_by=uploaded_by,
        uploaded_at=now(),
        source_filename=source_filename,
        source_sha256=source_sha256,
        source_crs=source_crs,
        conversion=conversion,
        effective_from=effective_from,
        meta=dict(meta or {}),
    )
    session.add(version)
    session.flush()
    count = 0
    for batch in batches:
        insert_features(session, version.id, batch)
        count += len(batch)
    version.feature_count = count
    audit(
        session,
        uploaded_by,
        "layer_version_uploaded",
        "layer_version",
        version.id,
        {"series": series.name, "version_no": version.version_no, "features": count},
    )
    return version


# --- imports committed in short batches ----------------------------------------------------
# An upload is stored as a version with status "importing", its features appended in short
# transactions (so a big import never holds SQLite's write lock for long), then turned into a
# draft in one last transaction. Until then nothing treats it as a version: it cannot be
# activated, diffed or queried, and a failed or abandoned import is deleted.

IMPORTING = "importing"


def begin_import(
    session: Session, *, series: LayerSeries, uploaded_by: str, **provenance: Any
) -> LayerVersion:
    """A new version of `series` in status "importing" (the caller commits at once)."""
    last = session.scalar(
        select(func.max(LayerVersion.version_no)).where(LayerVersion.series_id == series.id)
    )
    version = LayerVersion(
        series_id=series.id,
        version_no=(last or 0) + 1,
        status=IMPORTING,
        uploaded_by=uploaded_by,
        uploaded_at=now(),
        feature_count=0,
        meta={},
        **provenance,
    )
    session.add(version)
    session.flush()
    return version


def importing_version(session: Session, series_id: int) -> LayerVersion | None:
    return session.scalars(
        select(LayerVersion).where(
            LayerVersion.series_id == series_id, LayerVersion.status == IMPORTING
        )
    ).first()


def finish_import(session: Session, version: LayerVersion, count: int,
                  meta: Mapping[str, Any]) -> None:
    """The import is complete: the version becomes a draft with its count and report."""
    version.status = "draft"
    version.feature_count = count
    version.meta = dict(meta)
    audit(
        session,
        version.uploaded_by,
        "layer_version_uploaded",
        "layer_version",
        version.id,
        {"series": version.series.name, "version_no": version.version_no, "features": count},
    )


def discard_import(session: Session, version_id: int) -> None:
    """Delete an unfinished import's features and version row, and its series when the import
    created it and nothing else is left in it (the caller commits)."""
    version = session.get(LayerVersion, version_id)
    if version is None or version.status != IMPORTING:
        return
    series_id = version.series_id
    session.execute(delete(LayerFeatureRow).where(LayerFeatureRow.version_id == version_id))
    session.execute(delete(LayerVersion).where(LayerVersion.id == version_id))
    left = session.scalar(
        select(func.count()).select_from(LayerVersion).where(LayerVersion.series_id == series_id)
    )
    if not left:
        session.execute(
            delete(LayerSeries).where(LayerSeries.id == series_id,
                                      LayerSeries.builtin.is_(False))
        )


def abandoned_imports(session: Session, started_before: datetime) -> list[int]:
    """Imports whose process died (started before `started_before`, still "importing")."""
    return list(session.scalars(
        select(LayerVersion.id).where(
            LayerVersion.status == IMPORTING, LayerVersion.uploaded_at < started_before
        )
    ))


def insert_features(session: Session, version_id: int, batch: Sequence[LayerFeature]) -> None:
    """Append features to a version (PostgreSQL: COPY with hex EWKB; elsewhere: executemany)."""
    if not batch:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_features(session, version_id, batch)
        return
    session.execute(
        insert(LayerFeatureRow),
        [
            {
                "version_id": version_id,
                "code": f.code,
                "name": f.name,
                "attributes": dict(f.attributes),
                "geom": f.geometry,
            }
            for f in batch
        ],
    )


def _copy_features(session: Session, version_id: int, batch: Sequence[LayerFeature]) -> None:
    import json

    import shapely

    from layers import STORAGE_SRID

    raw = session.connection().connection.driver_connection  # psycopg 3
    assert raw is not None
    wkb = shapely.to_wkb([f.geometry for f in batch], hex=True, include_srid=False)
    srid_prefix = f"SRID={STORAGE_SRID};"
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY layer_feature (version_id, code, name, attributes, geom) FROM STDIN"
        ) as copy,
    ):
        for f, g in zip(batch, wkb, strict=True):
            copy.write_row(
                (
                    version_id,
                    f.code,
                    f.name,
                    json.dumps(dict(f.attributes), ensure_ascii=False),
                    srid_prefix + g,
                )
            )


def mark_active(session: Session, version: LayerVersion, actor: str) -> LayerVersion | None:
    """Make `version` the active one of its series in the database; returns the one it retired.

    The caller commits, then swaps the overlay engine (`version_data` → engine.activate).
    """
    previous = session.scalars(
        select(LayerVersion).where(
            LayerVersion.series_id == version.series_id,
            LayerVersion.status == "active",
            LayerVersion.id != version.id,
        )
    ).one_or_none()
    if previous is not None:
        previous.status = "retired"
        previous.retired_at = now()
    version.status = "active"
    version.activated_at = now()
    version.retired_at = None
    audit(
        session,
        actor,
        "layer_version_activated",
        "layer_version",
        version.id,
        {
            "series": version.series.name,
            "version_no": version.version_no,
            "retired": previous.id if previous else None,
        },
    )
    return previous


def version_data(session: Session, version: LayerVersion) -> LayerVersionData:
    rows = session.scalars(
        select(LayerFeatureRow)
        .where(LayerFeatureRow.version_id == version.id)
        .order_by(LayerFeatureRow.id)
    ).all()
    return LayerVersionData(
        version_id=version.id,
        series=version.series.name,
        kind=version.series.kind,
        features=tuple(
            LayerFeature(
                feature_id=r.id,
                code=r.code,
                name=r.name,
                geometry=r.geom,
                attributes=r.attributes or {},
            )
            for r in rows
        ),
    )


def active_version_ids(session: Session) -> dict[str, int]:
    """series name -> id of its active version, as the database has it now."""
    rows = session.execute(
        select(LayerSeries.name, LayerVersion.id)
        .join(LayerVersion, LayerVersion.series_id == LayerSeries.id)
        .where(LayerVersion.status == "active")
    ).all()
    return {name: vid for name, vid in rows}


def load_versions(session: Session, version_ids: Iterable[int]) -> list[LayerVersionData]:
    ids = list(version_ids)
    if not ids:
        return []
    versions = session.scalars(
        select(LayerVersion).where(LayerVersion.id.in_(ids)).order_by(LayerVersion.id)
    ).all()
    return [version_data(session, v) for v in versions]


def load_active_versions(session: Session) -> list[LayerVersionData]:
    return load_versions(session, active_version_ids(session).values())


def ensure_builtin_layers(session: Session) -> list[LayerVersion]:
    """Load the built-in boundaries once: a series that already has a version is left alone."""
    from layers.builtin import BUILTIN_SERIES, builtin_layers

    have = set(session.scalars(select(LayerSeries.name).where(LayerSeries.builtin.is_(True))))
    missing = [name for name in BUILTIN_SERIES if name not in have]
    created: list[LayerVersion] = []
    for layer in builtin_layers(only=missing) if missing else ():
        series = get_or_create_series(session, layer.series, layer.kind, layer.title, builtin=True)
        version = store_version(
            session,
            series=series,
            features=layer.features,
            uploaded_by=SYSTEM_ACTOR,
            source_filename=layer.source,
            source_sha256=layer.sha256,
            source_crs=layer.source_crs,
            conversion=layer.conversion,
            meta={"builtin": True, **layer.meta},
        )
        session.flush()
        session.refresh(version)
        mark_active(session, version, SYSTEM_ACTOR)
        created.append(version)
    session.commit()
    return created
