"""A lead's course (第十五条) as a table that reads like the regulation (docs/rules.md §R5.4)."""

from __future__ import annotations

import pytest

from screening.lifecycle import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    FilingDecision,
    FilingRefused,
    Status,
    check_minor_ground,
    check_transition,
    establishes_damage,
)

F, N, T = FilingDecision.FILE, FilingDecision.NOT_FILE, FilingDecision.TERMINATE


@pytest.mark.parametrize(
    ("status", "grounds", "established"),
    [
        pytest.param("filed", [], True, id="立案：损害已认定"),
        pytest.param("terminated", ["already_paid"], True, id="终止：立案时已认定"),
        pytest.param("not_filed", ["minor"], True, id="以显著轻微不启动：损害已认定"),
        pytest.param("not_filed", ["already_paid"], True, id="已履行赔偿义务：损害已认定"),
        pytest.param("not_filed", ["court_judgment"], True, id="生效裁判已涵盖：损害已认定"),
        pytest.param("not_filed", ["lawful_discharge"], True, id="依法持证排污（五）"),
        pytest.param("not_filed", ["other"], True, id="其他情形（六）"),
        pytest.param("not_filed", ["obligor_gone"], False, id="义务人终止（四）：未涉损害认定"),
        pytest.param("excluded", [], False, id="第十二条第二款已修复：不予筛查"),
        pytest.param("preliminary_check", [], False, id="初步核查中：尚未认定"),
        pytest.param("received", [], False, id="已接收：尚未认定"),
    ],
)
def test_which_leads_establish_earlier_damage(
    status: str, grounds: list[str], established: bool
) -> None:
    """第十五条第五款第（二）项 赔偿义务人曾因违法行为造成生态环境损害."""
    assert establishes_damage(status, grounds) is established


def test_open_and_closed_are_defined_once_and_apart() -> None:
    assert set(OPEN_STATUSES) == {Status.RECEIVED, Status.PRELIMINARY_CHECK}
    assert set(CLOSED_STATUSES) == {Status.NOT_FILED, Status.EXCLUDED, Status.TERMINATED}
    assert Status.FILED not in {*OPEN_STATUSES, *CLOSED_STATUSES}  # in progress
    assert set(Status) == {*OPEN_STATUSES, *CLOSED_STATUSES, Status.FILED}


@pytest.mark.parametrize(
    ("status", "decision", "allowed"),
    [
        ("preliminary_check", F, True), ("preliminary_check", N, True),
        ("preliminary_check", T, False), ("filed", T, True), ("filed", F, False),
        ("filed", N, False), ("not_filed", F, False), ("excluded", N, False),
        ("terminated", T, False),
    ],
)  # fmt: skip
def test_transitions(status: str, decision: FilingDecision, allowed: bool) -> None:
    if allowed:
        check_transition(status, decision)
    else:
        with pytest.raises(FilingRefused) as err:
            check_transition(status, decision)
        assert err.value.kind == "conflict" and err.value.field == "decision"


def _minor(**kw: object) -> None:
    args: dict[str, object] = {
        "is_minor": True, "override": False, "override_reasons": [],
        "override_checked": False, "no_compensation_needed": True,
    }  # fmt: skip
    args.update(kw)
    check_minor_ground(N, ["minor"], **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "kind", "field"),
    [
        pytest.param({"override": True, "override_reasons": ["red_line"]}, "conflict", "grounds",
                     id="第十五条第五款：应当启动"),
        pytest.param({"no_compensation_needed": None}, "incomplete", "no_compensation_needed",
                     id="第十五条第二款第（三）项：且不需要赔偿"),
        pytest.param({"impact_only": True}, "incomplete", "no_obvious_impact_criterion",
                     id="第四十八条第（二）项：须写明判定标准"),
        pytest.param({"override": None}, "conflict", "override_checked",
                     id="第十五条第五款无法判断：须核实"),
    ],
)  # fmt: skip
def test_not_filing_on_minor_is_refused(kw: dict, kind: str, field: str) -> None:
    with pytest.raises(FilingRefused) as err:
        _minor(**kw)
    assert (err.value.kind, err.value.field) == (kind, field)


def test_not_filing_on_minor_passes_with_both_findings_and_no_override() -> None:
    _minor()
    _minor(override=None, override_checked=True)
    _minor(impact_only=True, impact_criterion=2)
    # Other grounds stand on their own (the override concerns ground （三） only).
    check_minor_ground(N, ["already_paid"], is_minor=True, override=True,
                       override_reasons=["red_line"], override_checked=False,
                       no_compensation_needed=None)  # fmt: skip
