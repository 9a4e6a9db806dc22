"""`results orgs`: the operator's side of registered organisations (add, list, approve,
revoke, rotate keys, export an audit log). Thin: the work is in verify_app/orgs/store.py."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from results_online import config as cfg
from results_online.errors import ResultsError


def run(args: argparse.Namespace) -> int:
    """results orgs add|list|approve|revoke|rotate|audit: registered organisations"""
    from results_online.verify_app.orgs.store import OrgStore

    store = OrgStore(cfg.orgs_database(args.database, args.index))
    try:
        if args.action in ("list", "add"):
            _orgs_list_or_add(store, args)
            return 0
        org = store.find(args.name or "")
        if org is None:
            raise ResultsError(f"no organisation {args.name!r}",
                               hint="give its id or e-mail address from `results orgs list`")
        if args.action == "audit":
            _orgs_audit(store, org.id, args.out)
        else:
            _orgs_change(store, org.id, org.status, args)
        return 0
    finally:
        store.close()


def _orgs_list_or_add(store: Any, args: argparse.Namespace) -> None:
    from results_online.verify_app.orgs.keys import new_key

    if args.action == "list":
        for o in store.organisations():
            print(f"{o.id}\t{o.status}\t{o.email}\t{o.name}\tkeys: {' '.join(o.keys) or '-'}")
        return
    if not args.name or not args.email:
        raise ResultsError("`orgs add` needs the name and --email",
                           hint='results orgs add "University of X" --email a@x.example')
    key = new_key()
    org = store.add(args.name, args.email, key, datetime.now(UTC))
    print(f"added organisation {org.id} ({org.email}), active")
    print(f"API key (shown once, store it now): {key.text}")


def _orgs_audit(store: Any, org_id: int, out_path: str | None) -> None:
    from results_online.verify_app.orgs.audit import write_audit_csv

    if out_path is None:
        n = write_audit_csv(store.audit_log(org_id), sys.stdout)
    else:
        with open(out_path, "w", newline="", encoding="utf-8") as out:
            n = write_audit_csv(store.audit_log(org_id), out)
    print(f"{n} audit entries of organisation {org_id}", file=sys.stderr)


def _orgs_change(store: Any, org_id: int, status: str, args: argparse.Namespace) -> None:
    from results_online.verify_app.orgs.keys import new_key
    from results_online.verify_app.orgs.tables import ACTIVE, REVOKED

    now = datetime.now(UTC)
    if args.action == "rotate":
        key = new_key()
        store.rotate(org_id, args.key, key, now)
        print(f"new API key (shown once, store it now): {key.text}")
        if args.key:
            print(f"key {args.key} is revoked")
    elif args.action == "revoke" and args.key:
        if not store.revoke_key(args.key, now, org_id):
            raise ResultsError(f"organisation {org_id} has no live key {args.key}")
        print(f"key {args.key} of organisation {org_id} is revoked")
    elif store.set_status(org_id, ACTIVE if args.action == "approve" else REVOKED, now):
        print(f"organisation {org_id} is {'active' if args.action == 'approve' else 'revoked'}")
    else:
        raise ResultsError(f"organisation {org_id} is {status}: cannot {args.action} it")


def add_commands(sub: Any) -> None:
    """`results orgs`: the operator's side of registered organisations."""
    o = sub.add_parser("orgs", help="registered organisations: add, list, approve, revoke, "
                                    "rotate keys, export the audit log")
    o.add_argument("action", choices=["add", "list", "approve", "revoke", "rotate", "audit"])
    o.add_argument("name", nargs="?", help="add: the organisation's name; otherwise its id "
                                          "or e-mail address")
    o.add_argument("--email", help="add: the organisation's contact address")
    o.add_argument("--key", help="revoke/rotate: this key id only (see `list`)")
    o.add_argument("--out", help="audit: write the CSV to this file (default: stdout)")
    o.add_argument("--database", help="sqlite:///FILE or postgresql://user@host/db "
                                      f"(or set {cfg.DATABASE_ENV})")
    o.add_argument("--index", help="the app's verify.sqlite: use the orgs.sqlite beside it")
    o.set_defaults(func=run)
