"""An obligor's established earlier damage, as facts (docs/rules.md §R5.2).

第十五条第五款第（二）项: the same obligor causing damage again within two years must be claimed
even if minor. Earlier damage counts when a preliminary check established it — filed, not filed
on grounds （一）（二）（三）（五）（六）, terminated (screening.lifecycle.establishes_damage) — and
imported historical cases count too (the CSV import here: obligor_id, damage_date, case_ref, note).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_service.db.models import Filing, HistoricalCase, Lead
from geo_service.errors import FieldError, InvalidInput, RuleConflict
from geo_service.layer_store import audit, now
from geo_service.schemas import check_date_range, text_problem, today_in_china
from screening.facts import PriorDamage
from screening.lifecycle import CLOSED_STATUSES, Status, establishes_damage
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


# --- Earlier damage as facts ------------------------------------------------------------------

_DECIDED = (Status.FILED, *CLOSED_STATUSES)


def _lead_damage_date(lead: Lead) -> date | None:
    """The earlier lead's damage date: when it occurred, else when it was received."""
    if lead.occurred_on is not None:
        return lead.occurred_on
    try:
        value = (lead.request or {}).get("received_on")
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def earlier_damage(
    session: Session,
    obligor_ids: Collection[str] = (),
    name_keys: Collection[str] = (),
    *,
    exclude_lead_id: int | None = None,
) -> dict[str, list[PriorDamage]]:
    """Established earlier damage per obligor id and per name key (`name:<key>`).

    Leads count when their check established damage (filed, not filed on grounds 一/二/三/五/六,
    terminated); open and excluded leads do not. Imported historical cases count. The lead
    being screened is left out. Name keys match leads only (history rows carry ids).
    """
    out: dict[str, list[PriorDamage]] = defaultdict(list)
    ids = sorted({i for i in obligor_ids if i})
    keys = sorted({k for k in name_keys if k})
    leads: list[tuple[Lead, str]] = []
    for start in range(0, max(len(ids), len(keys)), 500):
        id_chunk, key_chunk = ids[start : start + 500], keys[start : start + 500]
        for column, chunk, prefix in (
            (Lead.obligor_id, id_chunk, ""),
            (Lead.obligor_name_key, key_chunk, "name:"),
        ):
            if not chunk:
                continue
            query = select(Lead).where(column.in_(chunk), Lead.status.in_(_DECIDED))
            if exclude_lead_id is not None:
                query = query.where(Lead.id != exclude_lead_id)
            for lead in session.scalars(query):
                owner = lead.obligor_id if prefix == "" else lead.obligor_name_key
                leads.append((lead, f"{prefix}{owner}"))
        if id_chunk:
            history = select(
                HistoricalCase.obligor_id, HistoricalCase.damage_date, HistoricalCase.case_ref
            ).where(HistoricalCase.obligor_id.in_(id_chunk))
            for obligor_id, d, ref in session.execute(history):
                out[obligor_id].append(PriorDamage(d, "history", None, ref or None, "id"))
    grounds = _latest_grounds(session, [lead.id for lead, _ in leads])
    for lead, owner in leads:
        on = _lead_damage_date(lead)
        if on is None or not establishes_damage(lead.status, grounds.get(lead.id, ())):
            continue
        by_name = owner.startswith("name:")
        out[owner].append(
            PriorDamage(on, "lead", lead.id, lead.title, "name" if by_name else "id")
        )
    return dict(out)


def _latest_grounds(session: Session, lead_ids: Sequence[int]) -> dict[int, list[str]]:
    """The grounds of each lead's latest filing decision."""
    out: dict[int, list[str]] = {}
    for start in range(0, len(lead_ids), 500):
        chunk = lead_ids[start : start + 500]
        rows = session.execute(
            select(Filing.lead_id, Filing.grounds).where(Filing.lead_id.in_(chunk)).order_by(
                Filing.id
            )
        )
        for lead_id, grounds in rows:
            out[lead_id] = list(grounds or [])
    return out


def obligor_priors(
    found: dict[str, list[PriorDamage]], obligor_id: str | None, name_key: str | None
) -> list[PriorDamage]:
    """One lead's earlier damage from `earlier_damage`'s answer: by id, else by name."""
    if obligor_id:
        return list(found.get(obligor_id, ()))
    if name_key:
        return list(found.get(f"name:{name_key}", ()))
    return []
