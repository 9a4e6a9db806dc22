"""The `results` command: parse arguments, call the library, print errors and hints.

The only module that prints ``error: …`` / ``hint: …`` and chooses exit codes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_online import config as cfg
from results_online.commands import centres
from results_online.commands import orgs as orgs_command
from results_online.errors import InvalidToken, ResultsError
from results_online.progress import Advance

EXIT_ERROR = 1


def _default_keys() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "results-online" / "keys")


@contextmanager
def _tqdm_progress(stage: str, total: int) -> Iterator[Advance]:
    from tqdm import tqdm

    with tqdm(total=total, desc=stage, unit="stmt", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def cmd_build(args: argparse.Namespace) -> int:
    """results build SERIES --keys DIR --out OUT"""
    from results_online.build.pipeline import build

    config = cfg.build_config(
        args.series, args.keys, args.out, now=args.now, workers=args.workers,
        batch_size=args.batch_size, show_progress=True, scheduler=args.scheduler,
    )
    report = build(config, progress=_tqdm_progress)
    print(f"built {report.statements} statements for {report.centres} centres"
          f" into {report.out_dir}")
    print(report.guessing)
    return 0


def cmd_amend(args: argparse.Namespace) -> int:
    """results amend SERIES --keys DIR --out OUT: re-render only the changed statements"""
    from results_online.build.pipeline import build

    config = cfg.build_config(
        args.series, args.keys, args.out, now=args.now, workers=args.workers,
        batch_size=args.batch_size, show_progress=True, scheduler=args.scheduler,
    )
    report = build(config, progress=_tqdm_progress, amend=True)
    print(f"amended {report.out_dir}: {report.rendered} new statement(s) rendered, "
          f"{report.retired} superseded or withdrawn in all, {report.statements} current")
    print(report.guessing)
    return 0


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


def cmd_notify(args: argparse.Namespace) -> int:
    """results notify OUT --smtp HOST:PORT [--now TIME]"""
    from results_online.build.release.send import SmtpServer, send_outbox
    from results_online.build.release.wire import DkimKey
    from results_online.keys.store import load_dkim_key

    config = cfg.notify_config(args.out, args.smtp, now=args.now, sender=args.sender,
                               dkim_selector=args.dkim_selector, keys=args.keys)
    dkim = (DkimKey(config.dkim_selector, load_dkim_key(config.keys))
            if config.dkim_selector and config.keys else None)
    report = send_outbox(config.out_dir / "private",
                         SmtpServer(config.smtp_host, config.smtp_port, config.sender,
                                    dkim=dkim),
                         config.now)
    print(f"sent {report.sent} message(s); {report.already} sent before")
    if report.next_release is not None:
        print(f"{report.waiting} message(s) wait for their release at "
              f"{report.next_release.isoformat()}: run `results notify` again then")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """results publish OUT --to s3://bucket/prefix [--endpoint URL] [--now TIME]"""
    from results_online.build.release.publish import S3Target, publish, s3_client

    config = cfg.publish_config(args.out, args.to, endpoint=args.endpoint, now=args.now)
    target = S3Target(config.bucket, config.prefix, config.endpoint)
    report = publish(config.out_dir, target, config.now, s3_client(target))
    print(f"published to s3://{config.bucket}/{config.prefix}: {report.uploaded} uploaded, "
          f"{report.unchanged} unchanged, {report.removed} withdrawn, "
          f"{report.waiting} not yet released")
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


def cmd_serve(args: argparse.Namespace) -> int:
    """results serve OUT [--port N]"""
    import uvicorn

    from results_online.preview import create_preview_app

    app = create_preview_app(Path(args.out))
    print(f"site preview of {Path(args.out) / 'site'} on http://{args.host}:{args.port}/",
          flush=True)
    # Access logs would show paths only (keys sit after '#'), but a preview needs none.
    uvicorn.run(app, host=args.host, port=args.port, server_header=False,
                log_level="warning", access_log=False)
    return 0


def _add_release_commands(sub: Any) -> None:
    """`results notify` and `results publish`: what the release plan lets out, when."""
    n = sub.add_parser("notify", help="send the released e-mails in OUT's outbox, once each")
    n.add_argument("out", help="the output folder of `results build`")
    n.add_argument("--smtp", required=True, help="the mail relay, HOST:PORT")
    n.add_argument("--sender", help="From address (default: noreply@ the site's host)")
    n.add_argument("--now", help="pretend it is this ISO 8601 time (release check; each "
                                 "message's Date is still the real time it is sent)")
    n.add_argument("--dkim-selector", help="sign every message with the key store's DKIM key, "
                                           f"published under this selector (or set "
                                           f"{cfg.DKIM_SELECTOR_ENV})")
    n.add_argument("--keys", default=_default_keys(), help="the key store (its dkim.pem)")
    n.set_defaults(func=cmd_notify)

    pub = sub.add_parser("publish", help="upload the site files that are due to S3")
    pub.add_argument("out", help="the output folder of `results build`")
    pub.add_argument("--to", required=True, help="s3://bucket/prefix")
    pub.add_argument("--endpoint", help="the S3-compatible store's URL (default: AWS)")
    pub.add_argument("--now", help="pretend it is this ISO 8601 time (release check)")
    pub.set_defaults(func=cmd_publish)

    srv = sub.add_parser("serve", help="preview OUT's public site on localhost")
    srv.add_argument("out", help="the output folder of `results build`")
    srv.add_argument("--host", default=cfg.LOCALHOST, help="address to listen on")
    srv.add_argument("--port", type=int, default=cfg.SITE_PORT, help="port to listen on")
    srv.set_defaults(func=cmd_serve)


def _keys_parser(k: argparse.ArgumentParser) -> None:
    """The options of `results keys`."""
    k.add_argument("action", choices=["init", "rotate", "export", "dkim"],
                   help="dkim: make (once) the mail signing key and print its DNS record")
    k.add_argument("--keys", default=_default_keys(), help="the key store folder")
    k.add_argument("--valid-from", metavar="DATE",
                   help="init/rotate: the new key signs statements issued from this date "
                        "(YYYY-MM-DD; default today)")
    k.add_argument("--seal-cert", action="store_true",
                   help="init: also make a PDF seal key and self-signed certificate; every "
                        "PDF the build writes then carries a PAdES signature")
    k.add_argument("--seal-name", default="Results Online",
                   help="init --seal-cert: the certificate's name (the awarding body)")
    k.set_defaults(func=cmd_keys)


def _render_arguments(p: argparse.ArgumentParser, *, series: str, out: str, now: str) -> None:
    """The arguments `build` and `amend` share: what to render, where, and on what."""
    p.add_argument("series", help=series)
    p.add_argument("--keys", default=_default_keys(), help="the key store folder")
    p.add_argument("--out", required=True, help=out)
    p.add_argument("--now", help=now)
    p.add_argument("--workers", type=int, help="processes for rendering (default: cores)")
    p.add_argument("--batch-size", type=int, default=cfg.BATCH_SIZE,
                   help="statements per render batch")
    p.add_argument("--scheduler", help="render on Dask distributed: tcp://HOST:8786, or "
                   "'local' for a LocalCluster of --workers processes")


def parser() -> argparse.ArgumentParser:
    """The argument parser of the `results` command."""
    p = argparse.ArgumentParser(prog="results", description="Publish exam results.")
    p.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a series into signed statements")
    _render_arguments(b, series="the series folder (series.toml and CSVs)",
                      out="output folder, replaced atomically",
                      now="pretend it is this ISO 8601 time (release planning)")
    b.set_defaults(func=cmd_build)

    m = sub.add_parser("amend", help="after results enquiries: new statements for changed "
                                     "results only, the old ones marked superseded")
    _render_arguments(m, series="the series folder, with the changed results",
                      out="the output folder of the previous build",
                      now="pretend it is this ISO 8601 time (the amendment date)")
    m.set_defaults(func=cmd_amend)

    _keys_parser(sub.add_parser("keys", help="create, rotate or export signing keys"))

    v = sub.add_parser("verify-token", help="check a token or QR URL against a keyset")
    v.add_argument("token", help="the QR text, or the token as decimal digits")
    v.add_argument("--keyset", default=_default_keys(), help="keyset JSON or key store folder")
    v.set_defaults(func=cmd_verify_token)

    _add_release_commands(sub)
    centres.add_commands(sub)
    orgs_command.add_parser(sub)

    _add_verify_app(sub)
    return p


def _add_verify_app(sub: Any) -> None:
    """The `results verify-app` options."""
    a = sub.add_parser("verify-app", help="run the verification app (ID + secret, QR status)")
    a.add_argument("--index", required=True, help="OUT/private/verify.sqlite from a build")
    a.add_argument("--keyset", default=_default_keys(),
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `results` command; return its exit code."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
