"""The tap: its settings, its streams, and a check of the console before anything is synced."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk.helpers.capabilities import EMIT_ACTIVATE_VERSION_CONFIG

from tap_thinkst_canary.api import CanaryApi
from tap_thinkst_canary.errors import ConfigError
from tap_thinkst_canary.interruption import INTERRUPTION
from tap_thinkst_canary.scrubbing import TokenScrubber
from tap_thinkst_canary.settings import CONFIG_SCHEMA, Settings
from tap_thinkst_canary.state import InvalidStateError, check_state
from tap_thinkst_canary.streams import STREAM_TYPES
from tap_thinkst_canary.writer import FastSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import _ConfigInput


class TapThinkstCanary(Tap):
    # One line: the SDK's Markdown `--about` indents every line of a longer one.
    """Singer tap for the Thinkst Canary Console: incidents, audit trail, birds and tokens."""

    name = "tap-thinkst-canary"
    package_name = "tap-thinkst-canary"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = FastSingerWriter

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
    def api(self) -> CanaryApi:
        return CanaryApi(
            self.settings,
            self.scrubber,
            self.logger,
            user_agent=f"{self.name}/{self.plugin_version}",
        )

    @cached_property
    def scrubber(self) -> TokenScrubber:
        token = self.config.get("auth_token")
        return TokenScrubber(token if isinstance(token, str) else "")

    def discover_streams(self) -> list[Stream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # From here on, no log line can carry the token.
        self.scrubber.install()
        # Our own checks come first: each ends in one line that names the fix, where the
        # schema validator would log a list of messages.
        if raise_errors:
            _ = self.settings
        return super()._validate_config(raise_errors=raise_errors)

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
        super().load_state(checked.state)

    def _setup_signal_handlers(self) -> None:
        # In place of the SDK's handlers, which write a STATE from inside the handler, in the
        # middle of whatever message is being written, and exit 0: a sync cut short is not a
        # success. From here on the tap writes messages, and a signal waits for a safe point.
        INTERRUPTION.install()
        INTERRUPTION.messages_begin()

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
        """Run a sync from the command line, after checking the configuration and the console.

        Both checks come before the tap writes anything, so a bad setting, a rejected token or
        an unreachable console is reported in one line and nothing else.
        """
        if not about:
            cls.check_before_sync(config, resuming=state is not None)
        super().invoke(
            about=about, about_format=about_format, config=config, state=state, catalog=catalog
        )

    @classmethod
    def check_before_sync(cls, config: _ConfigInput | None, *, resuming: bool = False) -> None:
        """Check the settings, then ask the console for `/ping`: the first problem found, in
        the configuration or at the console, is raised as a one-line `CanaryError`.

        A run that resumes from a state skips the `/ping`: a scheduled incremental run then makes
        only the requests its streams need, and a console problem still ends it in one error
        line, the last, from its first request.
        """
        merged = dict(config.config) if config else {}
        if config and config.parse_env:
            merged.update(cls._env_var_config)
        token = merged.get("auth_token")
        scrubber = TokenScrubber(token if isinstance(token, str) else "")
        scrubber.install()
        settings = Settings.from_config(merged, known_settings=cls.sdk_settings())
        if not resuming:
            CanaryApi(settings, scrubber, cls.logger).check_access()
