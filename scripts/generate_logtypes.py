"""Generate the logtype catalogue shipped in ``tap_thinkst_canary/model/logtypes.json``.

The Canary API documentation lists every incident type (its logtype code, code name
and the fields of its events). This script turns that list, plus the older event
attribute list (for codes the current list no longer carries), into the catalogue
the tap reads at run time:

    python scripts/generate_logtypes.py \\
        --logtypes ../shared/canary-api/incident-logtypes.yaml \\
        --attributes ../shared/seeds/canary-incident-event-attributes.txt

Run it again when the documentation changes, and commit the result.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared"
OUTPUT = REPO / "tap_thinkst_canary" / "model" / "logtypes.json"

CANARYTOKEN = "Canarytoken"
TOKEN_SECTIONS = {"HTTP", "DNS", "Wireguard"}

# The service or area each documented section belongs to: the category users group by.
SECTION_CATEGORIES = {
    "Canary Disconnected": "Operational",
    "Canary Settings Changed": "Operational",
    "Console Settings Changed": "Operational",
    "Flock Settings Changed": "Operational",
    "Network Settings Roll-back": "Operational",
    "Local Tampering Detected": "Operational",
    "Custom TCP Service Request": "Custom TCP Service",
    "FTP Login Attempt": "FTP",
    "Git Repository Clone Attempt": "Git",
    "HTTP API Request": "HTTP",
    "HTTP Page Load": "HTTP",
    "HTTP Login Attempt": "HTTP",
    "HTTP POST ERROR PAGE": "HTTP",
    "HTTP Service Scan": "HTTP",
    "HTTP Proxy Request": "HTTP Proxy",
    "LDAP Bind Attempt": "LDAP",
    "ModBus Request": "Modbus",
    "Mongo Request": "MongoDB",
    "MSSQL Login Attempt": "MSSQL",
    "MySQL Login Attempt": "MySQL",
    "NTP Monlist Request": "NTP",
    "Host Port Scan": "Port Scan",
    "Consolidated Network Port Scan": "Port Scan",
    "NMAP FIN Scan": "Port Scan",
    "NMAP NULL Scan": "Port Scan",
    "NMAP OS Scan": "Port Scan",
    "NMAP XMAS Scan": "Port Scan",
    "RDP Login Attempt": "RDP",
    "Redis Command": "Redis",
    "Windows File Share Incidents": "Windows File Share",
    "SIP Request": "SIP",
    "SNMP Request": "SNMP",
    "SSH Login Attempt": "SSH",
    "SSH Key Breadcrumb Used": "SSH",
    "Telnet Login Attempt": "Telnet",
    "TFTP request": "TFTP",
    "TN3270 Login": "TN3270",
    "VNC Login Attempt": "VNC",
    "WinRM Login Attempt": "WinRM",
}

# How the upper-case code names spell words that are not plain English.
WORDS = {
    "ACROBAT_READER": "Acrobat Reader",
    "DESKTOPINI": "desktop.ini",
    "GMAIL": "Gmail",
    "MSEXCEL": "MS Excel",
    "MSWORD": "MS Word",
    "MYSQL": "MySQL",
    "OFFICE365": "Office 365",
    "RUNFINGER": "RunFinger",
    "WIREGUARD": "WireGuard",
}
ACRONYMS = {
    "API", "AWS", "CMD", "CSS", "DNS", "EXE", "GET", "HTTP", "ID", "LANMAN",
    "NET", "PDF", "POST", "PWA", "QR", "RDP", "S3", "SMB", "SSH", "SYN",
}  # fmt: skip


def humanise(code_name: str) -> str:
    """'SSH NEW CONNECTION' -> 'SSH New Connection'; mixed-case names are kept."""
    text = code_name.strip().rstrip(".")
    if text != text.upper():
        return text
    words = []
    for word in text.split():
        if word in WORDS:
            words.append(WORDS[word])
        elif word in ACRONYMS:
            words.append(word)
        else:
            words.append(word.capitalize())
    return " ".join(words)


def token_name(code_name: str | None, fallback: str) -> str:
    """'TOKENS HTTP AWS ID' -> 'Canarytoken: AWS ID'."""
    if not code_name:
        return f"{CANARYTOKEN}: {fallback}"
    words = code_name.split()
    if words and words[0] == "TOKENS":
        words = words[1:]
    if len(words) > 1 and words[0] in ("HTTP", "DNS"):
        words = words[1:]
    return f"{CANARYTOKEN}: {humanise(' '.join(words))}"


def _merge(entry: dict[str, Any], name: str, category: str, fields: dict[str, str]) -> None:
    if name not in entry["name"].split(" / "):
        entry["name"] = f"{entry['name']} / {name}"
    if category not in entry["category"].split(" / "):
        entry["category"] = f"{entry['category']} / {category}"
    for field, text in fields.items():
        entry["event_fields"].setdefault(field, text)


def catalogue_from_docs(sections: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    code_names: dict[str, str] = {}
    for section in sections:
        for code, name in (section.get("logtype_names") or {}).items():
            code_names.setdefault(str(code), name)

    description_sections: dict[str, set[str]] = {}
    for section in sections:
        if section.get("incident_description"):
            description_sections.setdefault(section["incident_description"], set()).add(
                section["section"]
            )

    catalogue: dict[str, dict[str, Any]] = {}
    for section in sections:
        title = section["section"]
        description = section.get("incident_description")
        fields = {str(k): str(v) for k, v in (section.get("event_fields") or {}).items()}
        for raw_code in section.get("logtypes") or []:
            code = str(raw_code)
            if title in TOKEN_SECTIONS:
                category = CANARYTOKEN
                name = token_name(code_names.get(code), title)
                if code in catalogue and catalogue[code]["category"] == CANARYTOKEN:
                    # The same token type documented twice (generic HTTP and its own
                    # section): one name, the union of the fields.
                    catalogue[code]["event_fields"].update(fields)
                    continue
            else:
                category = SECTION_CATEGORIES.get(title, title.removesuffix(" Incidents"))
                if code in code_names:
                    name = humanise(code_names[code])
                elif description and len(description_sections[description]) > 1:
                    # Two sections share a description; the section title tells them apart.
                    name = title if title != description else description
                else:
                    name = description or title
            if code in catalogue:
                _merge(catalogue[code], name, category, fields)
                continue
            catalogue[code] = {
                "name": name,
                "category": category,
                "incident_description": description,
                "event_fields": dict(fields),
            }
    return catalogue


_SEED_BLOCK = re.compile(
    r'\*\*description\*\* -- "([^"]+)"(.*?)(?=\*\*description\*\* --|\Z)', re.S
)
_SEED_CODE = re.compile(r'\*\*logtype \(str\)\*\* -- "(\d+)')
_SEED_FIELD = re.compile(r"\*\*(\w+) \((\w+)\)\s*\*\* -- ([^*]*?)(?= - \*\*|\s*\w* ?-{3,}|\Z)")
_SEED_TYPE = re.compile(r'\*\*type \(str\)\*\* -- "([^"]+)"')


def add_seed_codes(catalogue: dict[str, dict[str, Any]], text: str) -> None:
    """Add codes only the older attribute list documents, and its extra field names."""
    by_description = {
        entry["incident_description"]: entry["category"]
        for entry in catalogue.values()
        if entry["incident_description"]
    }
    for match in _SEED_BLOCK.finditer(text):
        description, body = match.group(1), match.group(2)
        codes = _SEED_CODE.findall(body)
        fields = {
            name: " ".join(doc.split())
            for name, _type, doc in _SEED_FIELD.findall(body)
            if name not in ("logtype", "description")
        }
        token_type = _SEED_TYPE.search(body)
        for code in codes:
            if code in catalogue:
                for field, doc in fields.items():
                    catalogue[code]["event_fields"].setdefault(field, doc)
                continue
            if code.startswith(("16", "17")):
                label = description
                if description == "Canarytoken triggered" and token_type:
                    label = token_type.group(1)
                name, category = f"{CANARYTOKEN}: {label}", CANARYTOKEN
            else:
                name = description
                category = by_description.get(description) or description
            catalogue[code] = {
                "name": name,
                "category": category,
                "incident_description": description,
                "event_fields": fields,
            }


def build(logtypes_yaml: Path, attributes_txt: Path | None) -> dict[str, Any]:
    sections = yaml.safe_load(logtypes_yaml.read_text(encoding="utf-8"))
    catalogue = catalogue_from_docs(sections)
    if attributes_txt is not None and attributes_txt.exists():
        add_seed_codes(catalogue, attributes_txt.read_text(encoding="utf-8"))
    basic = next((s for s in sections if s["section"] == "Basic Structure"), None)
    ordered = {code: catalogue[code] for code in sorted(catalogue, key=int)}
    return {
        "incident_fields": dict((basic or {}).get("event_fields") or {}),
        "logtypes": ordered,
    }


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the logtype catalogue.")
    parser.add_argument(
        "--logtypes", type=Path, default=DEFAULT_SHARED / "canary-api" / "incident-logtypes.yaml"
    )
    parser.add_argument(
        "--attributes",
        type=Path,
        default=DEFAULT_SHARED / "seeds" / "canary-incident-event-attributes.txt",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = build(args.logtypes, args.attributes)
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(data['logtypes'])} logtypes to {args.output}")


if __name__ == "__main__":
    main()
