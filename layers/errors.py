"""Errors the geometry layer raises; geo_service maps them to problem+json."""

from __future__ import annotations


class LayerError(Exception):
    """Base. `field` names the input it is about (dotted path), `message` says what to do."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownCRSError(LayerError):
    pass


class GeometryError(LayerError):
    pass


class LayerFileError(LayerError):
    """A layer file that cannot be read as given (format, encoding, missing .prj and no crs…)."""
