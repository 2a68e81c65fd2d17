"""Regenerate the simulator's committed data from the Canary API reference extracts.

The reference extracts (``endpoints.yaml`` and ``incident-logtypes.yaml``) live outside the
repository, so neither the simulator nor its tests may read them at run time. This script turns
them into two committed files:

* ``canary_simulator/logtypes.json``: every documented incident logtype with its event fields,
  which the simulator draws its incidents from;
* ``tests/simulator/reference_responses.json``: the documented example response of every
  endpoint the simulator serves, which the shape test compares the simulator against.

Usage: ``python -m canary_simulator._gen_reference [PATH_TO_CANARY_API_DIR]``
(default ``../shared/canary-api`` relative to the repository root).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
LOGTYPES_OUT = REPO_ROOT / "canary_simulator" / "logtypes.json"
REFERENCE_OUT = REPO_ROOT / "tests" / "simulator" / "reference_responses.json"

# Simulator path -> (top-level group in endpoints.yaml, example section title).
REFERENCE_SECTIONS: dict[str, tuple[str, str]] = {
    "/ping": ("testing", "Ping"),
    "/incidents/all": ("incidents", "All Incidents"),
    "/incidents/acknowledged": ("incidents", "Acknowledged Incidents"),
    "/incidents/unacknowledged": ("incidents", "Unacknowledged Incidents"),
    "/audit_trail/fetch": ("audit_trail", "Fetch Audit Trail Logs"),
    "/devices/all": ("devices", "All Birds"),
    "/canarytokens/paginate": ("canarytokens", "Paginate Canarytokens"),
    "/flocks/summary": ("flocks", "List Flocks Summary"),
}


def _parse_elided_json(text: str) -> Any:
    """Parse a documentation example that elides repeated items with ``...``."""
    without_ellipses = re.sub(r",?\s*\.\.\.\s*(?=[\]}])", "", text)
    without_ellipses = re.sub(r"\.\.\.,?\s*\n", "\n", without_ellipses)
    return json.loads(without_ellipses)


def observed_event_fields(endpoints: dict[str, Any]) -> dict[str, list[str]]:
    """Event keys the example incident responses show per logtype, beyond the catalogue's."""
    observed: dict[str, list[str]] = {}
    for group in ("incidents", "incident_walkthrough"):
        for example in endpoints[group]["examples"]:
            response = example["response"]
            if isinstance(response, str):
                try:
                    response = _parse_elided_json(response)
                except json.JSONDecodeError:
                    continue
            for incident in response.get("incidents", []) if isinstance(response, dict) else []:
                description = incident.get("description")
                if not isinstance(description, dict):
                    continue
                fields = observed.setdefault(str(description["logtype"]), [])
                for event in description.get("events", []):
                    fields.extend(key for key in event if key not in fields)
    return observed


def build_logtypes(
    catalogue: list[dict[str, Any]], observed: dict[str, list[str]]
) -> list[dict[str, Any]]:
    sections = []
    for section in catalogue:
        if not section["logtypes"]:
            continue  # "Basic Structure" and headings describe no logtype of their own
        sections.append(
            {
                "section": section["section"],
                "description": section["incident_description"],
                "logtypes": [str(code) for code in section["logtypes"]],
                "names": {str(k): v for k, v in (section["logtype_names"] or {}).items()},
                "fields": list(section["event_fields"] or {}),
                "observed_fields": {
                    str(code): [f for f in observed[str(code)] if f not in section["event_fields"]]
                    for code in section["logtypes"]
                    if str(code) in observed
                },
            }
        )
    return sections


def build_reference(endpoints: dict[str, Any]) -> dict[str, Any]:
    reference: dict[str, Any] = {}
    for path, (group, title) in REFERENCE_SECTIONS.items():
        examples = [ex for ex in endpoints[group]["examples"] if ex["section"] == title]
        if not examples:
            raise SystemExit(f"no example titled {title!r} under {group!r} in endpoints.yaml")
        response = examples[0]["response"]
        reference[path] = _parse_elided_json(response) if isinstance(response, str) else response
    return reference


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else REPO_ROOT.parent / "shared" / "canary-api"
    endpoints = yaml.safe_load((source / "endpoints.yaml").read_text())
    catalogue = yaml.safe_load((source / "incident-logtypes.yaml").read_text())
    logtypes = build_logtypes(catalogue, observed_event_fields(endpoints))
    LOGTYPES_OUT.write_text(json.dumps(logtypes, indent=1) + "\n")
    REFERENCE_OUT.write_text(
        json.dumps(build_reference(endpoints), indent=1, sort_keys=True) + "\n"
    )
    print(f"wrote {LOGTYPES_OUT.relative_to(REPO_ROOT)} and {REFERENCE_OUT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
