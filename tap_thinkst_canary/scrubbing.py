"""Keep the API token out of everything the tap writes.

The token only ever travels in a request header, but it can still come back: the console embeds
it in every `next_link`, an error page may echo it, and a library may print a URL. Every response
body, error message and log record passes through a `TokenScrubber` before anyone sees it.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

from typing_extensions import override

REDACTED = "[REDACTED]"
# Shorter values are not scrubbed: replacing a two-letter "token" everywhere would mangle every
# message. The settings refuse such a token before it is ever used.
MIN_SECRET_LENGTH = 8
# Past this many tokens in one response body, scrubbing it in place costs more than a copy.
MAX_IN_PLACE_REPLACEMENTS = 16


class TokenScrubber(logging.Filter):
    """Replaces every secret it knows, raw or URL-encoded, wherever it appears: the API tokens
    of every console, and any secret the tap meets on its way (an API key in a key listing)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._texts: list[str] = []
        self._bytes: list[bytes] = []
        for secret in secrets:
            self.learn(secret)

    def learn(self, secret: str) -> None:
        """From now on, scrub `secret` too (if it is long enough to be one)."""
        if len(secret) < MIN_SECRET_LENGTH:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret)} - set(self._texts)
        if not forms:
            return
        # Longest first, so an encoded form is never half-replaced by a shorter one.
        self._texts = sorted([*self._texts, *forms], key=len, reverse=True)
        self._bytes = [text.encode() for text in self._texts]

    def scrub(self, text: str) -> str:
        for secret in self._texts:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def scrub_in_place(self, body: bytearray) -> None:
        """Scrub a response body without a second copy of it: it can be hundreds of megabytes.

        Each replacement in place moves the rest of the body, which is cheap for the one
        `next_link` of a page; a body full of the token is rebuilt instead. A secret the body
        does not hold, by far the commonest case (every API key learnt, on every page), costs
        one scan of it.
        """
        redacted = REDACTED.encode()
        for secret in self._bytes:
            start = body.find(secret)
            if start == -1:
                continue
            if body.count(secret, start) > MAX_IN_PLACE_REPLACEMENTS:
                body[:] = body.replace(secret, redacted)
                continue
            while start != -1:
                body[start : start + len(secret)] = redacted
                start = body.find(secret, start + len(redacted))

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a log record so that neither its message nor its traceback holds the token."""
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True

    def install(self) -> None:
        """Attach to every handler of the root logger, through which all the tap's logs pass.

        A filter on a logger would miss records propagated from its children; a filter on the
        handlers sees every record that is about to be written. A scrubber installed earlier (for
        another token, in the same process) is replaced.
        """
        handlers = [*logging.getLogger().handlers, logging.lastResort]
        for handler in filter(None, handlers):
            for previous in [f for f in handler.filters if isinstance(f, TokenScrubber)]:
                handler.removeFilter(previous)
            handler.addFilter(self)
