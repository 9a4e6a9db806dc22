"""A registered organisation's checks: budget, match, audit, for one row or a thousand.

Per row the work is the same whatever the outcome: the keyed hash and the match in the
in-memory index run for every well-formed row (on the event loop for a few rows, in the
threadpool for a batch), the budget is read before the match is looked at and decides
independently of it, and every row gets one audit entry (or one per matched statement).
API keys are checked in the database, concurrent requests' in one query, and an active
organisation's key is then kept for ``key_cache_seconds`` (``KeyCache``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from results_online.crypto import Random
from results_online.verify_app.lookup import Check, VerificationIndex
from results_online.verify_app.orgs.batching import Batcher, threaded
from results_online.verify_app.orgs.budget import OrgBudget
from results_online.verify_app.orgs.keycache import KeyCache
from results_online.verify_app.orgs.keys import digest
from results_online.verify_app.orgs.pgaudit import AsyncAudit
from results_online.verify_app.orgs.rows import Answer, Pair
from results_online.verify_app.orgs.store import AuditEntry, Caller, OrgStore
from results_online.verify_app.orgs.tables import ACTIVE

log = logging.getLogger("results_online.verify_app.orgs")

MATCH, NO_MATCH, OVER_BUDGET, INVALID = "match", "no_match", "over_budget", "invalid"
LOOP_ROWS = 10  # a request with more rows matches them in the threadpool


class OrgVerifier:
    """Checks on behalf of an authenticated organisation."""

    def __init__(self, index: VerificationIndex, store: OrgStore, budget: OrgBudget,
                 clock: Callable[[], datetime], random: Random = os.urandom, *,
                 key_cache_seconds: float = 0, audit_writer: AsyncAudit | None = None) -> None:
        """Match in ``index``, count failures in ``budget``, log in ``store`` (through
        ``audit_writer`` on the event loop, when given)."""
        self.index = index
        self.store = store
        self.audit: Batcher[list[AuditEntry], None] = Batcher(
            audit_writer.record_many if audit_writer else threaded(store.record_many))
        self.front: Batcher[bytes, Caller | None] = Batcher(threaded(store.authenticate_many))
        self.keys = KeyCache(key_cache_seconds)
        self.budget = budget
        self.clock = clock
        self.random = random
        self._writer = audit_writer

    def close(self) -> None:
        """Close the audit writer's connection, if it has one."""
        if self._writer is not None:
            self._writer.close()

    async def authorise(self, key_text: str | None) -> Caller | None:
        """Who holds this key: from the cache, else from one query that concurrent
        requests share."""
        if not key_text:
            return None
        key_digest = digest(key_text)
        caller = self.keys.get(key_digest)
        if caller is None:
            asked_at = self.keys.now()
            caller = await self.front.submit(key_digest)
            if caller is not None and caller.status == ACTIVE:
                self.keys.put(key_digest, caller, asked_at)
        return caller

    def forget(self, key_text: str | None) -> None:
        """Stop trusting a key this process has just revoked."""
        if key_text:
            self.keys.forget(digest(key_text))

    async def check(self, caller: Caller, rows: Sequence[Pair | None]) -> list[Answer]:
        """Answer every row in order; the audit log has them all before this returns."""
        if len(rows) <= LOOP_ROWS:  # microseconds a row: less than a thread hop
            checks = self._match_all(rows)
        else:
            checks = await run_in_threadpool(self._match_all, rows)
        answers: list[Answer] = []
        outcomes: list[str] = []
        for n, found in enumerate(checks, start=1):
            if found is None:
                answers.append(Answer(n, INVALID))
                outcomes.append(INVALID)
                continue
            outcome = await self._decide(caller.org_id, found)
            outcomes.append(outcome)
            answers.append(Answer(n, MATCH, found.statements) if outcome == MATCH
                           else Answer(n, NO_MATCH))
        await self.audit.submit(self._entries(caller, answers, outcomes))
        log.info("org %d checked %d row(s)", caller.org_id, len(rows))
        return answers

    def _match_all(self, rows: Sequence[Pair | None]) -> list[Check | None]:
        return [None if r is None else self.index.check(*r) for r in rows]

    async def _decide(self, org_id: int, found: Check) -> str:
        key = self.budget.key(org_id, found.key)
        async with self.budget.lock(key):
            allowed = await self.budget.allowed(org_id, key)
            if allowed and found.matched:
                return MATCH
            await self.budget.failed(org_id, key)
        return NO_MATCH if allowed else OVER_BUDGET

    def _entries(self, caller: Caller, answers: Sequence[Answer],
                 outcomes: Sequence[str]) -> list[AuditEntry]:
        now = self.clock()
        request_id = self.random(12).hex()
        entries = []
        for a, outcome in zip(answers, outcomes, strict=True):
            ids: list[str | None] = [str(s["statement_id"]) for s in a.statements] or [None]
            entries += [AuditEntry(caller.org_id, now, caller.key_id, request_id, a.row, sid,
                                   outcome) for sid in ids]
        return entries
