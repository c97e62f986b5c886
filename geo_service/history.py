"""Import historical cases (established earlier damage) so the two-year rule works from day one.

第十五条第五款第（二）项: the same obligor causing damage again within two years must be claimed
even if minor. Only established damage counts (a filed case or a recorded historical case); this
module records the latter from a CSV: obligor_id, damage_date, case_ref, note.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_service.db.models import HistoricalCase
from geo_service.errors import FieldError, InvalidInput, RuleConflict
from geo_service.layer_store import audit, now
from geo_service.schemas import check_date_range, text_problem, today_in_china
from screening.obligor import ObligorIdError, validate_obligor_id

COLUMNS = ("obligor_id", "damage_date", "case_ref", "note")
REQUIRED = ("obligor_id", "damage_date")
# Chinese headers people put in spreadsheets, mapped to the columns.
HEADER_ALIASES = {
    "赔偿义务人证件号码": "obligor_id",
    "统一社会信用代码": "obligor_id",
    "证件号码": "obligor_id",
    "损害发生日期": "damage_date",
    "损害日期": "damage_date",
    "日期": "damage_date",
    "案号": "case_ref",
    "案件编号": "case_ref",
    "备注": "note",
}
MAX_ROWS = 100_000
_DATE_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


class HistoryFileError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def parse_date(text: str) -> date:
    text = text.strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"日期 {text} 不存在（月份或日期超出范围）。") from None
    raise ValueError(f"日期 {text!r} 格式无法识别：请用 YYYY-MM-DD，如 2025-03-01。")


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HistoryFileError("文件编码无法识别：请保存为 UTF-8 的 CSV。")


def _header(names: Sequence[str] | None) -> dict[str, str]:
    if not names:
        raise HistoryFileError(f"CSV 没有表头：首行应为 {', '.join(COLUMNS)}。")
    mapping: dict[str, str] = {}
    for name in names:
        key = (name or "").strip()
        column = key.lower() if key.lower() in COLUMNS else HEADER_ALIASES.get(key)
        if column:
            mapping[name] = column
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise HistoryFileError(
            f"CSV 表头缺少列 {', '.join(missing)}；"
            f"应为 {', '.join(COLUMNS)}（case_ref、note 可选）。"
        )
    return mapping


def validate_rows(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(valid rows, rejected rows with line numbers and reasons, rows read)."""
    reader = csv.DictReader(io.StringIO(text))
    mapping = _header(reader.fieldnames)
    today = today_in_china()
    valid: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    count = 0
    for raw in reader:
        count += 1
        if count > MAX_ROWS:
            raise HistoryFileError(f"一次最多导入 {MAX_ROWS:,} 行，请分批导入。")
        line = reader.line_num
        row = {mapping[k]: (v or "").strip() for k, v in raw.items() if k in mapping}
        if not any(row.values()):
            continue
        problems: list[str] = []
        obligor = None
        try:
            obligor = validate_obligor_id(row.get("obligor_id", "")).value
        except ObligorIdError as exc:
            problems.append(f"obligor_id：{exc.message_zh}")
        damage = None
        try:
            damage = parse_date(row.get("damage_date", ""))
            if damage > today:
                problems.append(f"damage_date：日期 {damage} 晚于今天，请核对。")
            else:
                check_date_range(damage)
        except ValueError as exc:
            problems.append(f"damage_date：{exc}")
        if len(row.get("case_ref", "")) > 200:
            problems.append("case_ref：过长（最多 200 个字符）。")
        for column in ("case_ref", "note"):
            if problem := text_problem(row.get(column) or ""):
                problems.append(f"{column}：{problem}")
        if problems:
            rejected.append({"line": line, "reasons": problems})
            continue
        valid.append(
            {
                "line": line,
                "obligor_id": obligor,
                "damage_date": damage,
                "case_ref": row.get("case_ref", ""),
                "note": row.get("note") or None,
            }
        )
    return valid, rejected, count


def import_history_csv(session: Session, raw: bytes | str, *, actor: str) -> ImportReport:
    """Validate and store historical cases; the same (obligor, date, case_ref) is skipped.

    Raises HistoryFileError when the file as a whole is unusable. Commits.
    """
    try:
        valid, rejected, count = validate_rows(_decode(raw))
    except HistoryFileError as exc:
        raise InvalidInput(str(exc), [FieldError("file", str(exc))]) from None
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        message = f"CSV 格式有误，无法逐行读取（{exc}）：请检查引号是否成对、单元格是否过长。"
        raise InvalidInput(message, [FieldError("file", message)]) from None
    report = ImportReport(rows=count, rejected=rejected)
    seen: set[tuple[str, date, str]] = set()
    existing: set[tuple[str, date, str]] = set()
    obligors = sorted({r["obligor_id"] for r in valid})
    for start in range(0, len(obligors), 500):
        chunk = obligors[start : start + 500]
        existing.update(
            session.execute(
                select(
                    HistoricalCase.obligor_id, HistoricalCase.damage_date, HistoricalCase.case_ref
                ).where(HistoricalCase.obligor_id.in_(chunk))
            ).all()
        )
    stamp = now()
    for r in valid:
        key = (r["obligor_id"], r["damage_date"], r["case_ref"])
        if key in existing or key in seen:
            report.duplicates.append({"line": r["line"], "reason": "与已有记录重复，已跳过。"})
            continue
        seen.add(key)
        session.add(
            HistoricalCase(
                obligor_id=r["obligor_id"],
                damage_date=r["damage_date"],
                case_ref=r["case_ref"],
                note=r["note"],
                imported_at=stamp,
                imported_by=actor,
            )
        )
        report.imported += 1
    audit(
        session,
        actor,
        "history_imported",
        "historical_case",
        None,
        {
            "rows": report.rows,
            "imported": report.imported,
            "duplicates": len(report.duplicates),
            "rejected": len(report.rejected),
        },
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise RuleConflict(
            "另一次导入同时写入了相同的记录，本次未保存：请重新导入（重复行会自动跳过）。"
        ) from None
    return report
