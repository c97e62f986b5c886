"""Display copies keep neighbours' shared edges; independent simplification does not."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from layers.display import coverage_defects, display_copies, independent_copies


def test_real_leagues(leagues):
    geoms = [f.geometry for f in leagues]
    alone = coverage_defects(geoms, independent_copies(geoms, 0.001))
    kept = coverage_defects(geoms, display_copies(geoms, 0.001))
    # Measured on the real leagues: simplifying each on its own opens ~130 gaps and ~3 km² of
    # overlaps; coverage simplification keeps the shared edges.
    assert alone["gap_count"] > 50 and alone["overlap_km2"] > 1.0
    assert kept["overlap_km2"] < 0.01 * alone["overlap_km2"]
    assert kept["gap_count"] <= 0.02 * alone["gap_count"]
    assert kept["gap_km2"] < 0.05 * alone["gap_km2"]
    assert kept["vertices_after"] < 0.5 * kept["vertices_before"]


def _wavy_grid(nx: int, ny: int, amp: float, seed: int) -> list[Polygon]:
    """A perfect coverage: cells of a grid whose shared edges are the same jagged lines."""
    rng = np.random.default_rng(seed)
    steps = 40
    t = np.linspace(0, 1, steps + 1)
    # Vertical edge lines (x = i) and horizontal lines (y = j), each with its own wiggle.
    vwig = {(i, j): rng.normal(0, amp, steps + 1) * (t * (1 - t) > 0)
            for i in range(1, nx) for j in range(ny)}
    hwig = {(i, j): rng.normal(0, amp, steps + 1) * (t * (1 - t) > 0)
            for i in range(nx) for j in range(1, ny)}

    def vline(i, j):  # from (i, j) to (i, j+1)
        w = vwig.get((i, j), np.zeros(steps + 1))
        return [(i + w[k], j + t[k]) for k in range(steps + 1)]

    def hline(i, j):  # from (i, j) to (i+1, j)
        w = hwig.get((i, j), np.zeros(steps + 1))
        return [(i + t[k], j + w[k]) for k in range(steps + 1)]

    cells = []
    for i in range(nx):
        for j in range(ny):
            ring = hline(i, j)[:-1] + vline(i + 1, j)[:-1] + hline(i, j + 1)[::-1][:-1] \
                + vline(i, j)[::-1]
            cells.append(Polygon([(110 + x * 0.1, 40 + y * 0.1) for x, y in ring]))
    return cells


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 4), st.integers(2, 4), st.integers(0, 10_000),
       st.floats(0.0005, 0.003))
def test_coverage_simplification_opens_no_gap_or_overlap(nx, ny, seed, tolerance):
    cells = _wavy_grid(nx, ny, 0.005, seed)
    assert all(c.is_valid for c in cells)
    assert shapely.coverage_is_valid(np.array(cells, dtype=object))
    out = display_copies(cells, tolerance)
    defects = coverage_defects(cells, out)
    assert defects["gap_count"] == 0 and defects["overlap_km2"] == 0
    assert shapely.coverage_is_valid(np.array(out, dtype=object))
    assert defects["vertices_after"] < defects["vertices_before"]
