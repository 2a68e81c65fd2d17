"""The HTTP client on its own: retries and their waits, error mapping, paging, token scrubbing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
import requests_mock

from tap_thinkst_canary.api import CanaryApi
from tap_thinkst_canary.errors import (
    ConsoleError,
    CursorRejectedError,
    RetriesExhaustedError,
    TokenRejectedError,
    UnexpectedResponseError,
)
from tap_thinkst_canary.scrubbing import REDACTED, TokenScrubber
from tap_thinkst_canary.settings import Settings

BASE = "https://ab12cd34.canary.tools/api/v1"
TOKEN = "0123456789abcdef0123456789abcdef"


def make_api(**settings: Any) -> CanaryApi:
    config = {"domain": "ab12cd34", "auth_token": TOKEN, **settings}
    settings = Settings.from_config(config)
    return CanaryApi(
        settings.consoles[0], settings, TokenScrubber(TOKEN), logging.getLogger("test-api")
    )


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait between tries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("time.sleep", recorded.append)
    return recorded


def test_retry_after_is_honoured_and_capped(
    requests_mock: requests_mock.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        f"{BASE}/ping",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}},
            {"status_code": 503, "headers": {"Retry-After": "9000"}, "text": "<html>busy</html>"},
            {"json": {"result": "success"}},
        ],
    )
    assert make_api(max_retry_wait=60).get("/ping") == {"result": "success"}
    assert waits == [7.0, 60.0]


def test_other_transient_failures_back_off_exponentially_with_jitter(
    requests_mock: requests_mock.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        f"{BASE}/ping",
        [
            {"status_code": 500},
            {"status_code": 502},
            {"text": '{"result": "succ'},  # truncated
            {"exc": requests.exceptions.ConnectTimeout},
            {"exc": requests.exceptions.ChunkedEncodingError},
            {"text": "not json at all"},
            {"json": {"result": "success"}},
        ],
    )
    assert make_api(max_tries=7, max_retry_wait=10).get("/ping") == {"result": "success"}
    assert len(waits) == 6
    for attempt, wait in enumerate(waits):
        ceiling = min(2**attempt, 10)
        assert ceiling / 2 <= wait <= ceiling


def test_giving_up_after_max_tries(requests_mock: requests_mock.Mocker, waits: list[float]) -> None:
    requests_mock.get(f"{BASE}/ping", status_code=502)
    with pytest.raises(RetriesExhaustedError, match=r"HTTP 502.*still after 3 tries"):
        make_api(max_tries=3).get("/ping")
    assert requests_mock.call_count == 3
    assert len(waits) == 2


def test_fatal_answers_are_not_retried(requests_mock: requests_mock.Mocker) -> None:
    requests_mock.get(f"{BASE}/a", status_code=401, json={"result": "error", "message": "Nope"})
    requests_mock.get(f"{BASE}/b", json={"result": "error", "message": "Broken\nin two"})
    requests_mock.get(f"{BASE}/c", status_code=302, headers={"Location": "https://sso.example"})
    api = make_api()
    with pytest.raises(TokenRejectedError, match=r"\(Nope\)"):
        api.get("/a")
    with pytest.raises(ConsoleError, match=r"\(Broken in two\)"):
        api.get("/b")
    with pytest.raises(UnexpectedResponseError, match=r"redirected GET /c to https://sso\.example"):
        api.get("/c")
    assert requests_mock.call_count == 3


def test_a_refused_cursor_is_told_apart_from_other_errors_on_later_pages(
    requests_mock: requests_mock.Mocker,
) -> None:
    requests_mock.get(
        f"{BASE}/incidents/all",
        [
            {"json": {"result": "error", "message": "Invalid cursor"}},
            {"json": {"result": "error", "message": "Database is being upgraded"}},
        ],
    )
    api = make_api()
    with pytest.raises(CursorRejectedError, match="rejected the paging cursor"):
        api.get("/incidents/all", {"cursor": "c1"})
    with pytest.raises(ConsoleError, match=r"\(Database is being upgraded\)") as caught:
        api.get("/incidents/all", {"cursor": "c2"})
    assert not isinstance(caught.value, CursorRejectedError)


def test_token_only_in_the_header_and_never_in_what_comes_back(
    requests_mock: requests_mock.Mocker,
) -> None:
    next_link = f"{BASE}/incidents/all?cursor=c2&auth_token={TOKEN}"
    requests_mock.get(
        f"{BASE}/incidents/all",
        [
            {"json": {"incidents": [{"id": 1}], "cursor": {"next": "c2", "next_link": next_link}}},
            {"json": {"incidents": [{"id": 2, "note": TOKEN}], "cursor": {"next": None}}},
        ],
    )
    pages = list(make_api().pages("/incidents/all", {"limit": 1}))
    assert TOKEN not in repr(pages)
    assert pages[0]["cursor"]["next_link"].endswith(f"auth_token={REDACTED}")
    assert pages[1]["incidents"][0]["note"] == REDACTED
    first, second = requests_mock.request_history
    assert first.qs == {"limit": ["1"]}
    assert second.qs == {"cursor": ["c2"]}
    for request in requests_mock.request_history:
        assert request.headers["X-Canary-Auth-Token"] == TOKEN
        assert TOKEN not in request.url


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    scrubber = TokenScrubber(TOKEN)
    caplog.handler.addFilter(scrubber)
    logger = logging.getLogger("test-scrub")
    try:
        raise ValueError(f"url?auth_token={TOKEN}")
    except ValueError:
        logger.exception("failed with %s", TOKEN)
    assert TOKEN not in caplog.text
    assert f"failed with {REDACTED}" in caplog.text
    assert f"auth_token={REDACTED}" in caplog.text


def test_text_that_is_not_unicode_is_decoded_with_replacement_characters(
    requests_mock: requests_mock.Mocker, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    body = (
        b'{"incidents": [{"id": "incident:1", "user": "a\\ud800b", "pair": "\\ud83d\\udc26"},'
        b' {"id": "incident:2", "user": "\\\\ud800"},'
        b' {"id": "incident:3", "password": "p\xffw\\udc00"}],'
        b' "cursor": {"next": null, "next_link": "?auth_token=' + TOKEN.encode() + b'\xfe"}}'
    )
    requests_mock.get(f"{BASE}/incidents/all", content=body)
    caplog.handler.addFilter(TokenScrubber(TOKEN))
    page = make_api().get("/incidents/all")
    first, second, third = page["incidents"]
    assert first["user"] == "a\ufffdb"
    assert first["pair"] == "\U0001f426"  # a surrogate pair is a character, kept as it is
    assert second["user"] == "\\ud800"  # an escaped backslash, then text: nothing broken
    assert third["password"] == "p\ufffdw\ufffd"
    assert page["cursor"]["next_link"] == f"?auth_token={REDACTED}\ufffd"
    assert waits == []  # decoded at the first try, not taken for a truncated answer
    (warning,) = [record for record in caplog.records if "not valid Unicode" in record.message]
    assert warning.levelname == "WARNING"
    assert "2 lone surrogate escapes and 2 invalid UTF-8 sequences" in warning.message
    assert "in incidents incident:1, incident:3" in warning.message
    assert TOKEN not in caplog.text


def test_a_truncated_answer_with_broken_text_is_still_retried(
    requests_mock: requests_mock.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        f"{BASE}/incidents/all",
        [
            {"content": b'{"incidents": [{"id": "incident:1", "user": "a\\ud800b\xff"}, {"id'},
            {"content": b'{"incidents": [{"id": "incident:1", "user": "ab"}]}'},
        ],
    )
    page = make_api().get("/incidents/all")
    assert page["incidents"] == [{"id": "incident:1", "user": "ab"}]
    assert len(waits) == 1


def test_the_token_is_scrubbed_in_place_however_often_it_comes_back() -> None:
    scrubber = TokenScrubber(TOKEN)
    for times in (1, 3, 100):
        body = bytearray(f"[{TOKEN}]".encode() * times + b"tail")
        scrubber.scrub_in_place(body)
        assert body == f"[{REDACTED}]".encode() * times + b"tail"
