"""Obligor identifiers (docs/rules.md §R5.2): 统一社会信用代码 (GB 32100) and 居民身份证号码
(GB 11643).

Checked with python-stdnum; the error says what is wrong (length, characters, date, checksum).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

_USCC_ALPHABET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")
_RIC_SHAPE = re.compile(r"^\d{17}[\dX]$")


class ObligorIdError(ValueError):
    """The identifier is not a valid USCC or RIC; `message_zh` says what is wrong."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


@dataclass(frozen=True, slots=True)
class ObligorId:
    kind: Literal["uscc", "ric"]
    value: str

    @property
    def kind_zh(self) -> str:
        return "统一社会信用代码" if self.kind == "uscc" else "居民身份证号码"


def validate_obligor_id(text: str) -> ObligorId:
    """The normalised identifier and its kind, or ObligorIdError naming the problem (§R5.2)."""
    checked = _checked(text or "")
    if isinstance(checked, str):
        raise ObligorIdError(checked)
    return checked


@lru_cache(maxsize=4096)
def _checked(text: str) -> ObligorId | str:
    """The identifier, or what is wrong with it (memoised: the same text, the same answer)."""
    try:
        return _validate(text)
    except ObligorIdError as exc:
        return exc.message_zh


def _validate(text: str) -> ObligorId:
    value = re.sub(r"[\s\-]", "", text).upper()
    if not value:
        raise ObligorIdError(
            "赔偿义务人证件号码为空：请填写18位统一社会信用代码或18位居民身份证号码。"
        )
    if len(value) == 15 and value.isdigit():
        raise ObligorIdError(f"{value} 是15位旧版居民身份证号码，请改填18位居民身份证号码。")
    if len(value) != 18:
        raise ObligorIdError(
            f"证件号码 {value} 长度为 {len(value)} 位：统一社会信用代码和居民身份证号码均为18位。"
        )
    ric_error = _ric_problem(value)
    if ric_error is None:
        return ObligorId("ric", value)
    uscc_error = _uscc_problem(value)
    if uscc_error is None:
        return ObligorId("uscc", value)
    # Report the kind the number most looks like.
    looks_like_ric = (
        _RIC_SHAPE.match(value) is not None
        and value[0] in "123456789"
        and (value[6:8] in ("18", "19", "20"))
    )
    raise ObligorIdError(ric_error if looks_like_ric else uscc_error)


def _ric_problem(value: str) -> str | None:
    if not _RIC_SHAPE.match(value):
        return "居民身份证号码应为17位数字加1位校验码（数字或X）"
    try:
        ric.get_birth_date(value)
    except ValidationError:
        return f"居民身份证号码 {value} 中的出生日期 {value[6:14]} 不是有效日期。"
    expected = ric.calc_check_digit(value)
    if value[-1] != expected:
        return (
            f"居民身份证号码 {value} 校验码错误：按前17位计算，第18位应为 {expected}，实际为 "
            f"{value[-1]}。请核对是否有数字录错。"
        )
    try:
        ric.validate(value)
    except ValidationError:
        return f"居民身份证号码 {value} 的地址码 {value[:6]} 不是有效的行政区划代码。"
    return None


def _uscc_problem(value: str) -> str | None:
    if not value[:8].isdigit():
        return (
            f"统一社会信用代码 {value} 的前8位（登记管理部门、机构类别和登记管理机关行政区划码）"
            "应全为数字。"
        )
    bad = sorted({c for c in value[8:] if c not in _USCC_ALPHABET})
    if bad:
        return (
            f"统一社会信用代码 {value} 含有不允许的字符 {'、'.join(bad)}"
            "（不使用字母 I、O、S、V、Z，也不能有符号）。"
        )
    expected = uscc.calc_check_digit(value)
    if value[-1] != expected:
        return (
            f"统一社会信用代码 {value} 校验码错误：按前17位计算，第18位应为 {expected}，实际为 "
            f"{value[-1]}。请核对是否有字符录错。"
        )
    try:
        uscc.validate(value)
    except ValidationError:
        return f"统一社会信用代码 {value} 格式不正确。"
    return None


_NAME_NOISE = re.compile(r"[\s\u3000·・,，.。:：;；'\"“”‘’()（）\[\]【】<>《》\-—_/\\]+")


def normalise_obligor_name(name: str | None) -> str | None:
    """The key an obligor's name is matched by when there is no identifier (docs/rules.md §R5.2):
    full-width folded (NFKC), case-folded, spaces and punctuation removed. None for no name."""
    if not name:
        return None
    key = _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name)).casefold()
    return key or None
