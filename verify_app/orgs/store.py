"""Organisation accounts, API keys and the audit log in SQLite or PostgreSQL.

Every method is blocking (SQLAlchemy Core over sqlite3 or psycopg): the app calls
them from Starlette's threadpool, never on the event loop (the hot path's audit writes
to PostgreSQL go through ``pgaudit`` instead). The schema is Alembic's
(migrations/); ``migrate`` brings any database to the newest revision.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from results_online.errors import ConfigError
from results_online.verify_app.orgs.keys import NewKey
from results_online.verify_app.orgs.tables import (
    ACTIVE,
    PENDING,
    REVOKED,
    UNCONFIRMED,
    api_keys,
    audit,
    organisations,
)

MIGRATIONS = Path(__file__).parent / "migrations"
CONFIRM_WITHIN = timedelta(days=2)  # a confirmation code expires after this
_MIGRATION_LOCK = 0x5245534F  # PostgreSQL advisory lock id: replicas migrate one at a time


@dataclass(frozen=True)
class Organisation:
    """One registered organisation, as the operator lists it."""

    id: int
    name: str
    email: str
    status: str
    created_at: datetime
    keys: tuple[str, ...] = ()  # ids of its live API keys


@dataclass(frozen=True)
class Caller:
    """Who an API key belongs to."""

    org_id: int
    key_id: str
    status: str  # the organisation's status: only ACTIVE may verify


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: never a candidate's secret or share code."""

    org_id: int
    at: datetime
    key_id: str
    request_id: str
    row: int
    statement_id: str | None
    outcome: str


def is_postgresql(url: str) -> bool:
    """Whether the organisations database at ``url`` is PostgreSQL."""
    return url.startswith("postgresql://")


def engine_for(url: str, **options: Any) -> Engine:
    """An engine for ``sqlite:///FILE`` or ``postgresql://…`` (driven by psycopg 3)."""
    if is_postgresql(url):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, **options)  # WAL: reads go on while the log is appended
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping (it costs a round trip per request): a connection the server dropped
    # fails one request and is replaced. As many as Starlette's threadpool has threads.
    return create_engine(url, pool_size=20, max_overflow=20, pool_recycle=1800, **options)


def _sqlite_pragmas(con: object, record: object) -> None:
    cur = con.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest revision (replicas of PostgreSQL take turns)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"),
                               {"id": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# Built once: the hot path's statements (SQLAlchemy then reuses their compiled form).
_LIVE_KEYS = (select(api_keys.c.key_digest, api_keys.c.org_id, api_keys.c.key_id,
                     organisations.c.status)
              .join(organisations, organisations.c.id == api_keys.c.org_id)
              .where(api_keys.c.key_digest.in_(bindparam("digests", expanding=True)),
                     api_keys.c.revoked_at.is_(None)))
_APPEND = insert(audit)
AUDIT_FIELDS = tuple(c.name for c in audit.c if c.name != "id")  # AuditEntry's, in order
# PostgreSQL: one COPY, atomic as one statement, a few us a row (the INSERT of many rows
# cost ~19 us a row in SQLAlchemy and psycopg, and a BEGIN and a COMMIT).
AUDIT_COPY = "COPY audit ({}) FROM STDIN".format(", ".join(f'"{c}"' for c in AUDIT_FIELDS))


def audit_row(entry: AuditEntry) -> list[object]:
    """The entry's values in AUDIT_COPY's column order."""
    return [getattr(entry, c) for c in AUDIT_FIELDS]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


class OrgStore:
    """The accounts and the audit log of one database."""

    def __init__(self, url: str) -> None:
        """Open the database at ``url`` and migrate it; raise ConfigError if it is unusable."""
        self.engine = engine_for(url)
        # The hot path's single statements run on connections that stay in autocommit:
        # no BEGIN/COMMIT round trips, and each statement is atomic by itself.
        self._autocommit = engine_for(url, isolation_level="AUTOCOMMIT",
                                      pool_reset_on_return=None)  # no transaction to end
        try:
            migrate(self.engine)
        except Exception as exc:  # the drivers' errors vary; the URL may hold a password
            self.close()
            raise ConfigError(f"cannot open the organisations database ({type(exc).__name__})",
                              hint="check --database (sqlite:///FILE or "
                                   "postgresql://user@host/db)") from None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self._autocommit.dispose()

    def ping(self) -> None:
        """Run one trivial query; raise the driver's error if the database does not answer."""
        with self._autocommit.connect() as con:
            con.execute(text("SELECT 1"))

    def register(self, name: str, email: str, confirm_digest: bytes, now: datetime) -> bool:
        """Record a self-registration awaiting its e-mail confirmation; False if the address
        is registered already. A registration not yet confirmed is replaced: its old code
        stops working (only the address's owner ever sees either code)."""
        values = {"name": name, "status": UNCONFIRMED, "confirm_digest": confirm_digest,
                  "created_at": now}
        try:
            with self.engine.begin() as con:
                replaced = con.execute(update(organisations).where(
                    organisations.c.email == email.lower(),
                    organisations.c.status == UNCONFIRMED).values(**values)).rowcount
                if not replaced:
                    con.execute(insert(organisations).values(email=email.lower(), **values))
        except IntegrityError:
            return False
        return True

    def drop_registration(self, confirm_digest: bytes) -> None:
        """Forget an unconfirmed registration (its e-mail could not be sent)."""
        with self.engine.begin() as con:
            con.execute(delete(organisations).where(
                organisations.c.confirm_digest == confirm_digest,
                organisations.c.status == UNCONFIRMED))

    def confirm(self, confirm_digest: bytes, key: NewKey, now: datetime,
                approval: bool) -> Organisation | None:
        """Confirm the registration with this code and give it ``key``; None if no live code."""
        status = PENDING if approval else ACTIVE
        with self.engine.begin() as con:
            row = con.execute(select(organisations.c.id, organisations.c.created_at).where(
                organisations.c.confirm_digest == confirm_digest,
                organisations.c.status == UNCONFIRMED)).first()
            if row is None or _aware(row.created_at) + CONFIRM_WITHIN < now:
                return None
            con.execute(update(organisations).where(organisations.c.id == row.id).values(
                status=status, confirm_digest=None, confirmed_at=now,
                approved_at=None if approval else now))
            self._insert_key(con, row.id, key, now)
        return self.find(str(row.id))

    def add(self, name: str, email: str, key: NewKey, now: datetime) -> Organisation:
        """Add an organisation the board vouches for: active at once, with ``key``."""
        try:
            with self.engine.begin() as con:
                org_id = con.execute(insert(organisations).values(
                    name=name, email=email.lower(), status=ACTIVE, created_at=now,
                    confirmed_at=now, approved_at=now).returning(organisations.c.id)
                ).scalar_one()
                self._insert_key(con, org_id, key, now)
        except IntegrityError:
            raise ConfigError(f"an organisation with the address {email} exists",
                              hint="see `results orgs list`") from None
        found = self.find(str(org_id))
        assert found is not None
        return found

    @staticmethod
    def _insert_key(con: object, org_id: int, key: NewKey, now: datetime) -> None:
        con.execute(insert(api_keys).values(  # type: ignore[attr-defined]
            org_id=org_id, key_id=key.key_id, key_digest=key.digest, created_at=now))

    def organisations(self) -> list[Organisation]:
        """Every organisation, oldest first, with its live key ids."""
        with self.engine.connect() as con:
            orgs = con.execute(select(organisations).order_by(organisations.c.id)).all()
            live = con.execute(select(api_keys.c.org_id, api_keys.c.key_id).where(
                api_keys.c.revoked_at.is_(None)).order_by(api_keys.c.id)).all()
        keys: dict[int, list[str]] = {}
        for org_id, key_id in live:
            keys.setdefault(org_id, []).append(key_id)
        return [Organisation(o.id, o.name, o.email, o.status, _aware(o.created_at),
                             tuple(keys.get(o.id, ()))) for o in orgs]

    def find(self, ref: str) -> Organisation | None:
        """The organisation with this id or e-mail address."""
        ref = ref.strip().lower()
        return next((o for o in self.organisations()
                     if str(o.id) == ref or o.email == ref), None)

    def set_status(self, org_id: int, status: str, now: datetime) -> bool:
        """Approve (ACTIVE) or revoke (REVOKED) an organisation; False if it cannot be."""
        allowed_from = (PENDING,) if status == ACTIVE else (UNCONFIRMED, PENDING, ACTIVE)
        stamp = {"approved_at": now} if status == ACTIVE else {"revoked_at": now}
        with self.engine.begin() as con:
            done = con.execute(update(organisations).where(
                organisations.c.id == org_id, organisations.c.status.in_(allowed_from)
            ).values(status=status, **stamp)).rowcount
            if status == REVOKED and done:
                con.execute(update(api_keys).where(api_keys.c.org_id == org_id,
                                                   api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=now))
        return bool(done)

    def authenticate(self, key_digest: bytes) -> Caller | None:
        """Who holds the live key with this digest, or None."""
        return self.authenticate_many([key_digest])[0]

    def authenticate_many(self, digests: Sequence[bytes]) -> list[Caller | None]:
        """``authenticate`` for many digests in one query."""
        with self._autocommit.connect() as con:
            rows = con.execute(_LIVE_KEYS, {"digests": list(set(digests))}).all()
        found = {r.key_digest: Caller(r.org_id, r.key_id, r.status) for r in rows}
        return [found.get(d) for d in digests]

    def rotate(self, org_id: int, old_key_id: str | None, key: NewKey, now: datetime) -> None:
        """Give the organisation ``key`` and revoke ``old_key_id`` (or none) in one step;
        raise ConfigError, changing nothing, if the organisation has no such live key."""
        with self.engine.begin() as con:
            if old_key_id is not None and not con.execute(update(api_keys).where(
                    api_keys.c.org_id == org_id, api_keys.c.key_id == old_key_id,
                    api_keys.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount:
                raise ConfigError(f"organisation {org_id} has no live key {old_key_id}",
                                  hint="see the key ids in `results orgs list`")
            self._insert_key(con, org_id, key, now)

    def revoke_key(self, key_id: str, now: datetime, org_id: int | None = None) -> bool:
        """Revoke one key (of ``org_id``, when given); False if no such live key."""
        where = [api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)]
        if org_id is not None:
            where.append(api_keys.c.org_id == org_id)
        with self.engine.begin() as con:
            return bool(con.execute(update(api_keys).where(*where)
                                    .values(revoked_at=now)).rowcount)

    def record_many(self, groups: Sequence[Sequence[AuditEntry]]) -> list[None]:
        """``record`` for the entries of many requests, in one transaction."""
        self.record([e for group in groups for e in group])
        return [None] * len(groups)

    def record(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries to the audit log, all or none."""
        if entries and self._autocommit.dialect.name == "postgresql":
            self._copy(entries)
            return
        rows = [e.__dict__ for e in entries]
        if len(rows) == 1:
            with self._autocommit.connect() as con:
                con.execute(_APPEND, rows[0])
        elif rows:
            with self.engine.begin() as con:
                con.execute(_APPEND, rows)

    def _copy(self, entries: Sequence[AuditEntry]) -> None:
        with self._autocommit.connect() as con:
            raw: Any = con.connection.driver_connection  # psycopg's, in autocommit
            try:
                with raw.cursor() as cur, cur.copy(AUDIT_COPY) as copy:
                    for e in entries:
                        copy.write_row(audit_row(e))
            except Exception as exc:  # the driver's own error: as SQLAlchemy raises it
                con.invalidate()
                raise DBAPIError("COPY audit", None, exc) from None

    def audit_log(self, org_id: int) -> Iterator[AuditEntry]:
        """One organisation's audit log, oldest first."""
        query = select(audit).where(audit.c.org_id == org_id).order_by(audit.c.id)
        with self.engine.connect() as con:
            for r in con.execute(query):
                yield AuditEntry(r.org_id, _aware(r.at), r.key_id, r.request_id, r.row,
                                 r.statement_id, r.outcome)
