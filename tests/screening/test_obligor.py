"""Obligor identifiers (第十五条第五款第（二）项 needs the same obligor), with reasons."""

from __future__ import annotations

import pytest
from rulebook_builders import in_league
from stdnum.cn import ric, uscc

from screening import LeadFacts, ObligorIdError, decide, validate_obligor_id

A = pytest.param
USCC = "91110000600037341L"
RIC = "360426199101010071"


def _wrong_check(number: str, calc) -> str:
    good = calc(number[:-1])
    bad = next(c for c in "0123456789" if c != good)
    return number[:-1] + bad


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        A(USCC, "uscc", USCC, id="统一社会信用代码"),
        A(RIC, "ric", RIC, id="居民身份证号码"),
        A(" 9111 0000 6000 3734 1l ", "uscc", USCC, id="空格和小写字母规范化"),
        A("11010519491231002x", "ric", "11010519491231002X", id="末位小写x"),
    ],
)
def test_valid_identifiers(text, kind, value) -> None:
    ob = validate_obligor_id(text)
    assert (ob.kind, ob.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        A("", "为空", id="空"),
        A("91110000600037341", "长度为 17 位", id="长度不对"),
        A("110105491231002", "15位旧版", id="15位旧身份证"),
        A(_wrong_check(USCC, uscc.calc_check_digit), "统一社会信用代码", id="信用代码校验码错"),
        A(_wrong_check(RIC, ric.calc_check_digit), "居民身份证号码", id="身份证校验码错"),
        A("36042619910231007X", "出生日期 19910231", id="出生日期无效"),
        A("9111000060003734IL", "不允许的字符 I", id="信用代码含字母I"),
        A("91AB0000600037341L", "前8位", id="前8位含字母"),
    ],
)
def test_invalid_identifiers_say_what_is_wrong(text, fragment) -> None:
    with pytest.raises(ObligorIdError) as err:
        validate_obligor_id(text)
    assert fragment in err.value.message_zh


def test_checksum_message_names_the_expected_digit() -> None:
    bad = _wrong_check(USCC, uscc.calc_check_digit)
    with pytest.raises(ObligorIdError) as err:
        validate_obligor_id(bad)
    assert "第18位应为 L" in err.value.message_zh and "校验码" in err.value.message_zh


def test_decision_reports_obligor(config, calendar) -> None:
    good = decide(LeadFacts(obligor_id=RIC), in_league(), config, calendar).to_dict()
    assert good["obligor"] == {"kind": "ric", "kind_name": "居民身份证号码", "value": RIC,
                               "valid": True}  # fmt: skip
    bad = decide(LeadFacts(obligor_id="123"), in_league(), config, calendar).to_dict()
    assert bad["obligor"]["valid"] is False
    assert "obligor_id_invalid" in {w["code"] for w in bad["warnings"]}
