"""Helpers shared by the API tests (imported by name: tests/api is on sys.path)."""

from __future__ import annotations

import uuid

from stdnum.cn import uscc


def new_obligor_id() -> str:
    """A valid, unique 统一社会信用代码, so tests sharing a database never share an obligor."""
    body = "91150100" + uuid.uuid4().hex[:9].upper().replace("I", "A").replace("O", "B")
    body = "".join(c if c in "0123456789ABCDEFGHJKLMNPQRTUWXY" else "A" for c in body)
    return body + uscc.calc_check_digit(body)


def unique_ref() -> str:
    return uuid.uuid4().hex


POINT_HULUNBUIR = {"type": "Point", "coordinates": [119.76, 49.21]}  # 海拉尔区
POINT_HOHHOT = {"type": "Point", "coordinates": [111.75, 40.84]}
POINT_YINCHUAN = {"type": "Point", "coordinates": [106.27, 38.47]}  # 宁夏回族自治区
