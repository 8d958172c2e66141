"""``iterable-emulator``: serve the emulator on a loopback port until stopped.

Prints exactly one line, ``iterable-emulator listening on http://HOST:PORT``,
once the socket is bound (``--port 0`` picks a free port and prints it), which
is what ``testing.EmulatorProcess`` waits for.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType

from werkzeug.serving import make_server

from iterable_emulator.app import EmulatorApp
from iterable_emulator.emulator import (
    DEFAULT_API_KEY,
    Emulator,
    EmulatorConfig,
    parse_campaigns,
    parse_workflows,
)
from iterable_emulator.faults import FaultSwitches
from iterable_emulator.identity import ProjectType


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iterable-emulator",
        description="A local emulator of Iterable's REST API, for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8089, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help=f"accepted Api-Key header value (repeatable; default {DEFAULT_API_KEY!r})",
    )
    parser.add_argument("--db", default=":memory:", help="SQLite file to keep state in")
    parser.add_argument(
        "--project-type",
        choices=[t.value for t in ProjectType],
        default=ProjectType.HYBRID.value,
        help="how the project identifies users",
    )
    parser.add_argument(
        "--disallow-event-name",
        action="append",
        default=[],
        dest="disallowed_event_names",
        metavar="NAME",
        help="event name trackBulk refuses (repeatable)",
    )
    parser.add_argument(
        "--processing-delay-ms",
        type=int,
        default=0,
        metavar="N",
        help="apply Iterable's asynchronous writes (bulkUpdate, update, track, trackBulk,"
        " catalog item writes, user deletes) N ms after answering them; 0 applies them"
        " before answering",
    )
    schema = parser.add_argument_group("data schema (also at /_emulator/settings)")
    schema.add_argument(
        "--drop-unrecognized-fields",
        action="store_true",
        help="the project drops user fields it does not have (filteredOutFields) unless a"
        " request sets createNewFields: true",
    )
    schema.add_argument(
        "--user-field",
        action="append",
        default=[],
        dest="user_fields",
        metavar="NAME:TYPE",
        help="a user field the project has from the start (repeatable), e.g. plan:string",
    )
    schema.add_argument("--user-field-limit", type=int, default=1000, metavar="N")
    schema.add_argument("--event-field-limit", type=int, default=8000, metavar="N")
    actions = parser.add_argument_group(
        "campaigns and journeys (default: any positive id exists; also at /_emulator/settings)"
    )
    actions.add_argument(
        "--campaign",
        action="append",
        default=[],
        dest="campaigns",
        metavar="CHANNEL:ID",
        help="a campaign of a channel (email, push, sms, inApp, webPush, whatsApp); repeatable;"
        " once given, the other ids are unknown",
    )
    actions.add_argument(
        "--workflow",
        action="append",
        default=[],
        type=int,
        dest="workflows",
        metavar="ID",
        help="a journey (workflow) id; repeatable; once given, the other ids are unknown",
    )
    limits = parser.add_argument_group("rate limits")
    limits.add_argument("--no-rate-limits", action="store_true", help="never answer 429 on rate")
    limits.add_argument(
        "--rate-limit-multiplier",
        type=float,
        default=1.0,
        metavar="F",
        help="scale every documented rate limit (0.2 makes bulkUpdate 1/s)",
    )
    faults = parser.add_argument_group("faults (also settable at POST /_emulator/faults)")
    defaults = FaultSwitches()
    faults.add_argument("--latency-ms", type=int, default=defaults.latency_ms, metavar="N")
    faults.add_argument("--latency-spike-rate", type=float, default=0.0, metavar="F")
    faults.add_argument(
        "--latency-spike-ms", type=int, default=defaults.latency_spike_ms, metavar="N"
    )
    faults.add_argument("--error-rate", type=float, default=0.0, metavar="F")
    faults.add_argument("--rate-limit-burst", type=int, default=0, metavar="N")
    faults.add_argument("--drop-rate", type=float, default=0.0, metavar="F")
    faults.add_argument("--drop-after-processing-rate", type=float, default=0.0, metavar="F")
    faults.add_argument(
        "--retry-after", type=int, default=None, metavar="SECONDS", help="Retry-After on 429s"
    )
    faults.add_argument("--seed", type=int, default=None, help="seed for the fault decisions")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback one."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in addresses
    )


def campaigns_from(flags: Sequence[str]) -> dict[str, list[int]] | None:
    """``["email:12", "sms:7"]`` → ``{"email": [12], "sms": [7]}``; None without flags."""
    if not flags:
        return None
    campaigns: dict[str, list[int]] = {}
    for flag in flags:
        channel, _, campaign_id = flag.partition(":")
        try:
            campaigns.setdefault(channel, []).append(int(campaign_id))
        except ValueError:
            raise ValueError(f"--campaign {flag!r}: expected CHANNEL:ID") from None
    return campaigns


def user_fields_from(flags: Sequence[str]) -> dict[str, str]:
    """``["plan:string", "age:long"]`` → ``{"plan": "string", "age": "long"}``."""
    fields = {}
    for flag in flags:
        name, sep, kind = flag.rpartition(":")
        if not sep or not name:
            raise ValueError(f"--user-field {flag!r}: expected NAME:TYPE")
        fields[name] = kind
    return fields


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    if args.processing_delay_ms < 0:
        raise ValueError("--processing-delay-ms must be 0 or more")
    switches = FaultSwitches.from_json(
        {
            "latency_ms": args.latency_ms,
            "latency_spike_rate": args.latency_spike_rate,
            "latency_spike_ms": args.latency_spike_ms,
            "error_rate": args.error_rate,
            "rate_limit_burst": args.rate_limit_burst,
            "drop_rate": args.drop_rate,
            "drop_after_processing_rate": args.drop_after_processing_rate,
            "retry_after": args.retry_after,
            "seed": args.seed,
        }
    )
    return EmulatorConfig(
        api_keys=tuple(args.api_keys or [DEFAULT_API_KEY]),
        db=args.db,
        project_type=ProjectType(args.project_type),
        disallowed_event_names=frozenset(args.disallowed_event_names),
        rate_limits=not args.no_rate_limits,
        rate_limit_multiplier=args.rate_limit_multiplier,
        faults=switches,
        campaigns=parse_campaigns(campaigns_from(args.campaigns)),
        workflows=parse_workflows(args.workflows or None),
        processing_delay_ms=args.processing_delay_ms,
        drop_unrecognized_fields=args.drop_unrecognized_fields,
        user_fields=user_fields_from(args.user_fields),
        user_field_limit=args.user_field_limit,
        event_field_limit=args.event_field_limit,
    )


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


GIL_SWITCH_SECONDS = 0.0005


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Rate limits count arrivals: hand the GIL over often, so a thread busy applying
    # one request does not delay the clock reading of the next by tens of ms.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    if not is_loopback(args.host):
        parser.error(f"refusing to bind {args.host!r}: the emulator only listens on loopback")
    try:
        config = config_from(args)
        emulator = Emulator(config)
    except ValueError as error:
        parser.error(str(error))
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)
    try:
        server = make_server(args.host, args.port, EmulatorApp(emulator), threaded=True)
    except OSError as error:
        sys.exit(f"iterable-emulator: cannot listen on {args.host}:{args.port}: {error}")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"iterable-emulator listening on http://{host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.store.close()
