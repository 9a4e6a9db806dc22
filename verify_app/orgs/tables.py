"""The organisation tables (SQLAlchemy Core); the migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

# unconfirmed -> (confirmed by e-mail) pending -> (approved by the board) active -> revoked;
# without board approval a confirmed organisation is active at once.
UNCONFIRMED, PENDING, ACTIVE, REVOKED = "unconfirmed", "pending", "active", "revoked"
STATUSES = (UNCONFIRMED, PENDING, ACTIVE, REVOKED)

organisations = Table(
    "organisations", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("confirm_digest", LargeBinary(32), unique=True),  # cleared once confirmed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("approved_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False, index=True),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("key_digest", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE.
audit = Table(
    "audit", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("request_id", String(32), nullable=False),  # one per API call; a batch shares it
    Column("row", Integer, nullable=False),  # 1-based row of the call
    Column("statement_id", String(32)),  # None unless matched
    Column("outcome", String(16), nullable=False),  # match, no_match, over_budget, invalid
)
