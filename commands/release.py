"""`results notify`, `publish` and `serve`: let out what the release plan allows, when it does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from results_online import config as cfg
from results_online.commands.common import default_keys


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


def add_commands(sub: Any) -> None:
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
    n.add_argument("--keys", default=default_keys(), help="the key store (its dkim.pem)")
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
