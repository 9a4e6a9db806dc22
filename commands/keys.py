"""`results keys`: create, rotate and export the signing keys (and the DKIM and seal keys)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_online import config as cfg
from results_online.commands.common import default_keys


def cmd_keys(args: argparse.Namespace) -> int:
    """results keys init|rotate|export"""
    from results_online.keys import store
    from results_online.keyset import load_keyset

    folder = Path(args.keys)
    today = cfg.parse_day(args.valid_from, "--valid-from") if args.valid_from else \
        datetime.now(UTC).date()
    passphrase = cfg.passphrase_from(os.environ)
    if args.action == "init":
        kid = store.init_keys(folder, today, passphrase)
        print(f"created key store {folder} with signing key {kid.hex()}")
        if args.seal_cert:
            from results_online.keys.seal import init_seal_cert

            init_seal_cert(folder, args.seal_name, datetime.now(UTC), passphrase)
            print(f"created a PDF seal (ECDSA P-256, self-signed for {args.seal_name!r}) in "
                  f"{folder}/seal; replace seal.crt with a certificate issued for seal.key "
                  "to have readers trust it")
    elif args.action == "rotate":
        kid = store.rotate_keys(folder, today, passphrase)
        print(f"new signing key {kid.hex()} is active; the old one still verifies what it signed")
    elif args.action == "dkim":
        made = not (folder / store.DKIM_FILE).exists()
        record = store.init_dkim_key(folder) if made else store.dkim_dns_record(folder)
        print(f"{'created' if made else 'the'} DKIM key in {folder}; publish this TXT record at "
              f"SELECTOR._domainkey.DOMAIN (DOMAIN: the From address's):\n{record}")
    else:
        sys.stdout.write(load_keyset(folder).to_json())
    return 0


def add_commands(sub: Any) -> None:
    """Add `results keys` to the command's subparsers."""
    k = sub.add_parser("keys", help="create, rotate or export signing keys")
    k.add_argument("action", choices=["init", "rotate", "export", "dkim"],
                   help="dkim: make (once) the mail signing key and print its DNS record")
    k.add_argument("--keys", default=default_keys(), help="the key store folder")
    k.add_argument("--valid-from", metavar="DATE",
                   help="init/rotate: the new key signs statements issued from this date "
                        "(YYYY-MM-DD; default today)")
    k.add_argument("--seal-cert", action="store_true",
                   help="init: also make a PDF seal key and self-signed certificate; every "
                        "PDF the build writes then carries a PAdES signature")
    k.add_argument("--seal-name", default="Results Online",
                   help="init --seal-cert: the certificate's name (the awarding body)")
    k.set_defaults(func=cmd_keys)
