"""Organisations, their API keys and the append-only audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)
_REFUSE = "the audit log is append-only"


def upgrade() -> None:
    """Create the three tables and the triggers that keep the audit log append-only."""
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confirm_digest", sa.LargeBinary(32), unique=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("confirmed_at", _WHEN),
        sa.Column("approved_at", _WHEN),
        sa.Column("revoked_at", _WHEN),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False, unique=True),
        sa.Column("key_digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN),
    )
    op.create_index("ix_api_keys_org_id", "api_keys", ["org_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("statement_id", sa.String(32)),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_audit_org_id", "audit", ["org_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                   "ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
                       f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def downgrade() -> None:
    """Drop everything this revision made."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_append_only ON audit")
        op.execute("DROP FUNCTION audit_append_only()")
    op.drop_table("audit")
    op.drop_table("api_keys")
    op.drop_table("organisations")
