"""Case maps: one self-contained HTML document per case (folium/Leaflet, served assets only).

Independent of geo_service: the service gathers the features and passes them in.
"""

from maps.case_map import MAX_BYTES, render_case_map
from maps.escape import esc
from maps.model import BasemapConfig, LocatedArea, MapFeature

__all__ = ["MAX_BYTES", "BasemapConfig", "LocatedArea", "MapFeature", "esc", "render_case_map"]
