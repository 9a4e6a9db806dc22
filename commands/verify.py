"""`results verify-app` and `results verify-token`: check results online, or one token offline."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from results_online import config as cfg
from results_online.commands.common import EXIT_ERROR, default_keys
from results_online.errors import InvalidToken


def cmd_verify_token(args: argparse.Namespace) -> int:
    """results verify-token TOKEN --keyset PATH"""
    from results_online import token as tk
    from results_online.keyset import load_keyset

    text = args.token.strip()
    keyset = load_keyset(Path(args.keyset))
    try:
        signed = tk.from_qr_text(text) if "#" in text else tk.from_digits(text)
        data = tk.verify_token(keyset, signed)
    except InvalidToken:
        print("error: NOT VALID: this token was not signed by a key in the keyset, or it was"
              " changed", file=sys.stderr)
        print("hint: copy the whole QR text (…/q#digits) and give the board's keyset with"
              " --keyset", file=sys.stderr)
        return EXIT_ERROR
    print(f"VALID statement, signed by key {data.key_id.hex()}")
    print(f"  {data.name} ({data.candidate_number}), {data.test}, "
          f"{data.series_month:02d}/{data.series_year}, issued {data.issue_date}")
    for r in data.results:
        label = r.code or "overall"
        shown = r.status or (f"{r.grade} ({r.value})" if r.grade else str(r.value))
        print(f"  {label}: {shown}{' ' + r.cefr if r.cefr else ''}")
    return 0


def cmd_verify_app(args: argparse.Namespace) -> int:
    """results verify-app --index FILE --keyset PATH [--redis URL] [--trusted-proxy IP]"""
    import uvicorn

    from results_online.verify_app.app import create_app

    config = cfg.app_config(
        args.index, args.keyset, pepper=args.pepper,
        redis_url=args.redis or os.environ.get(cfg.REDIS_URL_ENV) or None,
        trusted_proxies=tuple(args.trusted_proxy), failures_per_id=args.failures_per_id,
        failures_per_address=args.failures_per_address, host=args.host, port=args.port,
        database_url=args.database or os.environ.get(cfg.DATABASE_ENV) or None,
        org_approval=args.org_approval, smtp=args.smtp, mail_from=args.mail_from,
        public_url=args.public_url, org_failures_per_id=args.org_failures_per_id,
        org_failures_per_org=args.org_failures_per_org,
        ipv6_prefix=args.ipv6_prefix, hsts_max_age=args.hsts_max_age)
    app = create_app(config)  # fails here, with a clear message, on a bad index or keyset
    print(f"verification app on http://{config.host}:{config.port}/"
          f" (limits in {'redis' if config.redis_url else 'memory'})", flush=True)
    # Our own trusted-proxy rule decides the client address, so uvicorn's is off.
    uvicorn.run(app, host=config.host, port=config.port, proxy_headers=False,
                server_header=False, log_level="info")
    return 0


def add_commands(sub: Any) -> None:
    """Add `results verify-app` and `results verify-token` to the command's subparsers."""
    v = sub.add_parser("verify-token", help="check a token or QR URL against a keyset")
    v.add_argument("token", help="the QR text, or the token as decimal digits")
    v.add_argument("--keyset", default=default_keys(), help="keyset JSON or key store folder")
    v.set_defaults(func=cmd_verify_token)

    a = sub.add_parser("verify-app", help="run the verification app (ID + secret, QR status)")
    a.add_argument("--index", required=True, help="OUT/private/verify.sqlite from a build")
    a.add_argument("--keyset", default=default_keys(),
                   help="the key store folder (keyset.json and pepper), or a keyset JSON")
    a.add_argument("--pepper", help="the pepper file (default: beside the keyset)")
    a.add_argument("--redis", help="share failure limits through Redis, redis://host:port/db "
                                   f"(or set {cfg.REDIS_URL_ENV})")
    a.add_argument("--trusted-proxy", action="append", default=[], metavar="IP",
                   help="a proxy whose X-Forwarded-For is believed (IP or CIDR; repeatable)")
    a.add_argument("--failures-per-id", type=int, default=None,
                   help="secret-number failures per candidate ID per day (default: the budget "
                        "the build sized for the series' shortest secret, under 1%% a year)")
    a.add_argument("--failures-per-address", type=int, default=cfg.FAILURES_PER_ADDRESS,
                   help="per client address per day, for secret numbers and share codes each")
    a.add_argument("--database", help="organisations: sqlite:///FILE or postgresql://… when "
                                      "replicas run (default: orgs.sqlite beside --index)")
    a.add_argument("--org-approval", action="store_true",
                   help="self-registered organisations wait for `results orgs approve`")
    a.add_argument("--smtp", help="HOST:PORT of the relay for registration e-mails "
                                  "(without it, organisations cannot register themselves)")
    a.add_argument("--mail-from", help="From address of those e-mails")
    a.add_argument("--public-url", help="the app's public address, for those e-mails")
    a.add_argument("--org-failures-per-id", type=int, default=cfg.ORG_FAILURES_PER_ID,
                   help="one organisation's failures per candidate ID per day")
    a.add_argument("--org-failures-per-org", type=int, default=cfg.ORG_FAILURES_PER_ORG,
                   help="one organisation's failures per day")
    a.add_argument("--ipv6-prefix", type=int, default=cfg.IPV6_PREFIX,
                   help="IPv6 clients share a budget per network of this many bits")
    a.add_argument("--hsts-max-age", type=int, default=cfg.HSTS_MAX_AGE,
                   help="Strict-Transport-Security max-age on HTTPS requests (0: off)")
    a.add_argument("--host", default=cfg.LOCALHOST, help="address to listen on")
    a.add_argument("--port", type=int, default=cfg.APP_PORT, help="port to listen on")
    a.set_defaults(func=cmd_verify_app)
