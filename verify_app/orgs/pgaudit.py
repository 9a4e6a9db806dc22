"""Audit entries written to PostgreSQL from the event loop, through psycopg's AsyncConnection.

The blocking write (``OrgStore.record``) cost each shared call a hand-off to Starlette's
threadpool and back, and the thread then fought the event loop for the GIL while it
sent the rows. Here the shared call's entries go as one ``COPY`` (atomic as one
statement, in autocommit) on a connection this writer keeps for its event loop, so the
loop only waits on the socket. A write that fails drops the connection (the next call
opens another) and raises as SQLAlchemy does, so the checks it carried answer 503; it
is never sent again, since the log must not hold an entry twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg
from sqlalchemy.exc import DBAPIError

from results_online.verify_app.orgs.store import AUDIT_COPY, AuditEntry, audit_row


class AsyncAudit:
    """Appends audit entries to the PostgreSQL database at ``url``."""

    def __init__(self, url: str) -> None:
        """Write to ``url`` (``postgresql://…``), connecting on first use."""
        self._url = url  # may hold a password: never logged, never in an error
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def record_many(self, groups: Sequence[Sequence[AuditEntry]]) -> list[None]:
        """The entries of many checks, all or none, in one statement."""
        entries = [e for group in groups for e in group]
        if entries:
            try:
                connection = await self._connected()
                async with connection.cursor() as cur, cur.copy(AUDIT_COPY) as copy:
                    for e in entries:
                        await copy.write_row(audit_row(e))
            except psycopg.Error as exc:  # the message may quote values: never passed on
                self.close()
                raise DBAPIError("COPY audit", None, exc) from None
            except BaseException:  # cancelled mid-write: the connection's state is unknown
                self.close()
                raise
        return [None] * len(groups)

    async def _connected(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        loop = asyncio.get_running_loop()
        if self._connection is None or self._loop is not loop or self._connection.closed:
            self.close()  # one made on another event loop cannot be used on this one
            self._connection = await psycopg.AsyncConnection.connect(self._url,
                                                                     autocommit=True)
            self._loop = loop
        return self._connection

    def close(self) -> None:
        """Close the connection, from any event loop or none (libpq's own close)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.pgconn.finish()
