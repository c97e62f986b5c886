"""Migration 0006: feature rows carry kind, series and active, kept by triggers; the QGIS view
`active_layer_feature` filters on them, and on PostGIS "features of kind K at point P" is an
index scan whose answer equals the engine's."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geo_service.services import Services

JOINED = text(
    "SELECT f.id, s.kind, s.name, v.status = 'active' FROM layer_feature f "
    "JOIN layer_version v ON v.id = f.version_id JOIN layer_series s ON s.id = v.series_id"
)
OWN = text("SELECT id, kind, series, active FROM layer_feature")
AT_POINT = (
    "SELECT series, code FROM active_layer_feature WHERE kind = :kind "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
)


def _rows(conn, sql):
    return {r[0]: (r[1], r[2], bool(r[3])) for r in conn.execute(sql).all()}


def test_rows_carry_kind_series_and_active_in_step_with_their_version(services: Services):
    with services.engine.connect() as conn:
        assert _rows(conn, OWN) == _rows(conn, JOINED)
        assert any(active for _, _, active in _rows(conn, OWN).values())
        view = conn.execute(text("SELECT DISTINCT kind, series FROM active_layer_feature")).all()
        assert set(view) == {(k, s) for k, s, a in _rows(conn, JOINED).values() if a}
        conn.rollback()
        try:
            version_id = conn.execute(
                text("SELECT id FROM layer_version WHERE status = 'active' ORDER BY id LIMIT 1")
            ).scalar_one()
            conn.execute(
                text("UPDATE layer_version SET status = 'retired' WHERE id = :v"), {"v": version_id}
            )
            conn.execute(text("UPDATE layer_series SET name = 'renamed' WHERE id = "
                              "(SELECT series_id FROM layer_version WHERE id = :v)"),
                         {"v": version_id})  # fmt: skip
            assert _rows(conn, OWN) == _rows(conn, JOINED)
            left = conn.execute(
                text("SELECT count(*) FROM active_layer_feature WHERE version_id = :v"),
                {"v": version_id},
            ).scalar_one()
            assert left == 0
        finally:
            conn.rollback()  # the shared database stays as it was


@pytest.mark.postgis
def test_kind_at_point_is_index_driven_and_equals_the_engine(services_by_backend):
    services = services_by_backend["postgis"]
    rng = np.random.default_rng(6)
    points = np.column_stack([rng.uniform(108, 122, 60), rng.uniform(38, 50, 60)])
    with services.engine.connect() as conn:
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN " + AT_POINT), {"kind": "county", "x": 111.7, "y": 40.8}
            ).scalars()
        )
        assert "ix_layer_feature_active_geom" in plan, plan
        assert "kind" in plan and "Seq Scan on layer_feature" not in plan, plan
        results = services.overlay.overlay_many(list(shapely.points(points)), nearby_radius_m=0)
        for (x, y), result in zip(points, results, strict=True):
            for kind in ("league", "county"):
                rows = conn.execute(text(AT_POINT), {"kind": kind, "x": x, "y": y}).all()
                assert sorted(rows) == sorted((h.series, h.code) for h in result.hits[kind])
