"""TargetIterable: settings, routing, checkpoints and error reporting.

The SDK does the Singer work (reading, stream maps, flattening, validation,
``--about``); this class adds what a loader of customer data owes its users:
a truthful STATE only after every earlier record is acknowledged or in the
rejects file, checkpoints every ``checkpoint_seconds``, and one clear line
instead of a traceback when something goes wrong.
"""

from __future__ import annotations

import sys
import threading
import time
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk import exceptions as sdk_exceptions
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TargetCapabilities
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from target_iterable.client import ClientSettings, IterableClient
from target_iterable.errors import TargetIterableError, UnknownStreamError
from target_iterable.rejects import RejectsFile
from target_iterable.retry import RetryPolicy
from target_iterable.routing import sink_class_for
from target_iterable.run_summary import RunSummary
from target_iterable.settings import CONFIG_SCHEMA, resolve_base_url
from target_iterable.sinks.skipped import SkippedStreamSink
from target_iterable.sinks.users import UsersSink

# Singer input problems the SDK raises; reported as one line, like our own errors.
_INPUT_ERRORS = (
    InvalidInputLine,
    sdk_exceptions.RecordsWithoutSchemaException,
    sdk_exceptions.InvalidRecord,
    sdk_exceptions.MissingKeyPropertiesError,
    sdk_exceptions.InvalidJSONSchema,
)


class TargetIterable(Target):
    """Singer target for Iterable users, events and catalog items."""

    name = "target-iterable"
    config_jsonschema = CONFIG_SCHEMA
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        TargetCapabilities.VALIDATE_RECORDS,
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = resolve_base_url(self.config)
        self.rejects = RejectsFile(self.config["rejects_path"])
        self.run_summary = RunSummary()
        self._locked_types: dict[str, dict[str, str]] = {}
        self._types_lock = threading.Lock()
        # Sinks drain one at a time: events wait for users (see flush_users).
        self.max_parallelism = 1

    @cached_property
    def client(self) -> IterableClient:
        return IterableClient(
            ClientSettings(
                api_key=self.config["api_key"],
                base_url=self.base_url,
                region=self.config["region"],
                connect_timeout=float(self.config["connect_timeout_seconds"]),
                read_timeout=float(self.config["request_timeout_seconds"]),
                retry=RetryPolicy(max_attempts=int(self.config["max_attempts"])),
            )
        )

    # Routing --------------------------------------------------------------------------

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        try:
            return sink_class_for(stream_name)
        except UnknownStreamError as exc:
            if not self.config.get("skip_unknown_streams"):
                raise
            self.logger.warning("Skipping stream: %s", exc)
            return SkippedStreamSink

    def flush_users(self) -> None:
        """Send every pending user record now (events must not overtake their users)."""
        for sink in list(self._sinks_active.values()):
            if isinstance(sink, UsersSink):
                self.drain_one(sink)

    # Field types Iterable has locked, learned from its refusals -----------------------

    def locked_types(self, scope: str) -> dict[str, str]:
        return self._locked_types.get(scope, {})

    def lock_type(self, scope: str, path: str, field_type: str) -> None:
        with self._types_lock:
            self._locked_types.setdefault(scope, {})[path] = field_type

    # Checkpoints ----------------------------------------------------------------------

    def _handle_max_record_age(self) -> None:
        """Checkpoint every ``checkpoint_seconds`` (the SDK alone waits 5 minutes)."""
        interval = float(self.config["checkpoint_seconds"])
        if time.time() - self._last_full_drain_at >= interval:
            self.logger.debug("Checkpoint: draining all sinks")
            self.drain_all()

    def _write_state_message(self, state: dict[str, Any]) -> None:
        """Emit STATE only once the rejects written so far are durable on disk."""
        self.rejects.sync()
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.rejects.close()
        for stats in self.run_summary.streams():
            self.logger.info("Summary: %s", stats.summary_line())
        if self.rejects.count:
            self.logger.warning(
                "%d records were rejected; see %s", self.rejects.count, self.rejects.path
            )

    # CLI ------------------------------------------------------------------------------

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """Drop the SDK's ``load_method``: Iterable only upserts, so it could mislead."""
        super().append_builtin_config(config_jsonschema)
        config_jsonschema["properties"].pop("load_method", None)

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: Any = None,
    ) -> None:
        """Run the target; report known failures as one line and exit 1."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except (TargetIterableError, *_INPUT_ERRORS) as exc:
            cls.logger.error("target-iterable failed: %s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TargetIterable.cli()
