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
from types import FrameType
from typing import Any, ClassVar

from singer_sdk.exceptions import MapExpressionError
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TargetCapabilities
from singer_sdk.plugin_base import (
    _ConfigInput,  # what Target.invoke itself uses
)
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from target_iterable.client import (
    CATALOG_ITEMS,
    DEVICE_TOKENS,
    EVENTS_TRACK_BULK,
    USER_DELETES,
    USER_FORGETS,
    USER_READS,
    USERS_BULK_UPDATE,
    ClientSettings,
    IterableClient,
)
from target_iterable.dispatch import RequestDispatcher
from target_iterable.errors import SingerInputError, TargetIterableError, UnknownStreamError
from target_iterable.reader import INPUT_ERRORS, SingerLineReader
from target_iterable.reasons import Reason
from target_iterable.rejects import RejectedRecord, RejectsFile
from target_iterable.retry import RetryPolicy
from target_iterable.routing import sink_class_for
from target_iterable.run_summary import RunSummary
from target_iterable.settings import CONFIG_SCHEMA, check_stream_maps, resolve_base_url
from target_iterable.sinks.skipped import SkippedStreamSink
from target_iterable.sinks.users import UsersSink

# A sender thread re-takes the GIL many times per request (socket reads, urllib3),
# waiting up to one switch interval each time while the reader is busy. At 1 ms,
# requests granted 200 ms apart reached Iterable 10 ms apart at start-up and drew
# 429s; at 0.2 ms they arrive within about 10 ms of their grant, for no more CPU.
GIL_SWITCH_SECONDS = 0.0002

# Failures reported as one line (no traceback): ours, and Singer input errors.
REPORTED_ERRORS: tuple[type[Exception], ...] = (TargetIterableError, *INPUT_ERRORS)
# Failures of the input itself (not of Iterable): what was read before is delivered.
INPUT_FAILURES: tuple[type[Exception], ...] = (SingerInputError, *INPUT_ERRORS)


class TargetIterable(Target):
    """Singer target for Iterable users, events and catalog items."""

    name = "target-iterable"
    config_jsonschema = CONFIG_SCHEMA
    message_reader_class = SingerLineReader
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        TargetCapabilities.VALIDATE_RECORDS,
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Sender threads must leave on time to keep Iterable's rate limits full while
        # the reader is busy: a far shorter GIL switch interval than Python's 5 ms.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        check_stream_maps(self.config)
        self.base_url = resolve_base_url(self.config)
        self.rejects = RejectsFile(self.config["rejects_path"])
        self.run_summary = RunSummary()
        self._locked_types: dict[str, dict[str, str]] = {}
        self._types_lock = threading.Lock()
        self._dispatchers: dict[str, RequestDispatcher] = {}
        self._checkpoint_seconds = float(self.config["checkpoint_seconds"])
        self.forgets_sent = 0  # users/forget calls this run (Iterable allows 1000 a day)
        # Iterable refused users/forget after every retry: the day's quota is used up.
        self.forget_quota_exhausted = False
        # Users known to exist in Iterable (update-only streams ask once per user per run).
        self.known_users: dict[str, bool] = {}
        # Sinks drain one at a time (sending is concurrent in the dispatchers);
        # events wait for users (see flush_users).
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
                pool_size=4 * int(self.config["max_concurrent_requests"]),
                rate_limits={
                    USERS_BULK_UPDATE: float(self.config["users_requests_per_second"]),
                    EVENTS_TRACK_BULK: float(self.config["events_requests_per_second"]),
                    CATALOG_ITEMS: float(self.config["catalog_requests_per_second"]),
                    # registerDeviceToken: 500/s per project [FACTS].
                    DEVICE_TOKENS: 500.0,
                    # DELETE users 100/s; users/forget 3/s (and 1000 a day) [FACTS].
                    USER_DELETES: 100.0,
                    # GET a user: 100/s per project [spec].
                    USER_READS: 100.0,
                    USER_FORGETS: 3.0,
                },
            )
        )

    def dispatcher(self, endpoint: str) -> RequestDispatcher:
        """The sender pool of one endpoint (created on first use, main thread only)."""
        if endpoint not in self._dispatchers:
            self._dispatchers[endpoint] = RequestDispatcher(
                endpoint, concurrency=int(self.config["max_concurrent_requests"])
            )
        return self._dispatchers[endpoint]

    def wait_for_requests(self) -> None:
        """Barrier: every queued request has been answered (or the first failure raises)."""
        for dispatcher in list(self._dispatchers.values()):
            dispatcher.wait_idle()

    # Routing --------------------------------------------------------------------------

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        try:
            return sink_class_for(stream_name)
        except UnknownStreamError as exc:
            if not self.config.get("skip_unknown_streams"):
                raise
            self.logger.warning("Skipping stream: %s", exc)
            return SkippedStreamSink

    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        """Refuse, and go on past, a record that is not an object or that a stream
        map expression fails on (a column absent from this one record, say)."""
        stream = str(message_dict.get("stream"))
        record = message_dict.get("record")
        if record is not None and not isinstance(record, dict):
            self.reject_input(
                stream,
                {"record": record},
                Reason.MALFORMED_RECORD,
                f"RECORD's 'record' is a JSON {type(record).__name__}, not an object",
            )
            return
        try:
            super()._process_record_message(message_dict)
        except MapExpressionError as exc:
            self.reject_input(
                stream,
                record or {},
                Reason.STREAM_MAP_ERROR,
                f"{exc} A field absent from some records can be read with "
                "record.get('field') in the expression.",
            )

    def reject_input(
        self, stream: str, record: dict[str, Any], reason: Reason, message: str
    ) -> None:
        """Reject a record before it reaches a sink.

        Counted under the stream it was mapped to, so the summary and
        ``max_rejected_ratio`` see it beside the records of that stream.
        """
        self.logger.warning("Stream '%s': %s; record rejected", stream, message)
        stream_maps = self.mapper.stream_maps.get(stream)
        if stream_maps:
            stream = stream_maps[0].stream_alias
        stats = self.run_summary.for_stream(stream)
        stats.count_received()
        stats.count_rejected(reason)
        self.rejects.write(RejectedRecord(stream, record, reason, message))

    def _process_schema_message(self, message_dict: dict[str, Any]) -> None:
        """On a schema change, send the old sink's records before the new sink's."""
        super()._process_schema_message(message_dict)
        for retired in self._sinks_to_clear:
            self.drain_one(retired)

    def flush_users(self) -> None:
        """Send every pending user record and wait for Iterable's answers.

        Events must not overtake their users: trackBulk does not create users.
        """
        for sink in list(self._sinks_active.values()):
            if isinstance(sink, UsersSink):
                self.drain_one(sink)
        self.wait_for_endpoint(USERS_BULK_UPDATE)

    def wait_for_endpoint(self, endpoint: str) -> None:
        """Barrier for one endpoint: its queued requests have all been answered."""
        if endpoint in self._dispatchers:
            self._dispatchers[endpoint].wait_idle()

    # Field types Iterable has locked, learned from its refusals -----------------------

    def has_locked_types(self) -> bool:
        return bool(self._locked_types)

    def locked_types(self, scope: str) -> dict[str, str]:
        return self._locked_types.get(scope, {})

    def lock_type(self, scope: str, path: str, field_type: str) -> None:
        with self._types_lock:
            self._locked_types.setdefault(scope, {})[path] = field_type

    # Checkpoints ----------------------------------------------------------------------

    def _handle_max_record_age(self) -> None:
        """Checkpoint every ``checkpoint_seconds`` (the SDK alone waits 5 minutes)."""
        if time.time() - self._last_full_drain_at >= self._checkpoint_seconds:
            self.logger.debug("Checkpoint: draining all sinks")
            self.drain_all()

    def _write_state_message(self, state: dict[str, Any]) -> None:
        """Emit STATE only when every earlier record is acknowledged or durably rejected."""
        self.wait_for_requests()
        self.rejects.sync()
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.wait_for_requests()
        for dispatcher in self._dispatchers.values():
            dispatcher.close()

    def deliver_before_failure(self) -> None:
        """The input broke, not Iterable: deliver what was read before the bad line
        and checkpoint it, so a restart resumes right at the failure."""
        try:
            self.drain_all()
            self.wait_for_requests()
        except REPORTED_ERRORS as exc:
            self.logger.error("could not deliver the records read before the failure: %s", exc)
            self.abandon_requests()

    def abandon_requests(self) -> None:
        """Drop queued requests, let those in flight finish (their records are not
        claimed by any STATE, so nothing is lost: a restart sends them again)."""
        for dispatcher in self._dispatchers.values():
            dispatcher.abandon()

    # Reporting ------------------------------------------------------------------------

    def log_summary(self) -> None:
        self.rejects.close()
        for stats in self.run_summary.streams():
            self.logger.info("Summary: %s", stats.summary_line())
            stats.emit_metrics()
        if self.rejects.count:
            self.logger.warning(
                "%d records were rejected; see %s", self.rejects.count, self.rejects.path
            )

    def reject_policy_exit_code(self) -> int:
        """1 when a stream's rejected share exceeds ``max_rejected_ratio``."""
        limit = float(self.config["max_rejected_ratio"])
        failed = [
            stats
            for stats in self.run_summary.streams()
            if stats.received and stats.rejected_total / stats.received > limit
        ]
        for stats in failed:
            self.logger.error(
                "target-iterable failed: stream '%s' rejected %d of %d records (%.0f%%), over "
                "max_rejected_ratio %.0f%%; every rejected record is in %s",
                stats.stream,
                stats.rejected_total,
                stats.received,
                100 * stats.rejected_total / stats.received,
                100 * limit,
                self.rejects.path,
            )
        return 1 if failed else 0

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
        """Run the target and exit with a code a scheduler can act on.

        Mirrors ``Target.invoke`` but keeps the instance, so that every ending —
        success, a refused run, a signal — logs the summary and closes the
        rejects file. Known failures are one clear line, never a traceback.
        """
        # Skip Target.invoke (replaced here); PluginBase's handles --about.
        super(Target, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        try:
            target = cls(
                config=config.config, validate_config=True, parse_env_config=config.parse_env
            )
        except REPORTED_ERRORS as exc:
            cls.logger.error("target-iterable failed: %s", exc)
            sys.exit(1)
        sys.exit(target.run(file_input))

    def run(self, file_input: Any = None) -> int:
        """Read all input and deliver it; return the process exit code."""
        try:
            self.listen(file_input)
        except TerminationRequested as stop:
            self.logger.warning(
                "Stopped by signal %d: finishing requests in flight, abandoning the rest. "
                "No STATE is emitted past the last one, so a restart from it re-sends "
                "only what was not acknowledged.",
                stop.signum,
            )
            self.abandon_requests()
            self.log_summary()
            return 128 + stop.signum
        except REPORTED_ERRORS as exc:
            self.logger.error("target-iterable failed: %s", exc.args[0] if exc.args else exc)
            if isinstance(exc, INPUT_FAILURES):
                self.deliver_before_failure()
            else:
                self.abandon_requests()
            self.log_summary()
            return 1
        self.log_summary()
        return self.reject_policy_exit_code()

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / Ctrl-C: stop reading at once (the SDK would drain and exit 0)."""
        raise TerminationRequested(signum)


class TerminationRequested(BaseException):
    """A termination signal arrived; raised in the main thread to stop reading."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


if __name__ == "__main__":
    TargetIterable.cli()
