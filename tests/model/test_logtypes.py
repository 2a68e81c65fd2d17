"""The logtype catalogue: names, categories, and a typed event column for every documented field."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tap_thinkst_canary.model import LOGTYPES, logtype_category, logtype_name
from tap_thinkst_canary.model.events import event_column_for
from tap_thinkst_canary.model.logtypes import DOCUMENTED_EVENT_FIELDS

REPO = Path(__file__).resolve().parents[2]

# Field names the documentation uses to describe an event's shape, not keys in it: the
# consolidated port scan is a map of port -> Canary addresses (the `ports_scanned` column).
DESCRIPTIVE_FIELDS = {"EVENT_DICT", "port", "canary_IP", "ports_scanned"}


def test_catalogue_is_complete_and_readable() -> None:
    assert len(LOGTYPES) > 90
    for code, (name, category) in LOGTYPES.items():
        assert code.isdigit()
        assert name.strip() == name
        assert name
        assert category.strip() == category
        assert category


@pytest.mark.parametrize(
    ("code", "name", "category"),
    [
        ("1004", "Canary Disconnected", "Operational"),
        ("2000", "FTP Login Attempt", "FTP"),
        ("3001", "HTTP Login Attempt", "HTTP"),
        ("4002", "SSH Login Attempt", "SSH"),
        ("5000", "SMB File Open", "Windows File Share"),
        ("5007", "Consolidated Network Port Scan", "Port Scan"),
        ("16006", "Canarytoken: desktop.ini", "Canarytoken"),
        ("17000", "Canarytoken: HTTP", "Canarytoken"),
        ("17012", "Canarytoken: AWS ID", "Canarytoken"),
        ("17022", "Canarytoken: WireGuard", "Canarytoken"),
        ("23001", "Console Settings Changed", "Operational"),
        # The docs give 23003 the description of 23001; the section title tells them apart.
        ("23003", "Flock Settings Changed", "Operational"),
        ("29001", "WinRM Login Attempt / SSH Key Breadcrumb Used", "WinRM / SSH"),
    ],
)
def test_names_and_categories(code: str, name: str, category: str) -> None:
    assert LOGTYPES[code] == (name, category)
    assert logtype_name(code) == name
    assert logtype_category(code) == category


@pytest.mark.parametrize("code", [4002, " 4002 ", "4002"])
def test_lookup_accepts_codes_as_the_api_writes_them(code: Any) -> None:
    assert logtype_name(code) == "SSH Login Attempt"


@pytest.mark.parametrize("code", [None, "", "99999", "abc", 4002.5, ["4002"]])
def test_unknown_codes_have_no_name(code: Any) -> None:
    assert logtype_name(code) is None
    assert logtype_category(code) is None


def test_every_documented_event_field_has_a_typed_column() -> None:
    missing = {
        (code, field)
        for code, fields in DOCUMENTED_EVENT_FIELDS.items()
        for field in fields
        if field not in DESCRIPTIVE_FIELDS and event_column_for(field) is None
    }
    assert not missing


def test_every_logtype_documents_its_fields() -> None:
    # A few operational incidents have no event attributes; the rest all do.
    empty = {code for code, fields in DOCUMENTED_EVENT_FIELDS.items() if not fields}
    assert empty <= {"22001"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_logtypes", REPO / "scripts" / "generate_logtypes.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SAMPLE_DOCS = """
- section: Basic Structure
  logtypes: []
  logtype_names: {}
  incident_description: null
  event_fields: {flock_id: ID of the Flock}
- section: SSH Login Attempt
  logtypes: ['4000', '4002']
  logtype_names: {'4000': SSH NEW CONNECTION}
  incident_description: SSH Login Attempt
  event_fields: {USERNAME: Username., timestamp: When.}
- section: HTTP
  logtypes: ['17000', '17012']
  logtype_names: {'17012': TOKENS HTTP AWS ID}
  incident_description: Canarytoken triggered
  event_fields: {canarytoken: The token.}
- section: Console Settings Changed
  logtypes: ['23001']
  logtype_names: {}
  incident_description: Console Settings Changed
  event_fields: {SETTINGS: Changed.}
- section: Flock Settings Changed
  logtypes: ['23003']
  logtype_names: {}
  incident_description: Console Settings Changed
  event_fields: {SETTINGS: Changed.}
"""

SAMPLE_ATTRIBUTES = (
    'SVN --- **Event Attributes:** - **description** -- "SVN Repo" - **type (str)** -- "svn" '
    '- **canarytoken (str)** -- Unique string - **logtype (str)** -- "17010" '
    'SSH Login Attempt === **Incident Attributes:** - **description** -- "SSH Login Attempt" '
    '- **logtype (str)** -- "4002" **Event Attributes:** - **localversion (str)** -- SSH server '
    "string supplied by canary."
)


def test_generator_builds_the_catalogue_from_the_docs(tmp_path: Path) -> None:
    docs = tmp_path / "incident-logtypes.yaml"
    docs.write_text(SAMPLE_DOCS, encoding="utf-8")
    attributes = tmp_path / "attributes.txt"
    attributes.write_text(SAMPLE_ATTRIBUTES, encoding="utf-8")
    output = tmp_path / "logtypes.json"

    _generator().main(
        ["--logtypes", str(docs), "--attributes", str(attributes), "--output", str(output)]
    )

    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["incident_fields"] == {"flock_id": "ID of the Flock"}
    logtypes = data["logtypes"]
    assert list(logtypes) == ["4000", "4002", "17000", "17010", "17012", "23001", "23003"]
    assert logtypes["4000"]["name"] == "SSH New Connection"
    assert logtypes["4002"]["name"] == "SSH Login Attempt"
    assert logtypes["4002"]["category"] == "SSH"
    assert list(logtypes["4002"]["event_fields"]) == ["USERNAME", "timestamp", "localversion"]
    assert logtypes["17000"]["name"] == "Canarytoken: HTTP"
    assert logtypes["17012"]["name"] == "Canarytoken: AWS ID"
    assert logtypes["17010"] == {
        "name": "Canarytoken: SVN Repo",
        "category": "Canarytoken",
        "incident_description": "SVN Repo",
        "event_fields": {"type": '"svn"', "canarytoken": "Unique string"},
    }
    assert logtypes["23001"]["name"] == "Console Settings Changed"
    assert logtypes["23003"]["name"] == "Flock Settings Changed"


def test_committed_catalogue_is_what_the_generator_writes() -> None:
    # The committed file is the generator's output format: sorted codes, every entry complete.
    data = json.loads(
        (REPO / "tap_thinkst_canary" / "model" / "logtypes.json").read_text(encoding="utf-8")
    )
    codes = list(data["logtypes"])
    assert codes == sorted(codes, key=int)
    for entry in data["logtypes"].values():
        assert set(entry) == {"name", "category", "incident_description", "event_fields"}
