"""``python -m canary_simulator``: serve a seeded, simulated Canary Console until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from canary_simulator.estate_api import KEY_TYPES
from canary_simulator.faults import FAULT_KINDS, parse_fault
from canary_simulator.fleet import ConsoleSpec, SimulatorFleet, numbered_specs, parse_console_option

DEFAULT_AUTH_TOKEN = "simulator-token"
TOKEN_ENV = "CANARY_SIMULATOR_AUTH_TOKEN"


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m canary_simulator",
        description="Serve a simulated Thinkst Canary Console API on a loopback port.",
    )
    parser.add_argument("--port", type=_non_negative, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--seed", type=int, default=7, help="data seed (same seed, same data)")
    parser.add_argument("--incidents", type=_non_negative, default=200)
    parser.add_argument("--birds", type=_non_negative, default=6)
    parser.add_argument("--tokens", type=_non_negative, default=40)
    parser.add_argument("--audit-days", type=_non_negative, default=60)
    parser.add_argument("--flocks", type=int, default=4)
    parser.add_argument("--outside-bird-alerts", type=_non_negative, default=300)
    parser.add_argument(
        "--big-incident-events", type=_non_negative, default=3000,
        help="events in each large brute-force incident",
    )  # fmt: skip
    parser.add_argument(
        "--auth-token",
        default=os.environ.get(TOKEN_ENV, DEFAULT_AUTH_TOKEN),
        help=f"the API token clients must send (default: ${TOKEN_ENV} or {DEFAULT_AUTH_TOKEN!r})",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every response")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="KIND=RATE",
        help=f"inject a fault into RATE of API requests; KIND is one of {', '.join(FAULT_KINDS)}",
    )  # fmt: skip
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument(
        "--fault-timeout-seconds", type=float, default=3.0,
        help="how long a 'timeout' fault stalls before answering",
    )  # fmt: skip
    parser.add_argument(
        "--retry-after-seconds", type=int, default=1, help="Retry-After sent with 429 and 503"
    )
    parser.add_argument(
        "--cache-mb", type=_non_negative, default=64,
        help="memory for encoded incidents, so repeated syncs are served fast",
    )  # fmt: skip
    parser.add_argument(
        "--no-prefetch", dest="prefetch", action="store_false",
        help="do not build the next page of incidents while the client reads the current one",
    )  # fmt: skip
    parser.add_argument(
        "--key-type", choices=KEY_TYPES, default="admin",
        help="the kind of API key the token is; all but admin are refused admin-only endpoints",
    )  # fmt: skip
    parser.add_argument(
        "--consoles", type=int, default=None, metavar="N",
        help="serve N consoles (console-1.. with seeds SEED.., tokens TOKEN-1..), a port each",
    )  # fmt: skip
    parser.add_argument(
        "--console", action="append", default=[], metavar="NAME:SEED:TOKEN", dest="console_specs",
        help="serve a console with this name, seed and token; repeatable, a port each",
    )  # fmt: skip
    parser.add_argument(
        "--consoles-file", type=Path, default=None, metavar="PATH",
        help="write each console's name, base_url and token to PATH as JSON (mode 0600)",
    )  # fmt: skip
    return parser


def _specs(args: argparse.Namespace) -> tuple[list[ConsoleSpec], bool]:
    """The consoles to serve, and whether they are named (more than the one plain console)."""
    sizes = {
        "incidents": args.incidents, "birds": args.birds, "tokens": args.tokens,
        "audit_days": args.audit_days, "flocks": args.flocks,
        "big_incident_events": args.big_incident_events,
        "outside_bird_alerts": args.outside_bird_alerts,
    }  # fmt: skip
    if args.consoles is not None and args.console_specs:
        raise ValueError("give either --consoles N or --console NAME:SEED:TOKEN, not both")
    if args.console_specs:
        specs = [parse_console_option(option) for option in args.console_specs]
        return [ConsoleSpec(s.name, s.seed, s.auth_token, dict(sizes)) for s in specs], True
    if args.consoles is not None:
        return numbered_specs(args.consoles, args.seed, args.auth_token, **sizes), True
    return [ConsoleSpec("simulated", args.seed, args.auth_token, sizes)], False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = dict(parse_fault(option) for option in args.fault)
        specs, named = _specs(args)
        fleet = SimulatorFleet(
            specs,
            host=args.host,
            first_port=args.port,
            latency_ms=args.latency_ms,
            faults=faults,
            fault_seed=args.fault_seed,
            fault_timeout_seconds=args.fault_timeout_seconds,
            retry_after_seconds=args.retry_after_seconds,
            cache_mb=args.cache_mb,
            prefetch=args.prefetch,
            key_type=args.key_type,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        fleet.start()
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
            "choose another --port, or 0 for a free one",
            file=sys.stderr,
        )
        return 1

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if args.consoles_file is not None:
        try:
            fleet.write_description(args.consoles_file)
        except OSError as exc:
            fleet.stop()
            print(
                f"error: cannot write --consoles-file {args.consoles_file} "
                f"({exc.strerror or exc}); give a writable path",
                file=sys.stderr,
            )
            return 1
    for spec, simulator in zip(fleet.specs, fleet.simulators, strict=True):
        # Tokens are not printed: they are in --consoles-file and GET /admin/consoles.
        label = f" {spec.name}" if named else ""
        print(f"Canary Console simulator{label} listening on {simulator.base_url}", flush=True)
    stopping.wait()
    fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
