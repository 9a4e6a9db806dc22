"""`results centres add-recipient`: take in an exams officer's public key (from the enrol page)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_add_recipient(args: argparse.Namespace) -> int:
    """results centres add-recipient CENTRE RECIPIENT --series DIR"""
    from results_online.build.inputs.recipients import add_recipient

    csv_path = Path(args.series) / "centres.csv"
    if add_recipient(Path(args.series), args.centre, args.recipient):
        print(f"added the recipient to centre {args.centre} in {csv_path}; the centre's next "
              "bundle opens with its identity too")
    else:
        print(f"centre {args.centre} already lists this recipient; nothing changed")
    return 0


def add_commands(sub: Any) -> None:
    """Add `results centres …` to the command's subparsers."""
    c = sub.add_parser("centres", help="manage the centres of a series")
    actions = c.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add-recipient", help="add an exams officer's age public key "
                                                 "(age1…) to a centre in centres.csv")
    a.add_argument("centre", help="the centre number, as in centres.csv")
    a.add_argument("recipient", help="the public key the officer sent (age1…, from the "
                                     "enrol page or age-keygen)")
    a.add_argument("--series", required=True, help="the series folder holding centres.csv")
    a.set_defaults(func=cmd_add_recipient)
