"""A registered organisation's checks: budget, match, audit, for one row or a thousand.

Per row the work is the same whatever the outcome: the keyed hashes and the index
query run for every well-formed row (in the threadpool, all rows in one go), the
budget is read before the match is looked at and decides independently of it, and
every row gets one audit entry (or one per matched statement).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from results_online.crypto import Random
from results_online.verify_app.lookup import Check, VerificationIndex
from results_online.verify_app.orgs.batching import Batcher
from results_online.verify_app.orgs.budget import OrgBudget
from results_online.verify_app.orgs.keys import digest
from results_online.verify_app.orgs.rows import Answer, Pair
from results_online.verify_app.orgs.store import AuditEntry, Caller, OrgStore
from results_online.verify_app.orgs.tables import ACTIVE

log = logging.getLogger("results_online.verify_app.orgs")

MATCH, NO_MATCH, OVER_BUDGET, INVALID = "match", "no_match", "over_budget", "invalid"
SHARED_ROWS = 10  # a request with more rows matches them in a thread call of its own
Front = tuple[Caller | None, list[Check | None] | None]


class OrgVerifier:
    """Checks on behalf of an authenticated organisation."""

    def __init__(self, index: VerificationIndex, store: OrgStore, budget: OrgBudget,
                 clock: Callable[[], datetime], random: Random = os.urandom) -> None:
        """Match in ``index``, count failures in ``budget``, log in ``store``."""
        self.index = index
        self.store = store
        self.audit: Batcher[list[AuditEntry], None] = Batcher(store.record_many)
        self.front: Batcher[tuple[bytes, Sequence[Pair | None]], Front] = Batcher(self._front)
        self.budget = budget
        self.clock = clock
        self.random = random

    async def authorise(self, key_text: str | None, rows: Sequence[Pair | None] = ()
                        ) -> Front:
        """Who holds this key and, for a few rows, their matches: one thread call that
        concurrent requests share (an unknown key gets no matching done)."""
        if not key_text:
            return None, None
        small = rows if len(rows) <= SHARED_ROWS else ()
        caller, checks = await self.front.submit((digest(key_text), small))
        return caller, checks if small else None

    def _front(self, items: list[tuple[bytes, Sequence[Pair | None]]]) -> list[Front]:
        callers = self.store.authenticate_many([key for key, _ in items])
        return [(c, self._match_all(rows) if c is not None and c.status == ACTIVE else [])
                for c, (_, rows) in zip(callers, items, strict=True)]

    async def check(self, caller: Caller, rows: Sequence[Pair | None],
                    checks: Sequence[Check | None] | None = None) -> list[Answer]:
        """Answer every row in order (``checks``: their matches, if already made); the audit
        log has them all before this returns."""
        if checks is None:
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
