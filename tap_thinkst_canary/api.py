"""The Canary Console API over HTTP: one session, retries, and every failure turned into a
one-line `CanaryError` that says what to do.

The token travels only in the `X-Canary-Auth-Token` header. Cursor pages are asked for with the
`cursor` value, never by following `next_link` (which embeds the token), and every response body
has the token scrubbed out before it is parsed, so it cannot reach a record, a log or an error.
"""

from __future__ import annotations

import contextlib
import email.utils
import itertools
import json
import logging
import random
import re
import threading
import time
import typing as t
from collections.abc import Generator, Iterator, Mapping
from urllib.parse import urlsplit

import backoff
import orjson
import requests
import urllib3.exceptions

from tap_thinkst_canary.broken_text import MAX_NAMED, Repaired, decode_broken_text
from tap_thinkst_canary.errors import (
    API_KEY_HELP,
    ApiDisabledError,
    CanaryError,
    ConsoleError,
    ConsoleUnreachableError,
    CursorRejectedError,
    PermissionRefusedError,
    RetriesExhaustedError,
    TlsError,
    TokenRejectedError,
    UnexpectedResponseError,
)

if t.TYPE_CHECKING:
    from tap_thinkst_canary.scrubbing import TokenScrubber
    from tap_thinkst_canary.settings import ConsoleSettings, Settings

JSON = dict[str, t.Any]
# Reads a successful answer's body faster than the general way, or gives None to leave it to it.
PageReader = t.Callable[[bytearray], JSON | None]

# The first retry waits about this long; each further one doubles it, up to `max_retry_wait`.
FIRST_RETRY_WAIT = 1.0
# The console's own messages are quoted in errors; a runaway body must not become the error.
MAX_QUOTED_MESSAGE = 300
# How far down a chain of wrapped exceptions to look for the real cause.
MAX_CAUSE_DEPTH = 8
# Answers are read in pieces this large: few enough system calls for a page of hundreds of
# megabytes, and the deadline of a try is checked between them.
READ_CHUNK_BYTES = 1024 * 1024
# From this size on, an answer is parsed for memory rather than speed (see `_parse`).
LARGE_ANSWER_BYTES = 32 * 1024 * 1024
# Lone surrogates are what the standard parser lets through and orjson does not (`broken_text`).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class TransientError(Exception):
    """A failure worth another try: rate limits, 5xx, timeouts, dropped or truncated answers."""

    def __init__(
        self,
        description: str,
        *,
        retry_after: float | None = None,
        gives_up_as: type[CanaryError] = RetriesExhaustedError,
        hint: str = "the console may be overloaded or down; try again later, or raise "
        "`max_tries` and `max_retry_wait`",
    ) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after
        self.gives_up_as = gives_up_as
        self.hint = hint


class CanaryApi:
    """GET requests to one console, each retried until it yields a successful JSON answer."""

    def __init__(
        self,
        console: ConsoleSettings,
        settings: Settings,
        scrubber: TokenScrubber,
        logger: logging.Logger,
        *,
        user_agent: str = "tap-thinkst-canary",
    ) -> None:
        self._base_url = console.base_url
        self._host = urlsplit(console.base_url).hostname or console.base_url
        self._timeout = settings.request_timeout
        self._max_tries = settings.max_tries
        self._max_retry_wait = settings.max_retry_wait
        self._scrubber = scrubber
        self._logger = logger
        self._session = requests.Session()
        self._session.headers.update(
            {
                "X-Canary-Auth-Token": console.auth_token,
                "Accept": "application/json",
                "User-Agent": user_agent,
            }
        )
        self._get_with_retries = backoff.on_exception(
            self._waits,
            TransientError,
            max_tries=self._max_tries,
            jitter=None,  # applied in `_waits`, where it cannot shorten a Retry-After
            on_backoff=self._log_retry,
            logger=None,
        )(self._get_once)

    def get(
        self,
        endpoint: str,
        params: Mapping[str, t.Any] | None = None,
        *,
        reader: PageReader | None = None,
    ) -> JSON:
        """The JSON object the console answers to `GET {base_url}{endpoint}?{params}`.

        A successful answer goes to `reader` first, if given: what it returns is the answer,
        unless it returns None, when the answer is parsed the general way.
        """
        started = time.monotonic()
        try:
            return self._get_with_retries(endpoint, dict(params or {}), reader)
        except TransientError as error:
            elapsed = time.monotonic() - started
            tries = f"{self._max_tries} {'try' if self._max_tries == 1 else 'tries'}"
            raise error.gives_up_as(
                f"{error.description} on GET {endpoint}, still after {tries} over "
                f"{elapsed:.0f} s; {error.hint}."
            ) from None

    def pages(
        self,
        endpoint: str,
        params: Mapping[str, t.Any],
        *,
        reader: PageReader | None = None,
    ) -> Iterator[JSON]:
        """Every page of a cursor-paged endpoint: the first asked for with `params`, the rest
        with the `cursor` value alone, which carries the original filters; `reader` as `get`'s.
        """
        seen: set[str] = set()
        page = self.get(endpoint, params, reader=reader)
        while True:
            yield page
            cursor = (page.get("cursor") or {}).get("next")
            if not cursor:
                return
            if cursor in seen:
                raise CursorRejectedError(
                    f"The console handed out the same cursor twice while paging {endpoint}, "
                    "which would never end; run the sync again, it resumes from its last state."
                )
            seen.add(cursor)
            page = self.get(endpoint, {"cursor": cursor}, reader=reader)

    def check_access(self) -> None:
        """One cheap request that fails with the right error if the console cannot be used."""
        self.get("/ping")

    # One try

    def _get_once(self, endpoint: str, params: dict[str, t.Any], reader: PageReader | None) -> JSON:
        deadline = time.monotonic() + self._timeout
        try:
            response = self._session.get(
                self._base_url + endpoint,
                params=params,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect would carry the token header to another host
                stream=True,  # the body is read by `_read_body`, against the try's deadline
            )
        except requests.exceptions.SSLError as error:
            raise TlsError(
                f"TLS verification failed for {self._host} ({self._reason(error)}); check that "
                "`domain`/`base_url` name the console, and if a proxy intercepts TLS, point "
                "REQUESTS_CA_BUNDLE at its CA certificate."
            ) from None
        except requests.exceptions.Timeout:
            raise TransientError(
                f"no answer from {self._host} within {self._timeout} s",
                hint="the console is slow or unreachable; raise `request_timeout`, or try later",
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise TransientError("the connection dropped in the middle of an answer") from None
        except requests.exceptions.ConnectionError as error:
            if _is_name_resolution_failure(error):
                raise ConsoleUnreachableError(
                    f"The console's host name {self._host} does not resolve; check `domain` "
                    "(the console's domain hash, e.g. ab12cd34 for ab12cd34.canary.tools) or "
                    "`base_url`, and this machine's DNS."
                ) from None
            raise TransientError(
                f"cannot connect to {self._host} ({self._reason(error)})",
                gives_up_as=ConsoleUnreachableError,
                hint="check `domain`/`base_url` and that the console is reachable from here "
                "(firewall, proxy)",
            ) from None
        with response:
            body = self._read_body(response, deadline)
        return self._decode(endpoint, params, response, body, reader)

    def _read_body(self, response: requests.Response, deadline: float) -> bytearray:
        """The whole body, or a `TransientError` once the try has lasted `request_timeout`.

        The timeout `requests` applies is per socket read, which a console sending one byte at
        a time never reaches; so at the deadline a timer shuts the socket down under the read.
        """
        timed_out = threading.Event()

        def give_up() -> None:
            timed_out.set()
            with contextlib.suppress(Exception):  # the body may have been read in full already
                response.raw.shutdown()

        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), give_up)
        timer.daemon = True
        timer.start()
        body = bytearray()
        try:
            for chunk in response.iter_content(READ_CHUNK_BYTES):
                body += chunk
                if timed_out.is_set():
                    break
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as error:
            if not (timed_out.is_set() or _is_read_timeout(error)):
                raise TransientError("the connection dropped in the middle of an answer") from None
            timed_out.set()
        finally:
            timer.cancel()
        if timed_out.is_set():
            raise TransientError(
                f"no complete answer from {self._host} within {self._timeout} s",
                hint="the console is slow or unreachable; raise `request_timeout`, or try later",
            )
        return body

    def _decode(
        self,
        endpoint: str,
        params: Mapping[str, t.Any],
        response: requests.Response,
        body: bytearray,
        reader: PageReader | None = None,
    ) -> JSON:
        status = response.status_code
        self._scrubber.scrub_in_place(body)
        if status == 429 or status >= 500:
            raise TransientError(
                f"HTTP {status} {response.reason or ''}".rstrip(),
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        if 300 <= status < 400:
            location = self._scrubber.scrub(response.headers.get("Location", "elsewhere"))
            raise UnexpectedResponseError(
                f"The console redirected GET {endpoint} to {location}, so `domain`/`base_url` "
                "do not point at the console API; use https://<domain hash>.canary.tools/api/v1."
            )
        if _looks_like_html(response, body) and status < 400:
            raise UnexpectedResponseError(
                f"Expected JSON from GET {endpoint} but got an HTML page (a login page, a "
                "proxy or the console's web interface?); check that `domain`/`base_url` point "
                "at the console API, https://<domain hash>.canary.tools/api/v1."
            )
        data = None
        if reader is not None and status < 300 and len(body) < LARGE_ANSWER_BYTES:
            data = reader(body)
        if data is None:
            data = self._parse(endpoint, body)
        # The parsed answer is all that is needed from here on: a large page's bytes go now.
        body.clear()
        if data is None:
            if status < 400:
                raise TransientError("the answer was not complete JSON (truncated?)")
            data = {}
        if not isinstance(data, dict):
            raise UnexpectedResponseError(
                f"GET {endpoint} answered with JSON that is not an object; check that "
                "`domain`/`base_url` point at the Canary Console API."
            )
        if status >= 400 or data.get("result") == "error":
            raise self._refusal(endpoint, params, status, self._message(data))
        return data

    def _parse(self, endpoint: str, body: bytearray) -> t.Any:
        """The JSON value of a body, None if it is not JSON (truncated, or not JSON at all).

        Text that is not valid Unicode (see `broken_text`) is no reason to refuse a page: it
        is decoded with replacement characters, and one warning says where.
        """
        if len(body) >= LARGE_ANSWER_BYTES and not _SURROGATE_ESCAPE.search(body):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                # orjson builds a whole document tree before the objects, which costs about
                # five times a large answer at its peak; the standard parser builds the objects
                # straight from the text, and the bytes can go before it starts.
                body.clear()
                try:
                    return json.loads(text)
                except ValueError:
                    return None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        repaired = decode_broken_text(body)
        if repaired is None:
            return None
        self._logger.warning(
            "GET %s: the answer held text that is not valid Unicode (%s), kept with U+FFFD in "
            "its place%s",
            endpoint,
            repaired.describe(),
            _where(repaired),
        )
        return repaired.value

    def _refusal(
        self, endpoint: str, params: Mapping[str, t.Any], status: int, message: str
    ) -> CanaryError:
        said = f" ({message})" if message else ""
        lowered = message.lower()
        if "disabled" in lowered or "not enabled" in lowered:
            return ApiDisabledError(
                f"The console's API is disabled{said}; an administrator can enable it in the "
                "Canary Console under Settings > API."
            )
        # The endpoint a refusal names is no word about the token (`/auth_token/list` is).
        if status in (401, 403) and _is_about_permission(lowered.replace(endpoint.lower(), "")):
            return PermissionRefusedError(
                f"The console refused GET {endpoint} to this API key{said}; the key works, but "
                "may not read this."
            )
        if status in (401, 403) or "auth_token" in lowered or "unauthorized" in lowered:
            return TokenRejectedError(f"The console rejected the API token{said}; {API_KEY_HELP}.")
        if status == 404:
            return UnexpectedResponseError(
                f"GET {endpoint} was not found (HTTP 404){said}; check that `base_url` ends "
                "with /api/v1, e.g. https://ab12cd34.canary.tools/api/v1."
            )
        if "cursor" in params and ("cursor" in lowered or status == 400):
            return CursorRejectedError(
                f"The console rejected the paging cursor for {endpoint}{said}; run the sync "
                "again, it resumes from its last state."
            )
        status_text = f"HTTP {status}" if status >= 400 else "an error"
        return ConsoleError(
            f"The console answered GET {endpoint} with {status_text}{said}; nothing after the "
            "last state was lost, fix the cause and run the sync again."
        )

    def _message(self, data: JSON) -> str:
        text = data.get("message") or data.get("msg") or data.get("error") or ""
        one_line = " ".join(str(text).split())
        if len(one_line) > MAX_QUOTED_MESSAGE:
            one_line = one_line[:MAX_QUOTED_MESSAGE] + "..."
        return self._scrubber.scrub(one_line)

    def _reason(self, error: BaseException) -> str:
        """The innermost cause of a connection failure, short and without a URL."""
        reason: BaseException = error
        for _ in range(MAX_CAUSE_DEPTH):
            inner = getattr(reason, "reason", None) or reason.__cause__ or reason.__context__
            if not isinstance(inner, BaseException) or inner is reason:
                break
            reason = inner
        text = str(reason)
        text = re.sub(r"<[^>]*>:?\s*", "", text)  # urllib3 prefixes its connection objects
        return (
            self._scrubber.scrub(" ".join(text.split())[:MAX_QUOTED_MESSAGE])
            or type(reason).__name__
        )

    # Retries

    def _waits(self) -> Generator[float, t.Any, None]:
        """Seconds to wait before each retry; `backoff` sends in the error that caused it."""
        error: TransientError = yield 0.0
        for attempt in itertools.count():
            if error.retry_after is not None:
                wait = error.retry_after  # the console's wish is a minimum: no jitter below it
            else:
                exponential = FIRST_RETRY_WAIT * 2**attempt
                wait = random.uniform(exponential / 2, exponential)
            error = yield min(max(wait, 0.0), self._max_retry_wait)

    def _log_retry(self, details: t.Any) -> None:
        error = details.get("exception")
        endpoint = details["args"][0] if details.get("args") else "?"
        description = error.description if isinstance(error, TransientError) else repr(error)
        self._logger.warning(
            "GET %s: %s; retrying in %.1f s (try %d of %d)",
            endpoint,
            description,
            details.get("wait", 0.0),
            details.get("tries", 0) + 1,
            self._max_tries,
        )


def _is_about_permission(message: str) -> bool:
    """Whether a refusal says the key may not do this, rather than that it is not a key."""
    if "auth_token" in message or "invalid" in message:
        return False
    return any(word in message for word in ("not permitted", "permission", "admin"))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as a number or as an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _looks_like_html(response: requests.Response, body: bytearray) -> bool:
    if "html" in response.headers.get("Content-Type", "").lower():
        return True
    return _STARTS_WITH_A_TAG.match(body) is not None


_STARTS_WITH_A_TAG = re.compile(rb"\s*<")


def _where(repaired: Repaired) -> str:
    """`" in incidents incident:1, incident:2"`: the objects holding repaired text, if any."""
    named = []
    for key, ids in repaired.objects_affected().items():
        shown = ", ".join(map(str, ids[:MAX_NAMED]))
        more = f" and {len(ids) - MAX_NAMED} more" if len(ids) > MAX_NAMED else ""
        named.append(f"{key} {shown}{more}")
    return f", in {'; '.join(named)}" if named else ""


def _is_read_timeout(error: BaseException) -> bool:
    """Whether a body stopped coming for `request_timeout` (`requests` wraps that in a
    ConnectionError while it streams a body)."""
    if isinstance(error, requests.exceptions.Timeout):
        return True
    return any(isinstance(arg, urllib3.exceptions.ReadTimeoutError) for arg in error.args)


def _is_name_resolution_failure(error: BaseException) -> bool:
    cause: BaseException | None = error
    for _ in range(MAX_CAUSE_DEPTH):
        if cause is None:
            break
        if isinstance(cause, urllib3.exceptions.NameResolutionError):
            return True
        nested = getattr(cause, "reason", None)
        cause = (
            nested if isinstance(nested, BaseException) else (cause.__cause__ or cause.__context__)
        )
    return False
