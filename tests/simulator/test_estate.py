"""Users, API keys, Outside Bird alerts, suppressed incidents, settings: paging, changes through
the admin interface, deletions and their audit entries, refusals for restricted keys."""

from __future__ import annotations

from typing import Any

import requests

from canary_simulator import Console, Simulator

from .helpers import api_get, api_json, follow_cursor


def _admin(sim: Simulator, method: str, path: str, **params: Any) -> Any:
    response = requests.request(
        method, sim.admin_url + path, params=params,
        headers={"X-Canary-Auth-Token": sim.auth_token}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def _outside_bird(sim: Simulator) -> str:
    return next(b["id"] for b in sim.console.birds() if b["outside_bird"])


def test_outside_bird_pages_give_every_source_once(simulator: Simulator) -> None:
    everything = api_json(simulator, "/incidents/outside_bird/search")["src_ips"]
    pages = follow_cursor(simulator, "/incidents/outside_bird/search", "src_ips", limit=7)
    paged = [(s["node_id"], s["ip_address"]) for page in pages for s in page["src_ips"]]

    assert len(pages) > 2
    assert len(paged) == len(set(paged))
    assert set(paged) == {(s["node_id"], s["ip_address"]) for s in everything}
    assert sum(s["count"] for s in everything) == simulator.console.outside_bird_alert_count()
    assert simulator.console.outside_bird_alert_count() == 300
    assert pages[0]["page_total"] == len(pages)


def test_outside_bird_alerts_added_and_deleted_through_the_admin_interface(
    simulator: Simulator,
) -> None:
    node_id = _outside_bird(simulator)
    before = api_json(simulator, "/incidents/outside_bird/summary", node_id=node_id)["count"]

    _admin(simulator, "POST", "/outside_bird_alerts", count=5)
    assert api_json(simulator, "/incidents/outside_bird/summary", node_id=node_id)["count"] == (
        before + 5
    )
    deleted = _admin(simulator, "DELETE", "/outside_bird_alerts", node_id=node_id)["deleted"]
    assert deleted == before + 5
    assert api_json(simulator, "/incidents/outside_bird/search", node_ids=node_id)["src_ips"] == []


def test_ignored_incidents_page_through_the_suppressed_count(simulator: Simulator) -> None:
    annotation = "palo_alto_pdf_token_trigger"
    _admin(simulator, "POST", f"/ignored_annotations/{annotation}", count=3)
    count = api_json(
        simulator, "/settings/ignored_annotations/incidents/count", annotation=annotation
    )["count"]
    seen, page = [], 1
    while page:
        body = api_json(
            simulator, "/settings/ignored_annotations/incidents", annotation=annotation, page=page
        )
        seen += [(i["node_id"], i["created"], i["src_host"]) for i in body["ignored_incidents"]]
        assert body["total_incidents"] == count
        page = body["next_page"]

    assert count == 27
    assert len(seen) == len(set(seen)) == count
    ignored = api_json(simulator, "/settings/ignored_annotations")["ignored_annotations"]
    assert annotation in {a["name"] for a in ignored}


def test_users_change_through_the_admin_interface(simulator: Simulator) -> None:
    listed = api_json(simulator, "/users/list")["users"]
    assert {u["totp_enabled"] for u in listed} == {"True", "False"}
    assert {u["access_level"] for u in listed} == {"1", "0"}
    assert "True" in {u["disabled"] for u in listed}

    _admin(simulator, "POST", "/users", email="new@example.com", access_level="admin")
    _admin(simulator, "POST", "/users/new@example.com", totp_enabled="true", note="on call")
    user = api_json(simulator, "/user/get", email="new@example.com")["user"]
    assert (user["access_level"], user["totp_enabled"], user["note"]) == ("admin", True, "on call")

    _admin(simulator, "DELETE", "/users/new@example.com")
    assert api_get(simulator, "/user/get", email="new@example.com").status_code == 400
    _admin(simulator, "POST", "/users/new@example.com/restore")
    assert "new@example.com" in {u["email"] for u in api_json(simulator, "/users/list")["users"]}


def test_api_key_listings_hand_out_real_looking_keys_distinct_per_seed(
    make_simulator: Any,
) -> None:
    values = []
    for seed in (1, 2):
        sim = make_simulator(seed=seed)
        keys = api_json(sim, "/auth_token/list")["global_api_keys"]
        for flock_id in sim.console.flock_ids():
            keys += api_json(sim, "/flock/auth_token/list", flock_id=flock_id)["flock_api_keys"]
        assert {k["auth_token"] for k in keys} == sim.console.api_key_values()
        values.append({k["auth_token"] for k in keys})
        assert all(len(v) >= 32 and v.isalnum() for v in values[-1])

    assert values[0].isdisjoint(values[1])


def test_api_keys_removed_and_restored(simulator: Simulator) -> None:
    key_id = _admin(simulator, "POST", "/api_keys", type="Admin", note="temp")["key_id"]
    assert key_id in {
        k["key_id"] for k in api_json(simulator, "/auth_token/list")["global_api_keys"]
    }

    _admin(simulator, "DELETE", f"/api_keys/{key_id}")
    listed = api_json(simulator, "/auth_token/list")["global_api_keys"]
    assert key_id not in {k["key_id"] for k in listed}
    _admin(simulator, "POST", f"/api_keys/{key_id}/restore")
    listed = api_json(simulator, "/auth_token/list")["global_api_keys"]
    assert key_id in {k["key_id"] for k in listed}


def test_birds_carry_no_flock_id_and_flocks_list_them(simulator: Simulator) -> None:
    birds = api_json(simulator, "/devices/all")["devices"]
    summary = api_json(simulator, "/flocks/summary")["flocks_summary"]
    listed = [device for flock in summary.values() for device in flock["devices"]]

    assert birds
    assert all("flock_id" not in b for b in birds)
    assert {b["id"] for b in birds} <= set(listed)


def test_device_info_gives_the_personality_and_enabled_services(simulator: Simulator) -> None:
    bird = simulator.console.birds()[0]
    info = api_json(simulator, "/device/info", node_id=bird["id"], settings="true")["device"]
    enabled = {k.split(".")[0] for k, v in info["settings"].items() if k.endswith(".enabled") and v}

    assert info["settings"]["device.personality"] == bird["personality"]
    assert enabled
    assert info["service_count"] == str(len(enabled))
    assert "settings" not in api_json(simulator, "/device/info", node_id=bird["id"])["device"]
    assert api_get(simulator, "/device/info", node_id="nope").status_code == 400


def test_deleting_an_incident_writes_its_audit_entry(simulator: Simulator) -> None:
    victim = api_json(simulator, "/incidents/all")["incidents"][3]
    count = simulator.console.incident_count()

    audit_id = _admin(simulator, "DELETE", f"/incidents/{victim['id']}")["audit_id"]

    ids = {i["id"] for i in api_json(simulator, "/incidents/all")["incidents"]}
    assert victim["id"] not in ids
    assert len(ids) == count - 1
    entry = api_json(simulator, "/audit_trail/fetch", limit=1)["audit_trail"][0]
    assert entry["id"] == audit_id
    assert entry["action_type"] == "incident_delete"
    assert entry["additional_information"] == {"incident_key": victim["id"]}
    assert entry["flock_id"] == victim["description"]["flock_id"]
    again = requests.delete(
        f"{simulator.admin_url}/incidents/{victim['id']}",
        headers={"X-Canary-Auth-Token": simulator.auth_token}, timeout=10,
    )  # fmt: skip
    assert again.status_code == 400


def test_removing_a_flock_moves_its_birds_and_tokens_to_the_default_flock(
    simulator: Simulator,
) -> None:
    console = simulator.console
    flock_id = next(f for f in console.flocks() if f != "flock:default")
    birds = {b["id"] for b in console.birds() if b["flock_id"] == flock_id}
    tokens = {t["canarytoken"] for t in console.tokens() if t["flock_id"] == flock_id}
    assert birds
    assert tokens

    _admin(simulator, "DELETE", f"/flocks/{flock_id}")

    summary = api_json(simulator, "/flocks/summary")["flocks_summary"]
    assert flock_id not in summary
    assert birds | tokens <= set(summary["flock:default"]["devices"])
    incidents = api_json(simulator, "/incidents/all", flock_id=flock_id)["incidents"]
    assert incidents == []
    assert api_get(simulator, "/flock/auth_token/list", flock_id=flock_id).status_code == 400

    _admin(simulator, "POST", f"/flocks/{flock_id}/restore")
    assert api_json(simulator, "/flock/auth_token/list", flock_id=flock_id)["flock_api_keys"]
    assert flock_id in api_json(simulator, "/flocks/summary")["flocks_summary"]


def test_removed_birds_and_tokens_come_back(simulator: Simulator) -> None:
    bird = simulator.console.birds()[0]["id"]
    token = simulator.console.tokens()[0]["canarytoken"]
    _admin(simulator, "DELETE", f"/birds/{bird}")
    _admin(simulator, "DELETE", f"/tokens/{token}")
    assert bird not in {b["id"] for b in api_json(simulator, "/devices/all")["devices"]}

    _admin(simulator, "POST", f"/birds/{bird}/restore")
    _admin(simulator, "POST", f"/tokens/{token}/restore")
    assert bird in {b["id"] for b in api_json(simulator, "/devices/all")["devices"]}
    tokens = api_json(simulator, "/canarytokens/paginate", limit=1000)["canarytokens"]
    assert tokens[0]["canarytoken"] == token  # back with the newest updated_id


def test_a_restricted_key_is_refused_admin_only_endpoints(make_simulator: Any) -> None:
    sim = make_simulator(key_type="read-only")
    refused = api_get(sim, "/users/list")
    assert refused.status_code == 403
    assert refused.json()["result"] == "error"
    assert "admin key" in refused.json()["message"]
    for path in ("/auth_token/list", "/settings", "/settings/ignored_annotations"):
        assert api_get(sim, path).status_code == 403, path
    assert api_get(sim, "/incidents/all").status_code == 200
    assert api_get(sim, "/device/info", node_id=sim.console.birds()[0]["id"]).status_code == 200

    _admin(sim, "POST", "/permissions", key_type="admin")
    assert api_get(sim, "/users/list").status_code == 200
    _admin(sim, "POST", "/permissions", key_type="flock")
    assert api_get(sim, "/users/list").status_code == 403


def test_settings_carry_the_secrets_of_their_channels(simulator: Simulator) -> None:
    settings = api_json(simulator, "/settings")
    flock_id = list(simulator.console.flocks())[1]
    hooks = api_json(simulator, "/flock/settings/webhooks/info", flock_id=flock_id)

    assert any("@" in url.split("/")[2] for url in settings["generic_incident_webhooks"])
    assert settings["auth_token"] in simulator.console.api_key_values()
    assert hooks["webhook_info"]["splunk_webhook"]["token"]
    assert hooks["webhook_info"]["slack_webhooks"][0]["url"].startswith("https://hooks.slack")


def test_the_estate_is_the_same_for_the_same_seed() -> None:
    a, b = Console(seed=5), Console(seed=5)
    assert a.api_key_values() == b.api_key_values()
    assert a.estate.outside_bird_alerts == b.estate.outside_bird_alerts
    assert a.estate.users == b.estate.users
