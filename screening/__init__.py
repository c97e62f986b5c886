"""The rulebook of 《内蒙古自治区生态环境损害赔偿工作规定》(内政办发〔2025〕16号) as pure functions.
Each rule cites the section of docs/rules.md that explains it.

`decide(lead, spatial, config, calendar)` turns plain facts into a `Decision` whose `to_dict()` is
API.md's screen response. Nothing here does I/O except `WorkCalendar.load`.
"""

from screening.calendar import (
    CalendarFileError,
    Period,
    WorkCalendar,
    YearSchedule,
    count_period,
    parse_schedule,
)
from screening.config import RULEBOOK_VERSION, RulebookConfig, RulebookConfigError
from screening.deadlines import Deadline
from screening.decision import Decision
from screening.engine import decide
from screening.enums import (
    CASE_TYPE_TEXT,
    DEPARTMENT_NAMES,
    GRADE_TEXT,
    SOURCE_CHANNEL_TEXT,
    CaseType,
    Department,
    Grade,
    SourceChannel,
)
from screening.facts import AreaHit, CoarseLocation, LeadFacts, NearbyHit, SpatialFacts
from screening.notices import Notice
from screening.obligor import ObligorId, ObligorIdError, validate_obligor_id
from screening.units import LEAGUES, REGION, REGION_CODE, Unit

__all__ = [
    "CASE_TYPE_TEXT",
    "DEPARTMENT_NAMES",
    "GRADE_TEXT",
    "LEAGUES",
    "REGION",
    "REGION_CODE",
    "RULEBOOK_VERSION",
    "SOURCE_CHANNEL_TEXT",
    "AreaHit",
    "CalendarFileError",
    "CaseType",
    "CoarseLocation",
    "Deadline",
    "Decision",
    "Department",
    "Grade",
    "LeadFacts",
    "NearbyHit",
    "Notice",
    "ObligorId",
    "ObligorIdError",
    "Period",
    "RulebookConfig",
    "RulebookConfigError",
    "SourceChannel",
    "SpatialFacts",
    "Unit",
    "WorkCalendar",
    "YearSchedule",
    "count_period",
    "decide",
    "parse_schedule",
    "validate_obligor_id",
]
