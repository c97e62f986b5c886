"""jionlp's division dictionary (`china_location`: province → city → county → township →
village, with GB/T 2260 codes and common short names), read as data.

The file ships inside the jionlp package (Apache-2.0) and is read here without importing
jionlp: `import jionlp` loads its whole toolkit — including the word segmenter jiojio, which is
GPL-3.0 — prints banners to stdout, and costs 1–2 s and ~160 MB per process, for a file.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from layers.errors import LayerError

REGION_CODE = "150000"
_FILE = ("dictionary", "china_location.zip")


@dataclass
class County:
    name: str
    code: str
    aliases: tuple[str, ...]
    towns: dict[str, list[str]] = field(default_factory=dict)  # township → its villages


@dataclass
class Divisions:
    """The region's counties (with townships and villages), and where every other province,
    city and county of the country is (to say that a text names a place outside the region)."""

    counties: dict[str, County]  # code → county
    elsewhere: dict[str, str]  # a name outside the region → its province/city/county path


def dictionary_path() -> Path:
    spec = importlib.util.find_spec("jionlp")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise LayerError("未安装 jionlp：地址词典不可用（pip install jionlp）。", "location.text")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*_FILE)


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(depth, fields) for each line of the tab-indented dictionary."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".txt"))
        with archive.open(name) as raw:
            for line in io.TextIOWrapper(raw, encoding="utf-8"):
                text = line.rstrip("\n")
                depth = len(text) - len(text.lstrip("\t"))
                fields = [f for f in text.strip("\t").split("\t") if f]
                if fields:
                    yield depth, fields


def read_divisions(path: Path | None = None) -> Divisions:
    counties: dict[str, County] = {}
    elsewhere: dict[str, str] = {}
    trail: list[str] = ["", "", ""]
    in_region = False
    county: County | None = None
    town: list[str] | None = None
    for depth, fields in _lines(path or dictionary_path()):
        name = fields[0]
        if depth <= 2:
            code = fields[1] if len(fields) > 1 else ""
            aliases = tuple(a for a in fields[2:] if a and a != name)
            trail[depth] = name
            del trail[depth + 1 :]
            trail.extend([""] * (2 - depth))
            if depth == 0:
                in_region = code == REGION_CODE
            county = town = None
            if not in_region:
                where = "".join(t for t in trail if t)
                for label in (name, *aliases):
                    if len(label) >= 2 and label not in elsewhere:
                        elsewhere[label] = where
            elif depth == 2:
                county = counties.setdefault(code, County(name, code, aliases))
        elif in_region and county is not None:
            if depth == 3:
                town = county.towns.setdefault(name, [])
            elif depth == 4 and town is not None:
                town.append(name)
    return Divisions(counties, elsewhere)
