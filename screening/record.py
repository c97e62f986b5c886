"""The decision as one typed model, from `decide()` to storage, API response, pages and maps
(docs/rules.md §R9).

`DecisionRecord.of(decision)` types what `Decision.to_dict()` returns; `DecisionRecord.load`
types a stored decision (older decisions too: every field has a default, unknown fields are
kept). `dump()` is the JSON the API returns and the database stores. Readers use attributes —
`record.minor.override`, `record.jurisdiction.rights_holder.code` — never key-by-key dict reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from screening.decision import Decision


class _Part(BaseModel):
    # Unknown keys are kept, so a decision stored by another rulebook version round-trips.
    model_config = ConfigDict(extra="allow")


class UnitRef(_Part):
    code: str | None = None
    name: str | None = None
    share: float | None = None
    kind: str | None = None
    area_m2: float | None = None
    length_m: float | None = None


class Jurisdiction(_Part):
    status: str | None = None
    level: str | None = None
    reason: str | None = None
    rights_holder: UnitRef | None = None
    leagues: list[UnitRef] = Field(default_factory=list)
    counties: list[UnitRef] = Field(default_factory=list)
    other_provinces: list[UnitRef] = Field(default_factory=list)
    countries: list[UnitRef] = Field(default_factory=list)
    ignored_slivers: list[UnitRef] = Field(default_factory=list)
    near_boundary: bool = False
    boundary_candidates: list[UnitRef] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""


class SensitiveHit(_Part):
    layer: str | None = None
    layer_version: int | None = None
    feature_id: int | str | None = None
    code: str | None = None
    name: str | None = None
    share: float | None = None
    kind: str | None = None
    sub_kind: str | None = None


class NearbyRef(_Part):
    kind: str | None = None
    layer: str | None = None
    layer_version: int | None = None
    feature_id: int | str | None = None
    name: str | None = None
    distance_m: float | None = None


class SensitiveAreas(_Part):
    red_line: list[SensitiveHit] = Field(default_factory=list)
    nature_reserve: list[SensitiveHit] = Field(default_factory=list)
    key_function_zone: list[SensitiveHit] = Field(default_factory=list)
    prohibited_zone: list[SensitiveHit] = Field(default_factory=list)
    nearby: list[NearbyRef] = Field(default_factory=list)
    ignored_slivers: list[SensitiveHit] = Field(default_factory=list)
    unknown_kinds: list[str] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""

    def touched(self, kind: str) -> list[SensitiveHit]:
        value = getattr(self, kind, None)
        return list(value) if isinstance(value, list) else []


class EarlierDamage(_Part):
    date: str | None = None
    source: str | None = None
    lead_id: int | None = None
    ref: str | None = None
    match: str | None = None


class Repeat(_Part):
    reference_date: str | None = None
    window_start: str | None = None
    earlier_damage_dates: list[str] = Field(default_factory=list)
    earlier: list[EarlierDamage] = Field(default_factory=list)
    triggered_by_lead_ids: list[int] = Field(default_factory=list)


class Minor(_Part):
    is_minor: bool | None = None
    basis: list[str] = Field(default_factory=list)
    override: bool | None = None
    override_reasons: list[str] = Field(default_factory=list)
    override_unknown: list[str] = Field(default_factory=list)
    claim_required: bool | None = None
    repeat: Repeat = Field(default_factory=Repeat)
    no_obvious_impact_criterion: int | None = None
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""


class DepartmentRef(_Part):
    code: str | None = None
    name: str | None = None
    basis: str | None = None
    citation: str | None = None


class Departments(_Part):
    responsible: list[DepartmentRef] = Field(default_factory=list)
    lead_designation_required: bool = False
    suggested_lead: str | None = None
    cooperating: list[DepartmentRef] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""


class Reporting(_Part):
    """第三十八条: the handling unit reports to its 督办单位 (only when there is one)."""

    progress_every_working_days: int | None = None
    completion_within_working_days: int | None = None
    citation: str | None = None
    explanation: str = ""


class MajorCase(_Part):
    is_major: bool = False
    grounds: list[str] = Field(default_factory=list)
    supervisor: list[DepartmentRef] | None = None
    reporting: Reporting | None = None
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""


class Section(_Part):
    citations: list[str] = Field(default_factory=list)
    explanation: str = ""


class Intake(Section):
    source_channel: str | None = None
    channel_citation: str | None = None
    sensitive_area_lead: bool | None = None
    excluded: bool = False
    report_to: str | None = None
    tracked: bool = True


class SimplifiedAssessment(Section):
    eligible_by_amount: bool | None = None


class DeadlineRef(_Part):
    name: str | None = None
    title: str | None = None
    due: str | None = None
    rolled_from: str | None = None
    citation: str | None = None
    provisional: bool = False

    @property
    def due_date(self) -> date | None:
        try:
            return date.fromisoformat(self.due) if self.due else None
        except ValueError:
            return None


class WarningRef(_Part):
    code: str | None = None
    message: str | None = None


class Explanation(_Part):
    section: str | None = None
    title: str | None = None
    citations: list[str] = Field(default_factory=list)
    text: str = ""


class ResolvedUnit(_Part):
    level: str | None = None
    code: str | None = None
    name: str | None = None


class LocationResolution(_Part):
    """How the lead was located (`location_resolution`): from a geometry, coordinates or an
    address written in the lead text, or an administrative name."""

    method: str | None = None
    matched: str | None = None
    unit: ResolvedUnit | None = None
    precision_m: float | None = None
    unresolved_parts: list[str] = Field(default_factory=list)


class DecisionRecord(_Part):
    """API.md's screen response, typed (sections in the order of the response)."""

    jurisdiction: Jurisdiction = Field(default_factory=Jurisdiction)
    sensitive_areas: SensitiveAreas = Field(default_factory=SensitiveAreas)
    intake: Intake | None = None
    minor: Minor = Field(default_factory=Minor)
    departments: Departments = Field(default_factory=Departments)
    major_case: MajorCase = Field(default_factory=MajorCase)
    simplified_assessment: SimplifiedAssessment = Field(default_factory=SimplifiedAssessment)
    sensitive_area_lead: bool | None = None
    deadlines: list[DeadlineRef] = Field(default_factory=list)
    warnings: list[WarningRef] = Field(default_factory=list)
    needs_verification: bool = False
    layer_versions: dict[str, int] = Field(default_factory=dict)
    rulebook_version: str | None = None
    explanations: list[Explanation] = Field(default_factory=list)
    location_resolution: LocationResolution | None = None

    @classmethod
    def of(cls, decision: Decision) -> DecisionRecord:
        """What `decide()` returned, typed."""
        return cls.model_validate(decision.to_dict())

    @classmethod
    def load(cls, stored: Mapping[str, Any] | DecisionRecord | None) -> DecisionRecord:
        """A stored or returned decision, typed; None (no decision yet) gives an empty one."""
        if isinstance(stored, DecisionRecord):
            return stored
        return cls.model_validate(dict(stored or {}))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

    # What lists and filters read.
    @property
    def rights_holder_code(self) -> str | None:
        holder = self.jurisdiction.rights_holder
        return holder.code if holder else None

    @property
    def league_codes(self) -> list[str]:
        return sorted({u.code for u in self.jurisdiction.leagues if u.code})

    @property
    def department_codes(self) -> list[str]:
        return sorted(d.code for d in self.departments.responsible if d.code)

    def explanation_of(self, section: str) -> str | None:
        """The rulebook's own Chinese explanation of a section, if it gave one."""
        own = getattr(self, section, None)
        text = getattr(own, "explanation", None)
        if isinstance(text, str) and text:
            return text
        return next((e.text for e in self.explanations if e.section == section and e.text), None)

    def warnings_with(self, prefixes: tuple[str, ...]) -> list[str]:
        """The messages of the warnings whose code starts with one of `prefixes`."""
        return [
            w.message or w.code or ""
            for w in self.warnings
            if any((w.code or "").startswith(p) for p in prefixes)
        ]

    def core(self) -> dict[str, Any]:
        """What a re-evaluation compares: the decision without its warnings' wording."""
        out = self.dump()
        out.pop("warnings", None)
        out.pop("explanations", None)
        return out
