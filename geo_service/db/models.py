"""The tables. Names and shapes are meant to be read by people and by QGIS as they are."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geo_service.db.types import GeometryColumn


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class LayerSeries(Base):
    """A named layer (e.g. `league`, `red_line`) whose content changes by versions."""

    __tablename__ = "layer_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list[LayerVersion]] = relationship(
        back_populates="series", order_by="LayerVersion.version_no"
    )


class LayerVersion(Base):
    """One upload of a series: draft → active → retired."""

    __tablename__ = "layer_version"
    __table_args__ = (UniqueConstraint("series_id", "version_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("layer_series.id"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_filename: Mapped[str | None] = mapped_column(String(500))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_crs: Mapped[str | None] = mapped_column(String(100))
    conversion: Mapped[str | None] = mapped_column(Text)  # what was applied to reach EPSG:4490
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    effective_from: Mapped[date | None] = mapped_column(Date)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # validation report etc.

    series: Mapped[LayerSeries] = relationship(back_populates="versions")


class LayerFeatureRow(Base):
    __tablename__ = "layer_feature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("layer_version.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(50), index=True)
    name: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    geom: Mapped[BaseGeometry] = mapped_column(GeometryColumn("GEOMETRY"))


class Lead(Base):
    """A case lead (案件线索) and where it stands (R3, R5)."""

    __tablename__ = "lead"
    __table_args__ = (UniqueConstraint("source_system", "external_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    source_system: Mapped[str | None] = mapped_column(String(100))
    external_ref: Mapped[str | None] = mapped_column(String(200))
    # sha256 of (caller, Idempotency-Key): a key is scoped to the caller that sent it, so one
    # caller's key never finds another caller's lead. The body's hash tells a retry from a reuse.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    idempotency_body_hash: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), index=True)
    obligor_id: Mapped[str | None] = mapped_column(String(30), index=True)
    obligor_name: Mapped[str | None] = mapped_column(String(300))
    # The normalised name (screening.obligor.normalise_obligor_name), for obligors without id.
    obligor_name_key: Mapped[str | None] = mapped_column(String(300), index=True)
    league_code: Mapped[str | None] = mapped_column(String(6), index=True)  # rights holder
    # Every league/city the damage area materially touches, as ",150100,150200," so a league's
    # office finds the region-level (cross-league) cases that concern it.
    leagues: Mapped[str | None] = mapped_column(String(120))
    is_major: Mapped[bool] = mapped_column(Boolean, default=False)
    minor_override: Mapped[bool] = mapped_column(Boolean, default=False)
    next_due: Mapped[date | None] = mapped_column(Date, index=True)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the screen request as received
    damage_geom: Mapped[BaseGeometry | None] = mapped_column(GeometryColumn("GEOMETRY"))
    act_geom: Mapped[BaseGeometry | None] = mapped_column(GeometryColumn("GEOMETRY"))

    decisions: Mapped[list[DecisionRow]] = relationship(
        back_populates="lead", order_by="DecisionRow.id"
    )
    filings: Mapped[list[Filing]] = relationship(back_populates="lead", order_by="Filing.id")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="lead", order_by="CaseEvent.id"
    )


class DecisionRow(Base):
    """A screening decision; never edited (R9). Re-screening adds a row."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    rulebook_version: Mapped[str] = mapped_column(String(40))
    layer_versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(40), default="created")

    lead: Mapped[Lead] = relationship(back_populates="decisions")


class Filing(Base):
    """立案 / 不予立案 / 终止 (第十五条), with reasons and approval."""

    __tablename__ = "filing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    grounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reasons: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    damage_date: Mapped[date | None] = mapped_column(Date)
    # 第十五条第二款第（三）项's second finding: 不需要赔偿 (recorded by the officer).
    no_compensation_needed: Mapped[bool | None] = mapped_column(Boolean)
    # 第四十八条第（二）项 目 1–5 supporting "no obvious impact", when that is the basis.
    impact_criterion: Mapped[int | None] = mapped_column(Integer)
    # The day the person in charge approved the decision (第十五条第一款、第三款).
    decided_on: Mapped[date | None] = mapped_column(Date)
    # The decision the check ran against (decide at the moment of deciding).
    decision_id: Mapped[int | None] = mapped_column(Integer)

    lead: Mapped[Lead] = relationship(back_populates="filings")


class CaseEvent(Base):
    """One event of a filed case (第十五条 to 第三十八条): appended, never edited; a correction
    is a `void` event naming the event it voids (`data.voids`) and why."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # type-specific fields
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))

    lead: Mapped[Lead] = relationship(back_populates="events")


class HistoricalCase(Base):
    """Earlier established damage by an obligor, so the two-year rule works from day one."""

    __tablename__ = "historical_case"
    __table_args__ = (UniqueConstraint("obligor_id", "damage_date", "case_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligor_id: Mapped[str] = mapped_column(String(30), index=True)
    damage_date: Mapped[date] = mapped_column(Date)
    case_ref: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(200))


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored. Refused once revoked or past `expires_at`."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser login. The cookie carries a random id; only its SHA-256 is stored here, so a
    copy of the database signs in nobody. Ends at `expires_at`, after `idle` without use, at
    logout, or when its token is revoked (`ended_at`, `end_reason`)."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    client: Mapped[str | None] = mapped_column(String(100))


class AuditEntry(Base):
    """Append-only: every state change, who and when. Never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Hash chain (geo_service.audit_chain): `geo-screen audit verify` detects any edited row.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


Index("ix_audit_entity", AuditEntry.entity, AuditEntry.entity_id)
