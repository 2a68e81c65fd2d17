"""Shared test helpers: committed API examples and a strict validator for emitted records."""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

import tap_thinkst_canary.model
from tap_thinkst_canary.model._table import Table

FIXTURES = Path(__file__).parent / "fixtures"

# The one date-time form the model emits: RFC 3339, UTC, 'Z', optional microseconds.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATETIME.match(value):
        raise ValueError(f"not an RFC 3339 UTC date-time: {value!r}")
    datetime.fromisoformat(value[:19])
    return True


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _closed(schema: Any) -> Any:
    """A copy of a schema where objects with declared properties allow nothing else."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def _validator(schema_json: str) -> jsonschema.Draft7Validator:
    schema = _closed(json.loads(schema_json))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def assert_valid(record: dict[str, Any], schema: dict[str, Any]) -> None:
    """The record matches the schema exactly: types, date-time form, no undeclared keys.

    It must also survive a JSON round trip unchanged (no NaN, no non-JSON types).
    """
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert json.loads(json.dumps(record, allow_nan=False)) == record


def frozen(value: Any) -> Any:
    """A deep copy to compare against after a call, to prove the input was not changed."""
    return copy.deepcopy(value)


@cache
def model_tables() -> dict[str, Table]:
    """Every table of the data model, by `module.name`."""
    found: dict[str, Table] = {}
    for module_info in pkgutil.iter_modules(tap_thinkst_canary.model.__path__):
        module = importlib.import_module(f"tap_thinkst_canary.model.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Table):
                found[f"{module_info.name}.{name}"] = value
    return found
