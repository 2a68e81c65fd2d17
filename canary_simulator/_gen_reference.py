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

# Simulator path -> (top-level group in endpoints.yaml, example section title[, a key only
# that example's response has, where several examples share the title]).
REFERENCE_SECTIONS: dict[str, tuple[str, ...]] = {
    "/ping": ("testing", "Ping"),
    "/incidents/all": ("incidents", "All Incidents"),
    "/incidents/acknowledged": ("incidents", "Acknowledged Incidents"),
    "/incidents/unacknowledged": ("incidents", "Unacknowledged Incidents"),
    "/audit_trail/fetch": ("audit_trail", "Fetch Audit Trail Logs"),
    "/devices/all": ("devices", "All Birds"),
    "/canarytokens/paginate": ("canarytokens", "Paginate Canarytokens"),
    "/flocks/summary": ("flocks", "List Flocks Summary"),
    "/flock/settings": ("flocks", "Flock Settings"),
    "/incidents/outside_bird/search": ("outside_birds", "Outside Bird Alerts"),
    "/incidents/outside_bird/summary": ("outside_birds", "Alert Count Summary"),
    "/incidents/outside_bird/services/count": ("outside_birds", "Incidents Count Per Service"),
    "/device/outside_bird/webhooks": ("outside_birds", "Webhooks", "webhooks"),
    "/settings/ignored_annotations": (
        "console_ignore_lists", "Annotation-based Ignore Lists", "ignored_annotations",
    ),
    "/settings/ignored_annotations/is_annotation_ignored": (
        "console_ignore_lists", "Annotation-based Ignore Lists", "ignored",
    ),
    "/settings/ignored_annotations/incidents": (
        "console_ignore_lists", "Annotation-based Ignore Lists", "ignored_incidents",
    ),
    "/settings/ignored_annotations/incidents/count": (
        "console_ignore_lists", "Annotation-based Ignore Lists", "count",
    ),
    "/users/list": ("users", "List Users"),
    "/users/filter": ("users", "Filter Users"),
    "/user/get": ("users", "Get User"),
    "/user/auth": ("users", "Get User Auth"),
    "/auth_token/list": ("api_keys", "List the Global API Keys"),
    "/flock/auth_token/list": ("flock_auth_tokens", "List Flock API keys"),
    "/device/info": ("devices", "Bird Info"),
    "/update/updatable_birds": ("bird_updates", "List Updatable Birds"),
    "/update/updating_devices": ("bird_updates", "List Updating Birds"),
    "/updates/list": ("bird_updates", "List Updates"),
    "/devices/commission/pending": ("bird_registrations", "Pending Bird Commissions"),
    "/flock/commission/pending": ("bird_registrations", "Pending Bird Commissions in Flock"),
    "/personalities/list": ("bird_personalities", "List Personalities"),
    "/settings": ("console_settings", "Fetch Console Settings"),
    "/settings/notifications/info": ("notification_channels", "Info"),
    "/settings/generic/list": ("notification_channels", "Webhooks", "generic_webhooks"),
    "/flock/settings/whitelisting/info": ("flock_settings_info", "Fetch Ignore List Info"),
    "/flock/settings/notifications/info": ("flock_settings_info", "Fetch Notifications Info"),
    "/flock/settings/webhooks/info": ("flock_settings_info", "Fetch Webhook Info"),
    "/flock/settings/webhooks/is_enabled": ("flock_webhooks", "Check if Webhooks are Enabled"),
    "/flock/settings/webhooks/is_global": ("flock_webhooks", "Check if Webhooks are Global"),
    "/flock/settings/webhooks/generic": ("flock_webhooks", "Generic Webhooks", "generic_webhooks"),
    "/flock/settings/webhooks/generic/list": (
        "flock_webhooks", "Generic Webhooks", "generic_webhooks", "objects",
    ),
    "/flock/settings/webhooks/ms_teams": (
        "flock_webhooks", "MS Teams Webhooks", "ms_teams_webhooks",
    ),
    "/flock/settings/webhooks/slack": ("flock_webhooks", "Slack Webhooks", "slack_webhooks"),
    "/flock/settings/webhooks/splunk": ("flock_webhooks", "Splunk Webhooks", "splunk_webhook"),
    "/license/detailed/info": ("licenses", "Detailed Bird License Information"),
    "/console/features": ("console_features", "Console Features"),
}  # fmt: skip


def _parse_elided_json(text: str) -> Any:
    """Parse a documentation example that elides repeated items with ``...``, and forgives
    the slips hand-written examples have: a trailing comma, a comma missing between members."""
    without_ellipses = re.sub(r",?\s*\.\.\.\s*(?=[\]}])", "", text)
    without_ellipses = re.sub(r"\.\.\.,?\s*\n", "\n", without_ellipses)
    try:
        return json.loads(without_ellipses)
    except json.JSONDecodeError:
        repaired = re.sub(r",(\s*[\]}])", r"\1", without_ellipses)
        repaired = re.sub(r'(["\]}])(\s*\n\s*")', r"\1,\2", repaired)
        return json.loads(repaired)


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
    for path, (group, title, *which) in REFERENCE_SECTIONS.items():
        responses = [
            _parse_elided_json(ex["response"])
            if isinstance(ex["response"], str)
            else ex["response"]
            for ex in endpoints[group]["examples"]
            if ex["section"] == title
        ]
        if which:
            key = which[0]
            responses = [r for r in responses if isinstance(r, dict) and key in r]
            if which[1:] == ["objects"]:  # the example whose list holds objects, not strings
                responses = [r for r in responses if r[key] and isinstance(r[key][0], dict)]
            elif responses and isinstance(responses[0][key], list):
                responses.sort(key=lambda r: bool(r[key]) and isinstance(r[key][0], dict))
        if not responses:
            raise SystemExit(f"no example titled {title!r} under {group!r} in endpoints.yaml")
        reference[path] = responses[0]
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
