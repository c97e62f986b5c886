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


class LayerLimitError(LayerFileError):
    """A layer file over one of the import limits (size, members, time, memory).

    `setting` names the GEO_SCREEN_ setting (without the prefix) that sets the limit; `status`
    is what the service answers: 413 for sizes, 422 for time.
    """

    def __init__(self, message: str, setting: str, status: int = 413) -> None:
        super().__init__(f"{message}（上限由 GEO_SCREEN_{setting} 设置）", "file")
        self.raw = message
        self.setting = setting
        self.status = status
