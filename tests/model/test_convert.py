"""The value converters: every form the API writes, and what happens to everything else."""

from __future__ import annotations

import email.utils
import random
from typing import Any

import pytest

from tap_thinkst_canary.model._convert import (
    INVALID,
    renders,
    to_boolean,
    to_datetime,
    to_flag,
    to_integer,
    to_number,
    to_port_list,
    to_string,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (80, 80),
        ("80", 80),
        (" 60961 ", 60961),
        ("-3", -3),
        (24.0, 24),
        ("24.0", 24),
        ("", None),
        ("   ", None),
        (None, None),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        (2**63, INVALID),
        (str(2**70), INVALID),
        (1e19, INVALID),
        ("<source_port>", INVALID),
        ("1_000", INVALID),
        ("12.5", INVALID),
        (12.5, INVALID),
        (True, INVALID),
        ([80], INVALID),
        ({"port": 80}, INVALID),
        (float("nan"), INVALID),
        ("inf", INVALID),
        ("٣", INVALID),  # only ASCII decimals are numbers; anything else is kept raw
    ],
)
def test_to_integer(raw: Any, expected: Any) -> None:
    assert to_integer(raw) is expected if expected is INVALID else to_integer(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19579.0", 19579.0),
        (3, 3),
        (0.5, 0.5),
        ("", None),
        ("abc", INVALID),
        ("nan", INVALID),
        (float("inf"), INVALID),
        (False, INVALID),
    ],
)
def test_to_number(raw: Any, expected: Any) -> None:
    assert to_number(raw) is expected if expected is INVALID else to_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("True", True),
        ("False", False),
        ("true", True),
        ("FALSE", False),
        ("Yes", True),
        ("no", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("", None),
        (None, None),
        ("maybe", INVALID),
        (2, INVALID),
        ({"value": True}, INVALID),
    ],
)
def test_to_boolean(raw: Any, expected: Any) -> None:
    assert to_boolean(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", True), (None, True), ("1", True), ("SYN", True), ("False", False), (0, False)],
)
def test_flags_are_set_by_presence(raw: Any, expected: bool) -> None:
    assert to_flag(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("héllo ✓ 密码", "héllo ✓ 密码"),
        ("", ""),
        (None, None),
        (42, "42"),
        (1.5, "1.5"),
        (True, INVALID),
        ({"a": 1}, INVALID),
        (["a"], INVALID),
    ],
)
def test_to_string(raw: Any, expected: Any) -> None:
    result = to_string(raw)
    assert result is expected if expected is INVALID else result == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("23,80,443", [23, 80, 443]),
        ("23, 80 ,443,", [23, 80, 443]),
        ([23, "80"], [23, 80]),
        ("", []),
        (None, None),
        ("23,http", INVALID),
        ("080,443", [80, 443]),
        ("80,,443", [80, 443]),
        (f"80,{2**63}", INVALID),
        ([23, None], INVALID),
        (23, INVALID),
    ],
)
def test_to_port_list(raw: Any, expected: Any) -> None:
    result = to_port_list(raw)
    assert result is expected if expected is INVALID else result == expected


def test_a_port_list_read_as_json_is_the_one_read_item_by_item() -> None:
    # Text that is a JSON array without its brackets is read in one pass; whatever it reads
    # must be what reading the items one by one gives, and the rest is read that way.
    rng = random.Random(11)
    pieces = ["0", "7", "80", "080", "443", "65535", str(2**63 - 1), str(2**63), str(2**64)]
    pieces += ["-1", "-0", "+5", "1.0", "1e3", "", " ", "\t", "x", '"80"', "[1]", "null", "true"]
    separators = [",", ",", ",", ", ", " ,", ";", ",,", " ", "]", "[", "\n"]
    json_read = 0
    for _ in range(20_000):
        text = "".join(
            rng.choice(pieces) + rng.choice(separators) for _ in range(rng.randint(0, 6))
        ) + rng.choice(pieces)
        # A list of the items is read item by item.
        items = [item for item in text.replace(";", ",").split(",") if item.strip()]
        expected = to_port_list(items)
        result = to_port_list(text)
        assert result is expected if expected is INVALID else result == expected, text
        json_read += result is not INVALID and text.replace(",", "").isdigit()
    assert json_read > 500


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # epoch seconds, as numbers and strings, keeping sub-second precision exactly
        (1586338742, "2020-04-08T09:39:02Z"),
        ("1586338742", "2020-04-08T09:39:02Z"),
        ("1586249510.069870", "2020-04-07T08:51:50.069870Z"),
        ("1746085804.66", "2025-05-01T07:50:04.660000Z"),
        ("1586249510.000000", "2020-04-07T08:51:50Z"),
        ("1586249510.1234567", "2020-04-07T08:51:50.123456Z"),
        (1586249510.5, "2020-04-07T08:51:50.500000Z"),
        (0, "1970-01-01T00:00:00Z"),
        ("-1.5", "1969-12-31T23:59:58.500000Z"),
        # *_std values, in UTC and in other zones
        ("2020-04-08 09:39:02 UTC+0000", "2020-04-08T09:39:02Z"),
        ("2020-04-08 11:39:02 SAST+0200", "2020-04-08T09:39:02Z"),
        ("2020-04-08 04:39:02 EST-0500", "2020-04-08T09:39:02Z"),
        ("2020-01-01 01:00:00 CET+0100", "2020-01-01T00:00:00Z"),
        ("2020-04-08 05:09:02 UTC-0430", "2020-04-08T09:39:02Z"),
        # other renderings the API uses
        ("2020-04-07 08:51:50 (UTC)", "2020-04-07T08:51:50Z"),
        ("Wed, 08 Apr 2020 10:55:09 GMT", "2020-04-08T10:55:09Z"),
        ("Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)", "2020-04-14T22:11:18Z"),
        ("Tue Apr 14 2020 23:11:18 GMT+0100 (BST)", "2020-04-14T22:11:18Z"),
        ("2020-04-08T09:39:02Z", "2020-04-08T09:39:02Z"),
        ("2020-04-08T09:39:02.25+00:00", "2020-04-08T09:39:02.250000Z"),
        ("", None),
        (None, None),
        # present but unreadable: kept raw by the caller
        ("2020-04-08 09:39:02", INVALID),  # no zone: the instant is unknown
        ("2020-13-45 99:99:99 UTC+0000", INVALID),
        ("2020-04-08 09:39:02 Mars", INVALID),
        ("2020-04-08 09:39:02 UTC+9999", INVALID),
        ("yesterday", INVALID),
        ("Wed, 08 Foo 2020 10:55:09 GMT", INVALID),
        ("1586338742abc", INVALID),
        ("99999999999999999999", INVALID),
        (10**20, INVALID),
        (float("nan"), INVALID),
        (True, INVALID),
        ({"t": 1}, INVALID),
        ("١٥٨٦٣٣٨٧٤٢", INVALID),
    ],
)
def test_to_datetime(raw: Any, expected: Any) -> None:
    result = to_datetime(raw)
    assert result is expected if expected is INVALID else result == expected


def test_every_epoch_second_of_a_day_round_trips() -> None:
    from datetime import datetime, timezone

    start = 1_700_000_000
    for seconds in range(start, start + 86_400, 997):
        expected = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert to_datetime(seconds) == expected
        assert to_datetime(str(seconds)) == expected


def test_a_rendering_recognised_by_its_slices_converts_to_the_same_second() -> None:
    rng = random.Random(5)
    for _ in range(300):
        seconds = rng.randrange(0, 4_000_000_000)
        instant = to_datetime(seconds)
        http_date = email.utils.formatdate(seconds, usegmt=True)
        std = f"{instant[:10]} {instant[11:19]} UTC+0000"
        for text in (http_date, std):
            assert renders(text, instant), text
            for position in range(len(text)):
                for replacement in (" ", "0", "9", "x", "\t"):
                    changed = text[:position] + replacement + text[position + 1 :]
                    if renders(changed, instant):
                        assert to_datetime(changed)[:19] == instant[:19], changed
