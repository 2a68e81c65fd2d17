"""The simulator's responses have the keys and value types of the documented examples.

`reference_responses.json` holds the example response of each endpoint from the API
documentation (regenerate it with ``python -m canary_simulator._gen_reference``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Simulator

from .helpers import api_json

REFERENCE = json.loads((Path(__file__).parent / "reference_responses.json").read_text())

# Parameters that make the simulator's page comparable with the example (which is a first page
# of several, so it has a `next` cursor).
REQUEST_PARAMS: dict[str, dict[str, Any]] = {
    "/incidents/all": {"limit": 2},
    "/incidents/acknowledged": {"limit": 2},
    "/incidents/unacknowledged": {"limit": 2},
    "/audit_trail/fetch": {"limit": 5},
    "/canarytokens/paginate": {"limit": 3},
    "/incidents/outside_bird/search": {"limit": 2},
    "/incidents/outside_bird/summary": {"node_id": "{outside_bird}"},
    "/incidents/outside_bird/services/count": {"node_id": "{outside_bird}"},
    "/settings/ignored_annotations/is_annotation_ignored": {"annotation": "{annotation}"},
    "/settings/ignored_annotations/incidents": {"annotation": "{annotation}"},
    "/settings/ignored_annotations/incidents/count": {"annotation": "{annotation}"},
    "/users/filter": {"filter_str": "example"},
    "/user/get": {"email": "{user}"},
    "/user/auth": {"email": "{user}"},
    "/device/info": {"node_id": "{bird}", "settings": "true"},
}
# Endpoints that take a flock_id, asked about a flock with webhooks and keys of its own.
FLOCK_ENDPOINTS = {
    path for path in REFERENCE if path.startswith("/flock/") and "/summary" not in path
}
# The list in each paged response, and how to get all of it in one response, so every example
# item (an incident of some logtype, a token of some kind) can meet its counterpart.
ITEMS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "/incidents/all": ("incidents", "/incidents/all", {}),
    "/incidents/acknowledged": ("incidents", "/incidents/all", {}),
    "/incidents/unacknowledged": ("incidents", "/incidents/all", {}),
    "/audit_trail/fetch": ("audit_trail", "/audit_trail/fetch", {"limit": 10_000}),
    "/canarytokens/paginate": ("canarytokens", "/canarytokens/paginate", {"limit": 10_000}),
}


def _type_name(value: Any) -> str:
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else (type(value).__name__)
    )


def _mismatches(reference: Any, actual: Any, where: str) -> list[str]:
    """Keys missing from `actual` and values whose JSON type differs, recursively.

    A null on either side says nothing about the type, so it matches anything.
    """
    if reference is None or actual is None:
        return []
    if _type_name(reference) != _type_name(actual):
        return [f"{where}: expected {_type_name(reference)}, got {_type_name(actual)}"]
    problems: list[str] = []
    if isinstance(reference, dict):
        for key, value in reference.items():
            if key.startswith("<"):  # a placeholder key, e.g. a flock id
                continue
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += _mismatches(value, actual[key], f"{where}.{key}")
        if any(key.startswith("<") for key in reference) and not actual:
            problems.append(f"{where}: expected entries")
    elif isinstance(reference, list) and reference:
        if not actual:
            return [f"{where}: expected a non-empty list"]
        for i, item in enumerate(reference):
            problems += _mismatches(item, _counterpart(item, actual), f"{where}[{i}]")
    return problems


def _counterpart(item: Any, candidates: list[Any]) -> Any:
    """The simulator's item most like a reference item: same logtype, token kind or action."""
    if isinstance(item, dict):
        for key in ("kind", "action_type"):
            if key in item:
                same = [c for c in candidates if isinstance(c, dict) and c.get(key) == item[key]]
                assert same, f"the simulator serves no item with {key}={item[key]!r}"
                return same[0]
        description = item.get("description")
        if isinstance(description, dict) and "logtype" in description:
            same = [c for c in candidates if c["description"]["logtype"] == description["logtype"]]
            assert same, f"the simulator serves no incident of logtype {description['logtype']}"
            return same[0]
    return candidates[0]


def _flocks_summary_entry(reference: dict[str, Any]) -> dict[str, Any]:
    return next(iter(reference["flocks_summary"].values()))


def _request_params(simulator: Simulator, path: str) -> dict[str, Any]:
    console = simulator.console
    birds = console.birds()
    placeholders = {
        "{outside_bird}": next(b["id"] for b in birds if b["outside_bird"]),
        "{bird}": birds[0]["id"],
        "{annotation}": "palo_alto_pdf_token_trigger",
        "{user}": "alice@example.com",
    }
    params = {k: placeholders.get(v, v) for k, v in REQUEST_PARAMS.get(path, {}).items()}
    if path in FLOCK_ENDPOINTS:
        params["flock_id"] = list(console.flocks())[1]  # webhooks of every kind
    return params


def test_every_documented_example_is_compared() -> None:
    """The reference holds the old endpoints and each of the console-coverage ones."""
    assert {"/users/list", "/auth_token/list", "/flock/auth_token/list", "/device/info",
            "/incidents/outside_bird/search", "/settings/ignored_annotations/incidents",
            "/settings", "/flock/settings/webhooks/info", "/license/detailed/info",
            "/console/features", "/updates/list", "/devices/commission/pending",
            "/personalities/list", "/audit_trail/fetch"} <= set(REFERENCE)  # fmt: skip


@pytest.mark.parametrize("path", sorted(REFERENCE))
def test_response_shape_matches_the_documented_example(simulator: Simulator, path: str) -> None:
    reference = REFERENCE[path]
    actual = api_json(simulator, path, **_request_params(simulator, path))
    if path in ITEMS:
        # The envelope comes from a first page; the items from the whole collection.
        key, items_path, items_params = ITEMS[path]
        everything = api_json(simulator, items_path, **items_params)[key]
        problems = _mismatches({**reference, key: []}, actual, "response")
        problems += _mismatches(reference, {**actual, key: everything}, "response")
    else:
        problems = _mismatches(reference, actual, "response")

    assert not problems, "\n".join(problems)


def test_flock_summaries_have_the_documented_keys(simulator: Simulator) -> None:
    reference = _flocks_summary_entry(REFERENCE["/flocks/summary"])
    summaries = api_json(simulator, "/flocks/summary")["flocks_summary"]

    assert len(summaries) == 4
    for flock_id, summary in summaries.items():
        assert flock_id.startswith("flock:")
        problems = _mismatches(reference, summary, flock_id)
        assert not problems, "\n".join(problems)


def test_the_comparison_notices_a_missing_key_and_a_wrong_type() -> None:
    reference = {"a": "1", "b": {"c": 2}, "items": [{"kind": "x", "n": 1}]}

    assert (
        _mismatches(reference, {"a": "1", "b": {"c": 2}, "items": [{"kind": "x", "n": 1}]}, "r")
        == []
    )
    assert _mismatches(reference, {"a": 1, "b": {}, "items": [{"kind": "x", "n": "1"}]}, "r") == [
        "r.a: expected str, got number",
        "r.b.c: missing",
        "r.items[0].n: expected number, got str",
    ]
