"""The floor: the least work that moves the console's records into JSON lines.

It fetches the same endpoints with the same page size as the tap, parses each
response once with orjson and writes one JSON line per record, nothing else: no
schema, no typing, no state. Whatever the tap spends beyond this is overhead.

    BENCH_AUTH_TOKEN=... python bench/floor.py --base-url URL --streams all --out out.jsonl
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson
import requests

Record = dict[str, Any]
Writer = Callable[[Record], None]


class Floor:
    def __init__(self, base_url: str, auth_token: str, page_size: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.session = requests.Session()
        self.session.headers["X-Canary-Auth-Token"] = auth_token

    def get(self, path: str, params: dict[str, Any]) -> Record:
        response = self.session.get(self.base_url + path, params=params, timeout=60)
        response.raise_for_status()
        body: Record = orjson.loads(response.content)
        if body.get("result") == "error":
            raise RuntimeError(f"{path}: {body.get('message')}")
        return body

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[Record]:
        """Cursor paging as the API defines it: `limit` first, then the cursor alone."""
        body = self.get(path, {**params, "limit": self.page_size})
        yield body
        while cursor := (body.get("cursor") or {}).get("next"):
            body = self.get(path, {"cursor": cursor})
            yield body

    def incidents(self, write: Writer, *, with_events: bool) -> None:
        for page in self.pages("/incidents/all", {"incidents_since": 0, "tz": "UTC"}):
            for incident in page.get("incidents") or ():
                write(incident)
                if with_events:
                    for event in incident["description"].get("events") or ():
                        write(event)

    def audit_trail(self, write: Writer) -> None:
        for page in self.pages("/audit_trail/fetch", {"tz": "UTC"}):
            for entry in page.get("audit_trail") or ():
                write(entry)

    def birds(self, write: Writer) -> None:
        for device in self.get("/devices/all", {"tz": "UTC"}).get("devices") or ():
            write(device)

    def tokens(self, write: Writer) -> None:
        for page in self.pages("/canarytokens/paginate", {}):
            for token in page.get("canarytokens") or ():
                write(token)

    def flocks(self, write: Writer) -> None:
        summary = self.get("/flocks/summary", {}).get("flocks_summary") or {}
        for flock_id, flock in summary.items():
            write({"flock_id": flock_id, **flock})


def run(floor: Floor, streams: str, out: IO[bytes]) -> int:
    count = 0

    def write(record: Record) -> None:
        nonlocal count
        out.write(orjson.dumps(record))
        out.write(b"\n")
        count += 1

    if streams == "incidents":
        floor.incidents(write, with_events=False)
    else:
        floor.incidents(write, with_events=True)
        floor.audit_trail(write)
        floor.birds(write)
        floor.tokens(write)
        floor.flocks(write)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--streams", choices=("incidents", "all"), default="incidents")
    parser.add_argument("--out", required=True, help="file for the JSON lines")
    args = parser.parse_args()
    token = os.environ.get("BENCH_AUTH_TOKEN")
    if not token:
        sys.exit("floor: set BENCH_AUTH_TOKEN to the console's auth token")
    floor = Floor(args.base_url, token, args.page_size)
    with open(args.out, "wb") as out:
        count = run(floor, args.streams, out)
    print(count)


if __name__ == "__main__":
    main()
