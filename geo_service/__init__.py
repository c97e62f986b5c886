"""geo_service."""
