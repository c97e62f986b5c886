"""An address written in a lead → league, banner/county, 苏木/乡镇/街道 and 嘎查/村 (names only).

The hierarchy and its names come from jionlp's division dictionary (`dictionary.py`): every
township and village under each county, the counties' short names, and every province, city and
county elsewhere (to say that a text names a place outside the region). The region's own short
forms (准旗, 阿左旗, 达旗, 阿旗 = 阿鲁科尔沁旗, old league names) come from `layers.admin_names`,
renamed units from `OLD_NAMES`; a township named in the text settles which county a short form
means. jionlp's own parser (`parse_location`) was judged and not used: it reads 143 of the
corpus's 176 addresses right against 176 here (it misses 杭旗, 托县, 太旗, reads 阿旗 as 阿荣旗 and
"巴彦浩特镇附近" as 黑龙江巴彦县), and importing it loads the GPL-3.0 segmenter jiojio.

The dictionary spells some entries as statistics tables do (上海嘎查村, 乌力吉苏木乡,
巴彦浩特南环路街道办事处, 陈旗巴彦库仁镇); each gets the names people write as aliases.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from layers.admin_names import COUNTIES, IRREGULAR, LEAGUES, default_gazetteer
from layers.textloc.dictionary import Divisions, read_divisions

REGION_NAME = "内蒙古自治区"

# Renamed and merged units people still write (GB/T 2260 history); the current code each became.
OLD_NAMES: Mapping[str, str] = {
    "集宁市": "150902",
    "东胜市": "150602",
    "海拉尔市": "150702",
    "临河市": "150802",
    "康巴什新区": "150603",
    "布特哈旗": "150783",
    "喜桂图旗": "150782",
    "额尔古纳右旗": "150784",
    "额尔古纳左旗": "150785",
    "包头市郊区": "150207",
    "赤峰市郊区": "150404",
    "乌兰察布盟": "150900",
    "巴彦淖尔盟": "150800",
    "呼伦贝尔盟": "150700",
    "扎赉诺尔矿区": "150703",
}

_TOWN_SUFFIXES = ("街道", "苏木", "镇", "乡")
_TRANSLITERATIONS = (("诺尔", "淖尔"), ("淖尔", "诺尔"))
_NOISE_VILLAGES = re.compile(r"虚拟社区|虚拟生活区")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Fine:
    """A township or village named in the text (a name from the dictionary or a loaded layer)."""

    level: str  # "township" | "village"
    name: str  # as the dictionary spells it, cleaned (薛家湾镇, 上海嘎查)
    mention: Mention
    town: str | None = None  # a village's township, when known


_FINER_WORD = re.compile(r"[\u4e00-\u9fff]{2,10}?(?:嘎查村|嘎查|村|社区|苏木|镇|乡|街道)")


def following_finer_name(text: str, end: int) -> Mention | None:
    """A township/village-like name right after `end` that the dictionary does not know."""
    m = _FINER_WORD.match(text, end)
    return Mention(m.start(), m.end(), m.group()) if m else None


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """One reading of the address: a county (or only a league) and the finer names in it."""

    league_code: str
    county_code: str | None
    mentions: tuple[Mention, ...]  # the words used, in text order
    township: Fine | None = None
    village: Fine | None = None
    score: float = 0.0
    notes: tuple[str, ...] = ()  # how it was read (Chinese), for warnings


@dataclass
class AddressFindings:
    matches: list[AddressMatch] = field(default_factory=list)
    understood: list[str] = field(default_factory=list)
    outside_region: str | None = None  # a place in another province the text names


def _clean_town(name: str, county_aliases: Iterable[str]) -> str:
    name = name.replace("街道办事处", "街道").replace("苏木乡", "苏木")
    if name.endswith("办事处"):
        name = name[: -len("办事处")]
    for alias in sorted(county_aliases, key=len, reverse=True):  # 陈旗巴彦库仁镇 → 巴彦库仁镇
        if alias.endswith(("旗", "县")) and name.startswith(alias) and len(name) - len(alias) >= 3:
            return name[len(alias) :]
    return name


def _clean_village(name: str) -> str:
    for old, new in (
        ("嘎查村", "嘎查"),
        ("嘎查委会", "嘎查"),
        ("社区居委会", "社区"),
        ("居委会", "社区"),
        ("村委会", "村"),
    ):
        if name.endswith(old):
            return name[: -len(old)] + new
    return name


def town_aliases(name: str) -> list[str]:
    """A township's names: as written, and without its kind (薛家湾镇 → 薛家湾) if that is long
    enough not to be a common word."""
    out = [name]
    for a, b in _TRANSLITERATIONS:  # the same Mongolian word written two ways
        if a in name:
            out.append(name.replace(a, b))
    for suffix in _TOWN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 3:
            out.append(name[: -len(suffix)])
            break
    return out


def village_aliases(name: str) -> list[str]:
    out = [name]
    if name.endswith("嘎查") and len(name) >= 5:
        out.append(name[:-2] + "嘎查村")
    return [a for a in out if len(a) >= 3]


class AddressIndex:
    """Names of the region's units, from the gazetteer and jionlp's division dictionary."""

    def __init__(self, divisions: Divisions | None = None) -> None:
        divisions = divisions or read_divisions()
        self.league_names = dict(LEAGUES)
        self.county_names = dict(COUNTIES)
        gazetteer = default_gazetteer()
        self.aliases: dict[str, set[str]] = {}  # alias → codes (league or county)
        for unit in gazetteer.names():
            for alias in gazetteer.aliases_of(unit.code):
                self.aliases.setdefault(alias, set()).add(unit.code)
        for alias, code in OLD_NAMES.items():
            self.aliases.setdefault(alias, set()).add(code)
        self.towns: dict[str, dict[str, str]] = {}  # county → alias → town name
        self.villages: dict[str, dict[str, tuple[str, str]]] = {}  # county → alias → (v, town)
        for code, county in divisions.counties.items():
            if code not in self.county_names:  # development zones and the like
                continue
            for alias in county.aliases:
                if len(alias) >= 2:
                    self.aliases.setdefault(alias, set()).add(code)
            own = gazetteer.aliases_of(code) | {county.name}
            for town, villages in county.towns.items():
                clean = _clean_town(town, own)
                for alias in town_aliases(clean):
                    self.towns.setdefault(code, {}).setdefault(alias, clean)
                for village in villages:
                    if _NOISE_VILLAGES.search(village):
                        continue
                    v = _clean_village(village)
                    for alias in village_aliases(v):
                        self.villages.setdefault(code, {}).setdefault(alias, (v, clean))
        self._elsewhere = tuple(divisions.elsewhere.items())
        self._by_alias_len = sorted(self.aliases, key=len, reverse=True)
        self._region_towns: dict[str, list[tuple[str, str]]] = {}
        for code, towns in self.towns.items():
            for alias, town in towns.items():
                if alias == town and len(alias) >= 3:
                    self._region_towns.setdefault(alias, []).append((code, town))

    def league_of(self, code: str) -> str:
        return code if code in self.league_names else code[:4] + "00"

    def name_of(self, code: str) -> str:
        return self.county_names.get(code) or self.league_names.get(code) or code

    # --- scanning ---------------------------------------------------------------------------

    def admin_mentions(self, text: str) -> list[tuple[Mention, set[str]]]:
        """League and county names in the text, longest first, not overlapping."""
        taken = [False] * len(text)
        found: list[tuple[Mention, set[str]]] = []
        for alias in self._by_alias_len:
            start = text.find(alias)
            while start != -1:
                end = start + len(alias)
                if not any(taken[start:end]):
                    for i in range(start, end):
                        taken[i] = True
                    found.append((Mention(start, end, alias), self.aliases[alias]))
                start = text.find(alias, end)
        found.sort(key=lambda item: item[0].start)
        return found

    def fine_mentions(
        self,
        text: str,
        county: str,
        extra_towns: Mapping[str, str] | None = None,
        inside: Sequence[Mention] = (),
    ) -> tuple[Fine | None, Fine | None]:
        """The township and village of `county` named in the text (the longest name wins);
        a name lying wholly inside a league/county name (科尔沁 in 科尔沁右翼前旗) is not one."""
        towns = {**self.towns.get(county, {}), **(extra_towns or {})}
        blocked = [(m.start, m.end) for m in inside]
        town = _longest(text, towns, blocked=blocked)
        township = Fine("township", towns[town[2]], Mention(*town)) if town else None
        villages = self.villages.get(county, {})
        found = _longest(text, villages, exclude=town, blocked=blocked)
        village = None
        if found:
            name, parent = villages[found[2]]
            if township is None or parent == township.name:
                village = Fine("village", name, Mention(*found), parent)
            elif township is not None:
                # the same village name under the text's township, if there is one
                same = [a for a, (n, p) in villages.items() if n == name and p == township.name]
                if same:
                    village = Fine("village", name, Mention(*found), township.name)
        return township, village

    def region_towns(self, text: str) -> list[tuple[str, Fine]]:
        """Townships named in the text without a county: (county, township) for each reading."""
        out = []
        for alias, places in self._region_towns.items():
            start = text.find(alias)
            if start == -1:
                continue
            for county, town in places:
                out.append(
                    (county, Fine("township", town, Mention(start, start + len(alias), alias)))
                )
        return out

    def elsewhere(self, text: str) -> str | None:
        """The place outside the region that the text names, as precisely as it names it
        (河北省承德市 rather than 河北省)."""
        found = [where for name, where in self._elsewhere if name in text]
        return max(found, key=len) if found else None


def _longest(
    text: str,
    names: Mapping[str, object],
    exclude: tuple[int, int, str] | None = None,
    blocked: Sequence[tuple[int, int]] = (),
) -> tuple[int, int, str] | None:
    best: tuple[int, int, str] | None = None
    for alias in names:
        start = text.find(alias)
        while start != -1:
            end = start + len(alias)
            overlaps = exclude is not None and start < exclude[1] and exclude[0] < end
            overlaps = overlaps or any(s <= start and end <= e for s, e in blocked)
            if not overlaps and (best is None or len(alias) > len(best[2])):
                best = (start, end, alias)
                break
            start = text.find(alias, start + 1)
    return best


_INDEX: AddressIndex | None = None
_INDEX_LOCK = threading.Lock()


def address_index() -> AddressIndex:
    """Built once per process on first use (about a second: the dictionary is read)."""
    global _INDEX
    with _INDEX_LOCK:
        if _INDEX is None:
            _INDEX = AddressIndex()
        return _INDEX


def _score(
    county: str | None, township: Fine | None, village: Fine | None, explicit: bool
) -> float:
    score = 0.4 if county is None else 0.6
    if township is not None:
        score += 0.15
    if village is not None:
        score += 0.1
    if explicit:
        score += 0.05
    return round(score, 2)


def find_address(
    text: str, extra_towns: Mapping[str, Mapping[str, str]] | None = None
) -> AddressFindings:
    """Every reading of the address in `text` (NFKC-normalised), best first.

    `extra_towns`: county → {alias: township name} from a loaded township layer, so its names
    are recognised even where the dictionary lacks them.
    """
    index = address_index()
    extra_towns = extra_towns or {}
    findings = AddressFindings()
    mentions = index.admin_mentions(text)
    counties: dict[str, list[Mention]] = {}
    leagues: dict[str, list[Mention]] = {}
    for mention, codes in mentions:
        for code in codes:
            target = leagues if code in index.league_names else counties
            target.setdefault(code, []).append(mention)
    if leagues:
        named = set(leagues)
        inside = {c: m for c, m in counties.items() if index.league_of(c) in named}
        if inside:
            counties = inside
    ambiguous_alias = {
        m.text
        for m, codes in mentions
        if len({c for c in codes if c not in index.league_names}) > 1
    }
    readings: list[AddressMatch] = []
    admin_spans = [m for m, _ in mentions]
    for county, used in counties.items():
        town, village = index.fine_mentions(text, county, extra_towns.get(county, {}), admin_spans)
        explicit = any(m.text in IRREGULAR or m.text == index.name_of(county) for m in used)
        league_mentions = leagues.get(index.league_of(county), [])
        fine = [f.mention for f in (town, village) if f is not None]
        used = [m for m in used if not any(f.start <= m.start and m.end <= f.end for f in fine)]
        readings.append(
            AddressMatch(
                index.league_of(county),
                county,
                tuple(sorted({*used, *league_mentions}, key=lambda m: m.start)),
                town,
                village,
                _score(county, town, village, explicit),
            )
        )
    if not readings:
        for county, town in index.region_towns(text):
            if leagues and index.league_of(county) not in leagues:
                continue
            _, village = index.fine_mentions(text, county, {})
            readings.append(
                AddressMatch(
                    index.league_of(county),
                    county,
                    tuple(sorted(leagues.get(index.league_of(county), []), key=lambda m: m.start)),
                    town,
                    village if village and village.town == town.name else None,
                    round(_score(county, town, None, False) - 0.1, 2),
                    (f"文字未写旗县，按乡镇名“{town.name}”推定旗县",),
                )
            )
    where = index.elsewhere(text) if not readings and not leagues else None
    if where is not None:
        findings.outside_region = where
        findings.understood.append(f"{where}（不在内蒙古自治区）")
        return findings
    if not readings:
        for league, used in leagues.items():
            readings.append(
                AddressMatch(league, None, tuple(used), score=_score(None, None, None, True))
            )
    readings = _keep_best(readings, ambiguous_alias)
    findings.matches = readings
    for r in readings:
        parts = [index.name_of(r.league_code)]
        if r.county_code:
            parts.append(index.name_of(r.county_code))
        parts += [f.name for f in (r.township, r.village) if f is not None]
        findings.understood.append("".join(parts))
    return findings


def _keep_best(readings: Sequence[AddressMatch], ambiguous: set[str]) -> list[AddressMatch]:
    """The best readings: a township or village named in the text settles a short form that
    could mean several counties; otherwise equally good readings all stay (ambiguous)."""
    if not readings:
        return []
    ordered = sorted(readings, key=lambda r: (-r.score, r.county_code or r.league_code))
    top = ordered[0].score
    best = [r for r in ordered if r.score >= top - 1e-9]
    if (
        len(best) == 1
        and len(ordered) > 1
        and ordered[1].mentions
        and not ({m.text for m in ordered[1].mentions} & ambiguous)
    ):
        # two different counties named in the text: keep the weaker one as an alternative
        return [best[0], *[r for r in ordered[1:] if r.county_code != best[0].county_code][:2]]
    return best
