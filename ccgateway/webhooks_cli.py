"""`ccgateway webhooks ...`: signed webhooks, through the running controller's API.

The controller holds its subscriptions in memory and sends the deliveries, so these
commands only talk to it (at the config's API address, or `--url`, with the admin key from
`--key-file`, the config or CCGW_ADMIN_KEY); with no controller running they change nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from ccgateway.contacts_cli import Controller, Refused, add_controller_options, running_controller
from ccgateway.domain.webhooks import EVENT_TYPES
from ccgateway.settings import load_settings

EVENTS_HELP = f"an event type ({', '.join(EVENT_TYPES)}), or '*' for all; repeat for more"


def add_webhooks_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="signed webhooks", description=__doc__)
    sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    add = sub.add_parser("add", help="subscribe a URL to event types; prints its secret once")
    add.add_argument("webhook_url", metavar="URL", help="where to POST the events")
    add.add_argument("--event", "-e", dest="events", action="append", required=True,
                     help=EVENTS_HELP)  # fmt: skip
    add.add_argument("--description", default="")
    add.add_argument("--secret-file", type=Path, help="a secret of your own (default: made)")
    listing = sub.add_parser("list", help="the subscriptions, with their pending and dead counts")
    remove = sub.add_parser("remove", help="delete a subscription and all its deliveries")
    remove.add_argument("webhook_id")
    dead = sub.add_parser("dead", help="a subscription's dead letters, newest first")
    dead.add_argument("webhook_id")
    dead.add_argument("--limit", type=int, default=50)
    again = sub.add_parser("redeliver", help="send a dead delivery again (same delivery id)")
    again.add_argument("webhook_id")
    again.add_argument("delivery_id")
    ping = sub.add_parser("test", help="send a ping event to a subscription")
    ping.add_argument("webhook_id")
    handlers = {add: _add, listing: _list, remove: _remove, dead: _dead, again: _redeliver,
                ping: _ping}  # fmt: skip
    for parser, handler in handlers.items():
        add_controller_options(parser)
        parser.set_defaults(handler=partial_handler(handler))


def partial_handler(handler: Any) -> Any:
    """Each command: find the running controller, run, and turn a refusal into exit 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            settings = load_settings(args.config)
            controller = running_controller(settings, args.url, args.key_file)
            if controller is None:
                raise Refused(
                    "no controller answers at the configured API address: webhooks are "
                    "managed through the running controller (start it, or give --url)"
                )
            handler(controller, args)
        except (Refused, OSError, ValueError) as exc:
            print(f"webhooks: {exc}", file=sys.stderr)
            return 1
        return 0

    return run


def _send(controller: Controller, method: str, path: str, body: Any = None) -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    return controller.send(method, path, data, "application/json")


def _path(*parts: str) -> str:
    return "/v1/webhooks/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)


def _add(controller: Controller, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"url": args.webhook_url, "events": args.events}
    if args.description:
        body["description"] = args.description
    if args.secret_file is not None:
        body["secret"] = args.secret_file.read_text().strip()
    created = _send(controller, "POST", "/v1/webhooks", body)
    print(f"webhook {created['id']}: {created['url']} ({', '.join(created['events'])})")
    print(f"secret: {created['secret']}")
    print("keep the secret: it verifies the Ccgw-Signature header and is not shown again")


def _list(controller: Controller, args: argparse.Namespace) -> None:
    found = _send(controller, "GET", "/v1/webhooks")
    if not found:
        print("no webhooks")
    for w in found:
        state = "" if w["active"] else " (inactive)"
        print(
            f"{w['id']}  {w['url']}{state}\n    events: {', '.join(w['events'])}; "
            f"pending {w['pending']}, dead {w['dead']}, overflowed {w['overflowed']}"
        )


def _remove(controller: Controller, args: argparse.Namespace) -> None:
    _send(controller, "DELETE", _path(args.webhook_id))
    print(f"webhook {args.webhook_id} removed, with its deliveries")


def _dead(controller: Controller, args: argparse.Namespace) -> None:
    query = urllib.parse.urlencode({"state": "dead", "limit": args.limit})
    found = _send(controller, "GET", f"{_path(args.webhook_id, 'deliveries')}?{query}")
    if not found:
        print("no dead deliveries")
    for d in found:
        print(
            f"{d['id']}  {d['event_type']:<22} {d['created_at']}  "
            f"{d['attempts']} attempt(s): {d['last_error']}"
        )


def _redeliver(controller: Controller, args: argparse.Namespace) -> None:
    path = _path(args.webhook_id, "deliveries", args.delivery_id, "redeliver")
    done = _send(controller, "POST", path)
    print(f"delivery {done['id']} ({done['event_type']}) pending again: sent shortly")


def _ping(controller: Controller, args: argparse.Namespace) -> None:
    done = _send(controller, "POST", _path(args.webhook_id, "test"))
    print(f"ping queued: delivery {done['id']}")
