"""A geometry column: PostGIS on PostgreSQL, plain WKB elsewhere (SQLite, no SpatiaLite)."""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from layers import STORAGE_SRID


class GeometryColumn(TypeDecorator[BaseGeometry]):
    """Shapely geometry in, shapely geometry out; EPSG:4490.

    PostgreSQL: a PostGIS `geometry(<type>, 4490)` column (GiST index added by the migration), so
    QGIS opens the table as it is. Other dialects: WKB bytes, so the embedded default needs
    nothing beyond PyPI on any platform.
    """

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks on PostgreSQL: they add the GiST index
    # (idx_<table>_<column>) when the table is created.
    spatial_index = True
    use_N_D_index = False
    use_typmod = None
    dimension = 2

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = STORAGE_SRID) -> None:
        super().__init__()
        self.geometry_type = geometry_type
        self.srid = srid

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # GeoAlchemy2's DDL hooks probe this with dialect=None.
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Geometry(self.geometry_type, srid=self.srid))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return WKBElement(shapely.to_wkb(value, include_srid=False), srid=self.srid)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return to_shape(value)
        return shapely.from_wkb(bytes(value))
