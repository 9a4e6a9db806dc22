"""Failure budgets of registered organisations, apart from the anonymous ones.

The project's ``Throttle`` again, in its own storage (memory) or key prefix (Redis):
its per-ID counter is keyed by (organisation, candidate) and its per-address counter
by organisation, so one organisation's failures never lock another's checks, and
anonymous lock-outs never reach any organisation.
"""

from __future__ import annotations

import asyncio
import hashlib

from limits import RateLimitItemPerDay
from limits.aio.strategies import MovingWindowRateLimiter

from results_online.verify_app.throttle import Throttle

NAMESPACE = "results-online-orgs"
REGISTRATIONS_PER_ADDRESS = 5  # per day: each one sends an e-mail to an address typed in


class OrgBudget:
    """Failures per (organisation, candidate ID) and per organisation, per day."""

    def __init__(self, per_candidate: int, per_org: int, redis_url: str | None) -> None:
        """Count in memory, or in Redis at ``redis_url`` (shared by replicas)."""
        self.throttle = Throttle(per_candidate, per_org, redis_url, namespace=NAMESPACE)
        self._registrations = RateLimitItemPerDay(REGISTRATIONS_PER_ADDRESS, namespace="reg")
        self._limiter = MovingWindowRateLimiter(self.throttle.storage)

    @staticmethod
    def key(org_id: int, candidate_key: bytes) -> bytes:
        """The counter of one organisation's checks of one candidate (from the ID's keyed hash)."""
        return hashlib.sha256(b"org:%d:" % org_id + candidate_key).digest()

    def lock(self, key: bytes) -> asyncio.Lock:
        """Serialise the checks of one (organisation, candidate) in this process."""
        return self.throttle.lock(key)

    async def allowed(self, org_id: int, key: bytes) -> bool:
        """Whether neither budget is used up."""
        return await self.throttle.allowed(key, _org(org_id))

    async def failed(self, org_id: int, key: bytes) -> None:
        """Count one failure against both budgets."""
        await self.throttle.failed(key, _org(org_id))

    async def may_register(self, address: str) -> bool:
        """Count a registration from ``address``; False once it has used its day's share."""
        return bool(await self._limiter.hit(self._registrations, address))

    async def healthy(self) -> bool:
        """Whether the limiter storage answers."""
        return await self.throttle.healthy()


def _org(org_id: int) -> str:
    return f"org-{org_id}"
