"""The audit log's hash chain: each row carries the previous row's hash and its own.

`row_hash = sha256(canonical JSON of {prev_hash, at, actor, action, entity, entity_id, detail})`;
the first row's `prev_hash` is 64 zeros. Changing, removing or inserting a row anywhere but at
the end breaks the chain at that row, which `geo-screen audit verify` names. Appends are
serialized (PostgreSQL: a transaction-scoped advisory lock; SQLite: the database write lock,
taken before the chain head is read) so concurrent writers never fork the chain.

Sessions from `geo_service.db.engine.make_sessionmaker` chain their entries at commit
(`chain_at_commit`): the transaction's other changes are flushed first, then the chain lock is
taken and only audit rows are inserted under it, so the lock is held for an instant and never
while waiting for another lock (no deadlocks with row locks taken in a different order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "geo-screen audit chain" (any fixed 64-bit number will do).
PG_CHAIN_LOCK = 0x6765_6F5F_6175_6474


def canonical_at(at: datetime) -> str:
    """A timestamp as both backends give it back: UTC, microseconds (SQLite drops the zone)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The detail as it reads back from the JSON column (tuples → lists, keys → strings)."""
    return json.loads(json.dumps(dict(detail or {}), ensure_ascii=False))


def chain_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: Mapping[str, Any],
) -> str:
    fields = {
        "prev_hash": prev_hash,
        "at": canonical_at(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "detail": detail,
    }
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def lock_chain_head(session: Session) -> str:
    """Take the chain's append lock for this transaction and return the current head hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(text(f"pg_advisory_xact_lock({PG_CHAIN_LOCK})")))
    else:
        # Any write statement makes SQLite take the database write lock (waiting up to the
        # busy timeout) and begin the transaction; the trigger-free no-op touches no row.
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))
    head = session.execute(
        text("SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).scalar_one_or_none()
    return head or GENESIS


PENDING_KEY = "audit_pending"
AT_COMMIT_KEY = "audit_chain_at_commit"


def append_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Chain and insert audit entries (dicts of AuditEntry fields without the hashes)."""
    from geo_service.db.models import AuditEntry

    if not entries:
        return
    prev_hash = lock_chain_head(session)
    rows = []
    for entry in entries:
        digest = chain_hash(
            prev_hash,
            entry["at"],
            entry["actor"],
            entry["action"],
            entry["entity"],
            entry["entity_id"],
            entry["detail"],
        )
        rows.append(AuditEntry(**entry, prev_hash=prev_hash, row_hash=digest))
        prev_hash = digest
    session.add_all(rows)
    session.flush()


def chain_at_commit(maker: Any) -> None:
    """Make sessions of `maker` (a sessionmaker) collect audit entries and chain them at commit."""
    from sqlalchemy import event

    @event.listens_for(maker, "before_commit")
    def _append(session: Session) -> None:
        pending = session.info.pop(PENDING_KEY, None)
        if pending:
            session.flush()  # every other change first, taking its row locks
            append_entries(session, pending)

    @event.listens_for(maker, "after_soft_rollback")
    def _discard(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:  # the outermost transaction: nothing happened
            session.info.pop(PENDING_KEY, None)


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    head: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_rows(rows: Iterable[Any]) -> ChainReport:
    """Walk rows (id order; attributes id, at, actor, action, entity, entity_id, detail,
    prev_hash, row_hash) and report the first that does not chain."""
    prev = GENESIS
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != prev:
            return ChainReport(
                count,
                prev,
                row.id,
                f"prev_hash {row.prev_hash!r} does not match the previous row's hash {prev!r} "
                "(a row before it was removed, inserted or changed)",
            )
        expected = chain_hash(
            row.prev_hash,
            row.at,
            row.actor,
            row.action,
            row.entity,
            row.entity_id,
            row.detail or {},
        )
        if row.row_hash != expected:
            return ChainReport(
                count, prev, row.id, "row_hash does not match the row's content (row changed)"
            )
        prev = row.row_hash
    return ChainReport(count, prev)


def verify_chain(session: Session, batch: int = 5_000) -> ChainReport:
    """Check the whole audit log, streaming it in id order."""
    from geo_service.db.models import AuditEntry

    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=batch)
    ).scalars()
    return verify_rows(rows)
