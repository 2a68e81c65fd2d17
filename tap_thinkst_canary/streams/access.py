"""Who and what can reach the console: its users and its API keys, each a snapshot.

Both listings are for administrators: a console may refuse them to a read-only or flock key,
and the sync then goes on without them.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_thinkst_canary.client import Page, SnapshotStream
from tap_thinkst_canary.errors import ConsoleError
from tap_thinkst_canary.model import (
    API_KEY_SCHEMA,
    USER_SCHEMA,
    api_key_record,
    flock_records,
    key_value,
    user_record,
)
from tap_thinkst_canary.streams.inventory import FlocksStream

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

Row = dict[str, t.Any]

ADMIN_KEY = "an admin API key"


class UsersStream(SnapshotStream):
    """The console's users: access level, second factors (TOTP, WebAuthn), single sign-on,
    whether disabled, and the flocks each manages or watches; a full snapshot on every sync.
    Users belong to the console, not to a flock: `flock_id` does not narrow them."""

    name = "users"
    path = "/users/list"
    records_key = "users"
    details_path: t.ClassVar[str] = "/user/get"
    needs_key = ADMIN_KEY
    record_schema = USER_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "id"]

    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        # The list leaves out single sign-on and summary e-mails: each user's details say
        # them, one request per user. Users are console-wide, so no flock filter applies.
        listed = self.fetch_one(console).get(self.records_key) or []
        yield Page([user_record(user, self._details(console, user)) for user in listed])

    def _details(self, console: Console, user: JSON) -> JSON | None:
        email = user.get("email") if isinstance(user, dict) else None
        if not isinstance(email, str) or not email:
            return None
        try:
            answer = console.api.get(self.details_path, {"email": email})
        except ConsoleError as problem:
            # A user removed between the list and this request: the list's row still stands.
            self.logger.warning(
                "%s: the details of one user could not be read, the list's row is kept: %s",
                self.name,
                problem,
            )
            return None
        details = answer.get("user")
        return details if isinstance(details, dict) else None


class ApiKeysStream(SnapshotStream):
    """The console's API keys, global and per flock: id, type, note, when and by whom each was
    created, and a flock key's flock; a full snapshot on every sync. A key's value is never
    emitted, logged or kept in the state, whatever `redact_secrets` says. With `flock_id`, the
    global keys and that flock's keys."""

    # The SDK syncs streams in the order of their names, and this one's comes first: the
    # scrubber knows every key value before any other answer (an audit entry, an incident) is
    # read, so none that quotes one comes out with it.
    name = "api_keys"
    path = "/auth_token/list"
    records_key = "global_api_keys"
    flock_path: t.ClassVar[str] = "/flock/auth_token/list"
    flock_records_key: t.ClassVar[str] = "flock_api_keys"
    needs_key = ADMIN_KEY
    record_schema = API_KEY_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "key_id"]

    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        # Flock keys are listed one flock at a time, and global keys are no flock's: neither
        # fits the declaration of a single endpoint and the flock filter.
        yield Page(self._records(console, self.fetch_one(console), self.records_key))
        for flock_id in self._flock_ids(console):
            answer = console.api.get(self.flock_path, {"flock_id": flock_id})
            self._fetched[console.name] += len(answer.get(self.flock_records_key) or [])
            self.log_progress(console, 1, 1, part=flock_id)
            yield Page(self._records(console, answer, self.flock_records_key, flock_id))

    def _records(
        self, console: Console, answer: JSON, key: str, flock_id: str | None = None
    ) -> list[Row]:
        listed = answer.get(key) or []
        for raw in listed:
            value = key_value(raw)
            if value is not None:
                console.keep_secret(value)
        return [api_key_record(raw, console=console.name, flock_id=flock_id) for raw in listed]

    def _flock_ids(self, console: Console) -> list[str]:
        if console.settings.flock_id is not None:
            return [console.settings.flock_id]
        flocks = flock_records(console.answer_once(FlocksStream.path))
        return [flock["flock_id"] for flock in flocks if flock["flock_id"]]
