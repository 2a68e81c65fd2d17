"""The tap: its settings, its streams, and a check of the console before anything is synced."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk.helpers.capabilities import EMIT_ACTIVATE_VERSION_CONFIG
from typing_extensions import override

from tap_thinkst_canary.consoles import Console, Consoles
from tap_thinkst_canary.errors import CanaryError, ConfigError, ConsolesFailedError, SyncStopped
from tap_thinkst_canary.interruption import INTERRUPTION
from tap_thinkst_canary.scrubbing import TokenScrubber
from tap_thinkst_canary.settings import CONFIG_SCHEMA, Settings, every_token
from tap_thinkst_canary.state import (
    InvalidStateError,
    check_state,
    consoles_in_state,
    per_console,
)
from tap_thinkst_canary.streams import STREAM_TYPES
from tap_thinkst_canary.writer import FastSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import _ConfigInput

    from tap_thinkst_canary.client import CanaryStream


class TapThinkstCanary(Tap):
    # One line: the SDK's Markdown `--about` indents every line of a longer one.
    """Singer tap for the Thinkst Canary Console: incidents, audit trail, birds and tokens."""

    name = "tap-thinkst-canary"
    package_name = "tap-thinkst-canary"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = FastSingerWriter
    #: The consoles the state to resume from has bookmarks of: no access check for them.
    resumed_consoles: frozenset[str] = frozenset()

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_config(self.config, known_settings=self.sdk_settings())

    @classmethod
    def sdk_settings(cls) -> set[str]:
        """The settings the SDK reads on the tap's behalf (stream maps, flattening, batches,
        ACTIVATE_VERSION messages)."""
        schema: dict[str, t.Any] = {"properties": {}}
        cls.append_builtin_config(schema)
        return {*schema["properties"], *EMIT_ACTIVATE_VERSION_CONFIG["properties"]}

    @cached_property
    def consoles(self) -> Consoles:
        user_agent = f"{self.name}/{self.plugin_version}"
        return Consoles(
            (
                Console(console, self.settings, self.scrubber, self.logger, user_agent=user_agent)
                for console in self.settings.consoles
            ),
            max_parallel=self.settings.max_parallel_consoles,
        )

    @cached_property
    def scrubber(self) -> TokenScrubber:
        return TokenScrubber(*every_token(self.config))

    def check_access(self, stream: CanaryStream) -> None:
        """Ask each console for `/ping` as the sync's first request, unless the state shows the
        console synced before. A console that fails is set aside (see `set_aside`)."""
        self.consoles.check_access(skip=self.resumed_consoles, logger=self.logger)
        self._stop_if_none_left(stream)

    def set_aside(self, console: Console, problem: CanaryError, stream: CanaryStream) -> None:
        """Take a failed console out of the rest of the sync; the others go on."""
        self.consoles.set_aside(console, problem, logger=self.logger)
        self._stop_if_none_left(stream)

    def end_of_stream(self, stream: CanaryStream) -> None:
        """A stream has synced every console. After the last one, the sync succeeded only if
        every console did."""
        if stream.name != self.last_stream:
            return
        # The writer gathers records until the next other message, and when the state has not
        # changed no STATE follows the last records to take them out.
        if isinstance(self.message_writer, FastSingerWriter):
            self.message_writer.write_out()
        if self.consoles.failed:
            self._stop(stream)

    def _stop_if_none_left(self, stream: CanaryStream) -> None:
        """With no console left to sync, the sync ends now."""
        if all(console.failed for console in self.consoles):
            self._stop(stream)

    def _stop(self, stream: CanaryStream) -> None:
        """End the sync, its state the last message: a single console's problem is the run's
        own; with several consoles, the line names those that failed (each said why)."""
        stream.checkpoint(last=True)
        failed = self.consoles.failed
        if len(self.consoles) == 1 and failed[0].failure is not None:
            raise SyncStopped(failed[0].failure)
        raise SyncStopped(ConsolesFailedError(failed, len(self.consoles)))

    @property
    def last_stream(self) -> str | None:
        """The name of the stream the sync ends with, as the SDK orders them."""
        names = [
            stream.name
            for stream in self.streams.values()
            if (stream.selected or stream.has_selected_descendents)
            and not stream.parent_stream_type
        ]
        return names[-1] if names else None

    @override
    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Run the command line, the settings checked before the SDK logs a line: a bad
        setting is the one line the run prints."""
        if not about:
            merged = dict(config.config) if config else {}
            if config and config.parse_env:
                merged.update(cls._env_var_config)
            TokenScrubber(*every_token(merged)).install()
            Settings.from_config(merged, known_settings=cls.sdk_settings())
        super().invoke(
            about=about, about_format=about_format, config=config, state=state, catalog=catalog
        )

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # From here on, no log line can carry the token.
        self.scrubber.install()
        # Our own checks come first: each ends in one line that names the fix, where the
        # schema validator would log a list of messages.
        if raise_errors:
            _ = self.settings
        return super()._validate_config(raise_errors=raise_errors)

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Resume from `state`, unwrapped from its Singer forms and checked first.

        A state the sync cannot resume from is a `ConfigError`, raised before any request; one
        that holds nothing of this tap's is said in one warning, since the sync starts over.
        """
        try:
            checked = check_state(state)
        except InvalidStateError as problem:
            raise ConfigError(
                f"Configuration error: the state to resume from {problem}; restore the last "
                "good state, or start without a state for a full sync."
            ) from None
        if checked.starts_over_because:
            self.logger.warning(
                "The state to resume from holds nothing of this tap's: %s; the sync starts over "
                "from the beginning.",
                checked.starts_over_because,
            )
        names = [console.name for console in self.settings.consoles]
        state, dropped = per_console(checked.state, names)
        if dropped:
            self.logger.warning("The state to resume from: %s.", dropped)
        # Read now: once streams sync, the SDK's own keys in the state (an incremental
        # stream's starting value) would make every console look resumed.
        self.resumed_consoles = frozenset(consoles_in_state(state))
        super().load_state(state)

    @override
    def _setup_signal_handlers(self) -> None:
        # In place of the SDK's handlers, which write a STATE from inside the handler, in the
        # middle of whatever message is being written, and exit 0: a sync cut short is not a
        # success. From here on the tap writes messages, and a signal waits for a safe point.
        INTERRUPTION.install()
        INTERRUPTION.messages_begin()
