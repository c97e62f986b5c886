"""Geometry for geo-screen: CRS, layer files, validation, versions and the overlay engine.

Everything here works in CGCS2000 geographic coordinates (EPSG:4490, x = longitude, y = latitude).
Nothing here knows HTTP or the database: `geo_service` feeds it plain data.
"""

STORAGE_SRID = 4490

# Layer kinds (API.md). Administrative kinds tile space; sensitive kinds trigger rules.
ADMIN_KINDS = ("league", "county", "province", "country")
SENSITIVE_KINDS = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")
OTHER_KINDS = ("river_lake", "urban", "farmland")
# Finer units an analyst may load (乡镇界, 村界/村点): they refine addresses read from lead text.
FINE_UNIT_KINDS = ("township", "village")
LAYER_KINDS = ADMIN_KINDS + SENSITIVE_KINDS + OTHER_KINDS + FINE_UNIT_KINDS
