"""Small helpers for talking to a running simulator."""

from __future__ import annotations

from typing import Any

import requests

from canary_simulator import Simulator


def api_get(sim: Simulator, path: str, **params: Any) -> requests.Response:
    """GET an API path with the simulator's token in the header."""
    return requests.get(
        sim.base_url + path,
        params=params,
        headers={"X-Canary-Auth-Token": sim.auth_token},
        timeout=30,
    )


def api_json(sim: Simulator, path: str, **params: Any) -> Any:
    response = api_get(sim, path, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "success", body
    return body


def follow_cursor(sim: Simulator, path: str, items_key: str, **first_params: Any) -> list[Any]:
    """Every page of a cursor chain: the first with `first_params`, the rest with `cursor` only."""
    pages = [api_json(sim, path, **first_params)]
    while pages[-1]["cursor"]["next"]:
        pages.append(api_json(sim, path, cursor=pages[-1]["cursor"]["next"]))
        assert len(pages) < 10_000, "cursor chain does not end"
    assert all(items_key in page for page in pages)
    return pages
