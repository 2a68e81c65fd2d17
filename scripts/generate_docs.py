"""Generate, or with --check verify, everything that describes the tap from its own code.

- `meltano-hub/tap-thinkst-canary.yml`: the Meltano Hub plugin definition.
- The extractor's definition in `meltano.yml` (between its two "generated" comment lines).
- The settings and streams tables in `README.md` (between their `<!-- ... -->` markers).

Settings and capabilities come from `tap-thinkst-canary --about --format=json`, streams from the
tap's stream classes, and names and links from `pyproject.toml`, so none of them can drift.
Run with `make docs`; the test suite runs it with --check.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HUB_FILE = ROOT / "meltano-hub" / "tap-thinkst-canary.yml"
MELTANO_FILE = ROOT / "meltano.yml"
README = ROOT / "README.md"

TAP = "tap-thinkst-canary"
LABEL = "Thinkst Canary"
# What Meltano checks is set: one console (its address and token), or the list of consoles.
SETTINGS_GROUPS = (("domain", "auth_token"), ("base_url", "auth_token"), ("consoles",))
# The settings every Meltano SDK tap gets for free; the README documents them in one sentence.
SDK_SETTINGS = (
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
)
# The capabilities Meltano Hub knows; the SDK may report more.
HUB_CAPABILITIES = (
    "about",
    "activate-version",
    "batch",
    "catalog",
    "discover",
    "log-based",
    "properties",
    "schema-flattening",
    "state",
    "stream-maps",
    "test",
)
READABLE_KINDS = {"date_iso8601": "date-time"}
# The README lists the streams in the order a reader meets them.
STREAM_ORDER = ("incidents", "incident_events", "audit_trail", "birds", "tokens", "flocks")
MELTANO_BEGIN = (
    "  # The extractor below is generated from `tap-thinkst-canary --about` by `make docs`."
)
MELTANO_END = "  # End of the generated extractor."


def about() -> dict[str, Any]:
    executable = Path(sys.executable).with_name(TAP)
    command = (
        [str(executable)] if executable.exists() else [sys.executable, "-m", "tap_thinkst_canary"]
    )
    result = subprocess.run(
        [*command, "--about", "--format=json"], capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return dict(tomllib.load(file)["project"])


def setting_kind(schema: dict[str, Any]) -> str:
    types = schema.get("type", "string")
    kind = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if kind == "string" and schema.get("format") == "date-time":
        return "date_iso8601"
    return {"number": "decimal"}.get(kind, kind)


def settings(about_info: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, schema in about_info["settings"]["properties"].items():
        setting: dict[str, Any] = {"name": name, "kind": setting_kind(schema)}
        if "title" in schema:
            setting["label"] = schema["title"]
        if "description" in schema:
            setting["description"] = schema["description"]
        if schema.get("secret"):
            setting["sensitive"] = True
        if schema.get("default") is not None:
            # What `meltano config list` shows as the default.
            setting["value"] = schema["default"]
        result.append(setting)
    return result


def extractor(about_info: dict[str, Any]) -> dict[str, Any]:
    """The definition Meltano needs to run the tap, shared by meltano.yml and the Hub file."""
    return {
        "name": TAP,
        "namespace": TAP.replace("-", "_"),
        "label": LABEL,
        "executable": TAP,
        "capabilities": sorted(c for c in about_info["capabilities"] if c in HUB_CAPABILITIES),
        "settings_group_validation": [list(group) for group in SETTINGS_GROUPS],
        "settings": settings(about_info),
    }


def hub_definition(about_info: dict[str, Any]) -> dict[str, Any]:
    meta = project()
    repo = meta["urls"]["Repository"]
    owner = repo.rstrip("/").split("/")[-2]
    base = extractor(about_info)
    return {
        "name": base["name"],
        "namespace": base["namespace"],
        "variant": owner,
        "label": base["label"],
        "description": "Thinkst Canary incidents, events, audit trail, birds, tokens and flocks",
        "logo_url": "/assets/logos/extractors/thinkst-canary.png",
        "domain_url": "https://canary.tools/",
        "repo": repo,
        "docs": meta["urls"]["Documentation"],
        "pip_url": meta["name"],
        "executable": base["executable"],
        "maintenance_status": "active",
        "keywords": ["meltano_sdk", *(k for k in meta["keywords"] if k != "meltano_sdk")],
        "capabilities": base["capabilities"],
        "settings_group_validation": base["settings_group_validation"],
        "settings": base["settings"],
    }


def render_hub(about_info: dict[str, Any]) -> str:
    header = f"# Meltano Hub definition of {TAP}, generated from `{TAP} --about` by `make docs`.\n"
    return header + dump_yaml(hub_definition(about_info))


def meltano_extractor(about_info: dict[str, Any]) -> dict[str, Any]:
    # The project installs the tap from this checkout, editable.
    definition: dict[str, Any] = {}
    for key, value in extractor(about_info).items():
        definition[key] = value
        if key == "label":
            definition["pip_url"] = "-e ."
    return definition


def render_meltano(about_info: dict[str, Any], current: str) -> str:
    block = "".join(
        f"  {line}\n" for line in dump_yaml([meltano_extractor(about_info)]).splitlines()
    )
    return replace_between(current, MELTANO_BEGIN + "\n", MELTANO_END + "\n", block)


def meltano_is_current(about_info: dict[str, Any], current: str) -> bool:
    """Whether meltano.yml's extractor says what the tap does.

    Only the generated keys count, as YAML rather than text: `meltano config set` and
    `meltano select` add keys of the user's own and rewrite the file in their own layout.
    """
    extractors = (yaml.safe_load(current) or {}).get("plugins", {}).get("extractors") or []
    found = next((plugin for plugin in extractors if plugin.get("name") == TAP), None)
    generated = meltano_extractor(about_info)
    return found is not None and all(found.get(key) == value for key, value in generated.items())


def dump_yaml(data: Any) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True))


def settings_table(about_info: dict[str, Any]) -> str:
    properties = about_info["settings"]["properties"]
    required = set(about_info["settings"].get("required", []))
    lines = [
        "| Setting | Type | Required | Default | Description |",
        "|:--|:--|:--:|:--|:--|",
    ]
    for name, schema in properties.items():
        if name in SDK_SETTINGS:
            continue
        kind = READABLE_KINDS.get(setting_kind(schema), setting_kind(schema))
        kind += ", secret" if schema.get("secret") else ""
        default = schema.get("default")
        default_text = "" if default is None else f"`{json.dumps(default)}`"
        lines.append(
            f"| `{name}` | {kind} | {'yes' if name in required else ''} | {default_text} "
            f"| {escape_cell(schema.get('description', ''))} |"
        )
    builtins = ", ".join(f"`{name}`" for name in SDK_SETTINGS if name in properties)
    lines += ["", f"The Meltano Singer SDK adds its standard settings: {builtins}."]
    return "\n".join(lines) + "\n"


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def streams_table() -> str:
    # Imported here so that the other outputs need only the console script.
    from tap_thinkst_canary.tap import TapThinkstCanary

    tap = TapThinkstCanary(
        config={"auth_token": "documentation", "domain": "example"}, validate_config=False
    )
    lines = [
        "| Stream | What it holds | Endpoint | Primary key | Replication | API key |",
        "|:--|:--|:--|:--|:--|:--|",
    ]
    streams = sorted(
        tap.streams.values(),
        key=lambda s: STREAM_ORDER.index(s.name) if s.name in STREAM_ORDER else len(STREAM_ORDER),
    )
    for stream in streams:
        parent = getattr(stream, "parent_stream_type", None)
        if parent is not None:
            replication = f"child of `{parent.name}`: follows its state"
            endpoint = f"events of each `{getattr(parent, 'path', '')}` incident"
        elif resumes := getattr(stream, "replication_summary", None):
            replication = str(resumes)
            endpoint = f"`{getattr(stream, 'path', '')}`"
        elif stream.replication_key:
            replication = f"incremental on `{stream.replication_key}`"
            endpoint = f"`{getattr(stream, 'path', '')}`"
        else:
            replication = "full table"
            endpoint = f"`{getattr(stream, 'path', '')}`"
        keys = ", ".join(f"`{key}`" for key in stream.primary_keys or ())
        summary = " ".join((type(stream).__doc__ or "").strip().split("\n\n")[0].split())
        needs = getattr(stream, "needs_key", None) or "any, read-only included"
        lines.append(
            f"| `{stream.name}` | {escape_cell(summary)} | {endpoint} | {keys} | {replication} "
            f"| {needs} |"
        )
    return "\n".join(lines) + "\n"


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"markers {begin.strip()!r} ... {end.strip()!r} not found")
    return pattern.sub(lambda _: begin + body + end, text, count=1)


def data_model() -> str:
    """The model package's docstring, from reStructuredText to Markdown."""
    from tap_thinkst_canary import model

    lines = (model.__doc__ or "").strip().splitlines()
    markdown: list[str] = []
    for index, line in enumerate(lines):
        underline = lines[index + 1] if index + 1 < len(lines) else ""
        if line and set(line) <= {"-", "="}:
            continue  # the underline of a heading, already turned into ###
        if line and underline and set(underline) <= {"-", "="} and len(underline) >= len(line):
            markdown.append(f"### {line}")
        elif line.startswith("* "):
            markdown.append("- " + line[2:])
        else:
            markdown.append(line)
    return "\n".join(markdown).replace("``", "`") + "\n"


def render_readme(about_info: dict[str, Any], current: str) -> str:
    sections = {
        "settings": settings_table(about_info),
        "streams": streams_table(),
        "data-model": data_model(),
    }
    for marker, body in sections.items():
        current = replace_between(
            current, f"<!-- {marker}:start -->\n", f"<!-- {marker}:end -->\n", body
        )
    return current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    about_info = about()
    outputs: dict[Path, Callable[[str], str]] = {
        HUB_FILE: lambda _: render_hub(about_info),
        MELTANO_FILE: lambda current: render_meltano(about_info, current),
        README: lambda current: render_readme(about_info, current),
    }
    is_current: dict[Path, Callable[[str, str], bool]] = {
        MELTANO_FILE: lambda current, _: meltano_is_current(about_info, current),
    }
    stale = []
    for path, render in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        wanted = render(current)
        same = is_current.get(path, lambda current, wanted: current == wanted)
        if same(current, wanted):
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(str(path) for path in stale)
        print(f"out of date: {names}; regenerate them with `make docs`", file=sys.stderr)
        return 1
    for path in stale:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
