"""The precomputed containment grid (layers.overlay._CellStates) answers as GEOS does.

Big features (in the edge index) with holes, several parts and edges along the grid's lines;
seeded points plus points exactly on vertices, on edges, on cell corners and inside holes.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers.model import LayerFeature, LayerVersionData
from layers.overlay import _BIG_FEATURE_VERTICES, _CROSSED, _INSIDE, OverlayEngine, _contained

BOX = (109.0, 39.0, 115.0, 44.0)


def _ring_with_hole(x: float, y: float, outer: float, inner: float) -> shapely.Polygon:
    """A many-vertex disc with a hole off its centre (more than _BIG_FEATURE_VERTICES)."""
    shell = shapely.Point(x, y).buffer(outer, quad_segs=700).exterior
    hole = shapely.Point(x + inner / 3, y).buffer(inner, quad_segs=100).exterior
    return shapely.Polygon(shell, [hole])


def _features() -> list[LayerFeature]:
    square = shapely.box(112.0, 40.0, 113.0, 41.0)  # edges along grid lines (0.125°)
    square = shapely.segmentize(square, 0.0004)  # many vertices: in the edge index
    hole = shapely.box(112.25, 40.25, 112.75, 40.75)
    boxed = shapely.Polygon(square.exterior, [hole.exterior])
    two = shapely.MultiPolygon(
        [_ring_with_hole(110.0, 42.0, 0.6, 0.3), _ring_with_hole(111.6, 43.0, 0.4, 0.15)]
    )
    return [
        LayerFeature(1, "A", "甲", _ring_with_hole(110.5, 40.2, 0.9, 0.4)),
        LayerFeature(2, "B", "乙", boxed),
        LayerFeature(3, "C", "丙", two),
        LayerFeature(4, "D", "丁", shapely.box(113.5, 42.0, 114.0, 42.5)),  # small
    ]


@pytest.fixture(scope="module")
def engine() -> OverlayEngine:
    features = tuple(_features())
    return OverlayEngine([LayerVersionData(1, "reserves", "nature_reserve", features)])


def _probe_points(engine: OverlayEngine) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20251130)
    x0, y0, x1, y1 = BOX
    xs, ys = [rng.uniform(x0, x1, 20_000)], [rng.uniform(y0, y1, 20_000)]
    geoms = engine._snapshot.geoms
    xy = shapely.get_coordinates(geoms)  # every vertex: on the boundary
    xs.append(xy[:, 0])
    ys.append(xy[:, 1])
    edges = shapely.get_coordinates(
        shapely.line_interpolate_point(  # points on edges
            shapely.get_exterior_ring(shapely.get_parts(geoms)),
            rng.uniform(0, 1, (3000, 1)),
            normalized=True,
        ).ravel()
    )
    xs.append(edges[:, 0])
    ys.append(edges[:, 1])
    corners = np.arange(x0, x1, 0.125), np.arange(y0, y1, 0.125)  # cell corners and sides
    cx, cy = np.meshgrid(*corners)
    xs += [cx.ravel(), cx.ravel() + 0.0625]
    ys += [cy.ravel(), cy.ravel()]
    holes = shapely.get_interior_ring(shapely.get_parts(geoms), 0)  # inside the holes
    holes = holes[~shapely.is_missing(holes)]
    inside = shapely.get_coordinates(shapely.point_on_surface(shapely.polygons(holes)))
    xs.append(inside[:, 0])
    ys.append(inside[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def test_features_are_big(engine):
    snapshot = engine._snapshot
    assert snapshot.by_edges.tolist() == [True, True, True, False]
    assert (snapshot.vertices[:3] > _BIG_FEATURE_VERTICES).all()


def test_containment_equals_geos(engine):
    snapshot = engine._snapshot
    xs, ys = _probe_points(engine)
    p, g = snapshot.tree.query(shapely.points(xs, ys))
    expected = shapely.intersects_xy(snapshot.geoms[g], xs[p], ys[p])
    assert _contained(snapshot, xs, ys, p, g).tolist() == expected.tolist()


def test_the_grid_decides_most_points(engine):
    """Not vacuous: most pairs of the big features are answered by the grid, both ways."""
    snapshot = engine._snapshot
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = BOX
    xs, ys = rng.uniform(x0, x1, 5000), rng.uniform(y0, y1, 5000)
    p, g = snapshot.tree.query(shapely.points(xs, ys))
    big = snapshot.by_edges[g]
    state = snapshot.edges.cell_states(g[big], xs[p[big]], ys[p[big]])
    assert (state != _CROSSED).mean() > 0.5
    decided = state != _CROSSED
    inside = shapely.intersects_xy(snapshot.geoms[g[big]], xs[p[big]], ys[p[big]])
    assert inside[decided].any() and not inside[decided].all()
    assert ((state == _INSIDE) == inside)[decided].all()
