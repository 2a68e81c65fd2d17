"""What decides whether an alert reaches anyone: the console's and each flock's settings; and the
console's licenses. Both are snapshots, read with an admin key."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_thinkst_canary.client import Page, SnapshotStream
from tap_thinkst_canary.model import (
    LICENSE_SCHEMA,
    SETTING_SCHEMA,
    FlockSettingsAnswers,
    Redactor,
    console_setting_records,
    flock_ids_of,
    flock_setting_records,
    license_records,
)
from tap_thinkst_canary.streams.alerts import IGNORED_ANNOTATIONS_PATH
from tap_thinkst_canary.streams.inventory import FlocksStream

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_thinkst_canary.api import JSON
    from tap_thinkst_canary.consoles import Console

ADMIN_KEY = "an admin API key"


class SecretKeepingStream(SnapshotStream):
    """A snapshot stream whose answers carry credentials: each page is converted with a
    `Redactor`, and every secret it met is kept out of every later log line, error and answer.

    Every answer behind a page is fetched before the page's secrets are learnt: learning one
    scrubs it from the answers that come after, which would turn a secret kept on purpose
    (`redact_secrets` false) into '[REDACTED]' half way through a page.
    """

    def redactor(self) -> Redactor:
        return Redactor(redact=self.settings.redact_secrets)

    def page_of(
        self, console: Console, records: list[dict[str, t.Any]], redactor: Redactor
    ) -> Page:
        for secret in redactor.secrets:
            console.keep_secret(secret)
        return Page(records)

    def get(self, console: Console, path: str, *, part: str = "", **params: t.Any) -> JSON:
        answer = console.api.get(path, params)
        self.log_progress(console, 1, 1, part=f"{path} {part}".strip())
        return answer


class SettingsStream(SecretKeepingStream):
    """The settings that decide whether an alert reaches anyone, console-wide and per flock: one
    row per setting and scope. Notification channels (e-mail, SMS, summary e-mail, syslog),
    webhooks (generic, Teams, Slack, HipChat, Splunk), ignore lists (IP, hostname, source port,
    SNMP OID, alert annotations), alerts on settings changes and the console's features; channel
    credentials redacted unless `redact_secrets` is false.

    A sync restricted to a flock (`flock_id`) reads the console-wide settings and that flock's.
    """

    name = "settings"
    path = "/settings"
    records_key = "settings"
    needs_key = ADMIN_KEY
    record_schema = SETTING_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "scope", "setting"]

    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        # Not a declaration: the rows of one scope come from several endpoints, and a flock's
        # from endpoints asked once per flock.
        redactor = self.redactor()
        records = console_setting_records(
            self.get(console, self.path),
            self.get(console, "/settings/generic/list"),
            console.answer_once(IGNORED_ANNOTATIONS_PATH),
            self.get(console, "/console/features"),
            redactor=redactor,
        )
        yield self.page_of(console, records, redactor)
        for flock_id, summary_settings in flock_ids_of(console.answer_once(FlocksStream.path)):
            if not self.in_selected_flock(console, {"flock_id": flock_id}):
                continue
            redactor = self.redactor()
            answers = FlockSettingsAnswers(
                ignore_lists=self._flock_get(console, "whitelisting/info", flock_id),
                notifications=self._flock_get(console, "notifications/info", flock_id),
                webhooks=self._flock_get(console, "webhooks/info", flock_id),
                generic_webhooks=self._flock_get(console, "webhooks/generic/list", flock_id),
                webhooks_global=self._flock_get(console, "webhooks/is_global", flock_id),
                summary_settings=summary_settings,
            )
            records = flock_setting_records(flock_id, answers, redactor=redactor)
            yield self.page_of(console, records, redactor)

    def _flock_get(self, console: Console, endpoint: str, flock_id: str) -> JSON:
        return self.get(console, f"/flock/settings/{endpoint}", part=flock_id, flock_id=flock_id)


class LicensesStream(SecretKeepingStream):
    """The console's licenses for virtual, cloud and container birds: how many it holds, how many
    are in use, and the kind's versions and images, with download passwords and registry pull
    credentials redacted unless `redact_secrets` is false."""

    name = "licenses"
    path = "/license/detailed/info"
    records_key = "licenses"
    needs_key = ADMIN_KEY
    record_schema = LICENSE_SCHEMA
    primary_keys: t.ClassVar[list[str]] = ["console", "kind"]

    @override
    def snapshot(self, console: Console) -> Iterator[Page]:
        # Not a declaration: its converter needs the sync's `Redactor`.
        redactor = self.redactor()
        records = license_records(self.get(console, self.path), redactor=redactor)
        yield self.page_of(console, records, redactor)
