"""TargetIterable: builds the delivery context, routes streams, checkpoints, reports.

The SDK does the Singer work (reading, stream maps, flattening, validation,
``--about``); this class adds what a loader of customer data owes its users:
a truthful STATE only after every earlier record is acknowledged or in the
rejects file, checkpoints every ``checkpoint_seconds``, and one clear line
instead of a traceback when something goes wrong. Everything sinks share lives
in the ``DeliveryContext`` built here, once.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from typing import Any, ClassVar

from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TargetCapabilities
from singer_sdk.sinks import Sink

from target_iterable.config_schema import CONFIG_SCHEMA
from target_iterable.delivery.context import DeliveryContext
from target_iterable.delivery.plan import PlanFile
from target_iterable.errors import (
    SingerInputError,
    TargetIterableError,
    TerminationRequested,
    UnknownStreamError,
)
from target_iterable.iterable.client import ClientSettings, IterableClient
from target_iterable.iterable.retry import RetryPolicy
from target_iterable.progress import ProgressReporter
from target_iterable.reader import INPUT_ERRORS, SingerLineReader
from target_iterable.reasons import Reason
from target_iterable.routing import sink_class_for
from target_iterable.run_report import RunClock, RunOutcome, Status, build_report, write_report
from target_iterable.sdk_overrides import TargetOverrides
from target_iterable.settings import Settings, check_stream_maps
from target_iterable.sinks.base import IterableSink
from target_iterable.sinks.skipped import SkippedStreamSink

# A sender thread re-takes the GIL many times per request (socket reads, urllib3),
# waiting up to one switch interval each time while the reader is busy. At 1 ms,
# requests granted 200 ms apart reached Iterable 10 ms apart at start-up and drew
# 429s; at 0.2 ms they arrive within about 10 ms of their grant, for no more CPU.
GIL_SWITCH_SECONDS = 0.0002

# Failures reported as one line (no traceback): ours, and Singer input errors.
REPORTED_ERRORS: tuple[type[Exception], ...] = (TargetIterableError, *INPUT_ERRORS)
# Failures of the input itself (not of Iterable): what was read before is delivered.
INPUT_FAILURES: tuple[type[Exception], ...] = (SingerInputError, *INPUT_ERRORS)


def iterable_client(settings: Settings, plan: PlanFile | None = None) -> IterableClient:
    """The one HTTP client of a run, from the settings (a dry run's records its writes)."""
    return IterableClient(
        ClientSettings(
            api_key=settings.api_key,
            base_url=settings.base_url,
            region=settings.region,
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.request_timeout_seconds,
            retry=RetryPolicy(max_attempts=settings.max_attempts),
            pool_size=4 * settings.max_concurrent_requests,
            rate_limits=settings.rate_limits,
        ),
        recorder=plan,
    )


class TargetIterable(TargetOverrides):
    """Singer target for Iterable users, events, catalog items and more."""

    name = "target-iterable"
    config_jsonschema = CONFIG_SCHEMA
    message_reader_class = SingerLineReader
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        TargetCapabilities.VALIDATE_RECORDS,
        # Full-table version markers drive sync_mode mirror (process_activate_version_messages).
        PluginCapabilities.ACTIVATE_VERSION,
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = RunClock(dt.datetime.now(dt.timezone.utc), time.monotonic())
        # Sender threads must leave on time to keep Iterable's rate limits full while
        # the reader is busy: a far shorter GIL switch interval than Python's 5 ms.
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        check_stream_maps(self.config)
        self.settings = Settings.from_config(self.config)
        plan = PlanFile(self.settings.dry_run_path) if self.settings.dry_run else None
        self.delivery = DeliveryContext(
            self.settings,
            iterable_client(self.settings, plan),
            drain_object=self.drain_object,
            plan=plan,
        )
        # Sinks drain one at a time (sending is concurrent in the sender pools).
        self.max_parallelism = 1
        # Started by the first termination signal (stop_grace_seconds).
        self._grace_deadline: threading.Timer | None = None
        self.progress = ProgressReporter(
            self.delivery.run_summary,
            self.settings.progress_seconds,
            lambda line: self.logger.info("Progress: %s", line),
            share_of_limit=not self.settings.dry_run,
        )
        # For the run report: the last STATE written, and the line that failed the run.
        self.last_state: dict[str, Any] | None = None
        self.failure_line: str | None = None

    # Routing --------------------------------------------------------------------------

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        try:
            return sink_class_for(stream_name)
        except UnknownStreamError as exc:
            if not self.settings.skip_unknown_streams:
                raise
            self.logger.warning("Skipping stream: %s", exc)
            return SkippedStreamSink

    def drain_object(self, kind: str) -> None:
        """Hand the pending records of every stream of one Iterable object to the senders."""
        for sink in self.active_sinks():
            if isinstance(sink, IterableSink) and sink.kind == kind:
                self.drain_one(sink)

    def note_record_version(self, stream: str, version: int) -> None:
        for sink in self.sinks_of(stream):
            if isinstance(sink, IterableSink):
                sink.note_record_version(version)

    # Records refused before any sink --------------------------------------------------

    def admit_record_message(self, message_dict: dict[str, Any]) -> bool:
        """Refuse, and go on past, a RECORD whose ``record`` is not an object."""
        record = message_dict.get("record")
        if record is None or isinstance(record, dict):
            return True
        self.reject_input(
            str(message_dict.get("stream")),
            {"record": record},
            Reason.MALFORMED_RECORD,
            f"RECORD's 'record' is a JSON {type(record).__name__}, not an object",
        )
        return False

    def refuse_unmappable_record(self, message_dict: dict[str, Any], error: Exception) -> None:
        """A stream map expression failed on this record (a column absent from it, say)."""
        self.reject_input(
            str(message_dict.get("stream")),
            message_dict.get("record") or {},
            Reason.STREAM_MAP_ERROR,
            f"{error} A field absent from some records can be read with "
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
        self.delivery.run_summary.for_stream(stream).count_received()
        self.delivery.reject(stream, record, reason, message)

    # Checkpoints ----------------------------------------------------------------------

    @property
    def checkpoint_interval(self) -> float:
        return self.settings.checkpoint_seconds

    def before_state_message(self) -> bool:
        """Emit STATE only when every earlier record is acknowledged or durably rejected;
        never in a dry run, which must not move Meltano's bookmark past unsent records."""
        self.delivery.wait_for_requests()
        self.delivery.rejects.sync()
        return not self.settings.dry_run and not self.delivery.abandoned

    def state_emitted(self, state: dict[str, Any]) -> None:
        self.last_state = state

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.delivery.close()

    def deliver_before_failure(self) -> None:
        """The input broke, not Iterable: deliver what was read before the bad line
        and checkpoint it, so a restart resumes right at the failure."""
        try:
            self.drain_all()
            self.delivery.wait_for_requests()
        except REPORTED_ERRORS as exc:
            self.logger.error("could not deliver the records read before the failure: %s", exc)
            self.delivery.abandon_requests()

    # Reporting ------------------------------------------------------------------------

    def log_summary(self) -> None:
        self.progress.stop()
        rejects = self.delivery.rejects
        rejects.close()
        dry_run = self.settings.dry_run
        for stats in self.delivery.run_summary.streams():
            self.logger.info("Summary: %s", stats.summary_line(dry_run=dry_run))
            stats.emit_metrics()
        if rejects.count:
            self.logger.warning(
                "%d records %s rejected; see %s",
                rejects.count,
                "would be" if dry_run else "were",
                rejects.path,
            )
        plan = self.delivery.plan
        if plan is not None:
            self.logger.info(
                "Dry run: %d requests planned in %s; nothing was sent, no STATE emitted",
                plan.count,
                plan.path,
            )

    def reject_policy_exit_code(self) -> int:
        """1 when a stream's rejected share exceeds ``max_rejected_ratio``."""
        limit = self.settings.max_rejected_ratio
        failed = [
            stats
            for stats in self.delivery.run_summary.streams()
            if stats.received and stats.rejected_total / stats.received > limit
        ]
        for stats in failed:
            self.fail(
                f"stream '{stats.stream}' rejected {stats.rejected_total} of {stats.received} "
                f"records ({100 * stats.rejected_total / stats.received:.0f}%), over "
                f"max_rejected_ratio {100 * limit:.0f}%; every rejected record is in "
                f"{self.delivery.rejects.path}"
            )
        return 1 if failed else 0

    def fail(self, message: str) -> None:
        """Log the line that fails the run; the run report keeps the first one. (No
        such line quotes a record's value: schema violations name the field and rule.)"""
        self.logger.error("target-iterable failed: %s", message)
        if self.failure_line is None:
            self.failure_line = f"target-iterable failed: {message}"

    def write_run_report(self, exit_code: int, status: Status) -> None:
        """The run report, when run_report_path asks for one; a report that cannot be
        written is logged, and never changes how the run ends."""
        path = self.settings.run_report_path
        if path is None:
            return
        document = build_report(
            streams=self.delivery.run_summary.streams(),
            outcome=RunOutcome(exit_code, status, self.failure_line),
            clock=self.clock,
            ended_at=dt.datetime.now(dt.timezone.utc),
            ended_monotonic=time.monotonic(),
            last_state=self.last_state,
            dry_run=self.settings.dry_run,
            rejects_path=str(self.delivery.rejects.path),
            rejects_count=self.delivery.rejects.count,
        )
        try:
            write_report(path, document)
        except OSError as exc:
            self.logger.error("could not write the run report to %s: %s", path, exc)

    # CLI ------------------------------------------------------------------------------

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """Drop the SDK's ``load_method``: Iterable only upserts, so it could mislead."""
        super().append_builtin_config(config_jsonschema)
        config_jsonschema["properties"].pop("load_method", None)

    @classmethod
    def start(cls, file_input: Any, **target_arguments: Any) -> int:
        """Build the target and run it; a bad configuration is one clear line."""
        try:
            target = cls(**target_arguments)
        except REPORTED_ERRORS as exc:
            cls.logger.error("target-iterable failed: %s", exc)
            return 1
        return target.run(file_input)

    def run(self, file_input: Any = None) -> int:
        """Read all input and deliver it; report how it ended; return the exit code."""
        self.progress.start()
        try:
            exit_code, status = self.deliver(file_input)
        except BaseException as exc:
            # A bug, not a refusal: the traceback follows in the log, not in the report,
            # since an unexpected error's text may quote a record.
            self.progress.stop()
            self.failure_line = f"unexpected {type(exc).__name__}: see the traceback in the log"
            self.write_run_report(1, "crashed")
            raise
        self.write_run_report(exit_code, status)
        return exit_code

    def deliver(self, file_input: Any) -> tuple[int, Status]:
        """Read all input and deliver it: the exit code, and how the run ended."""
        try:
            self.listen(file_input)
        except TerminationRequested as stop:
            self.stop_gracefully(stop.signum)
            self.failure_line = f"stopped by signal {stop.signum}"
            self.log_summary()
            return 128 + stop.signum, "stopped"
        except REPORTED_ERRORS as exc:
            self.fail(str(exc.args[0] if exc.args else exc))
            if isinstance(exc, INPUT_FAILURES):
                self.deliver_before_failure()
            else:
                self.delivery.abandon_requests()
            self.log_summary()
            return 1, "failed"
        self.log_summary()
        exit_code = 0 if self.settings.dry_run else self.reject_policy_exit_code()
        return exit_code, "succeeded" if exit_code == 0 else "failed"

    def begin_stop(self, signum: int) -> None:
        """SIGTERM or SIGINT (Meltano, Airflow and Kubernetes stop a job so): reading stops
        at the next message boundary, and the grace period starts now, while the message
        being processed (a drain, perhaps waiting on Iterable) is finished."""
        grace = self.settings.stop_grace_seconds
        self.logger.warning(
            "Stopped by signal %d: sending what was already read (for up to %g s), then a "
            "final STATE; a second signal stops at once",
            signum,
            grace,
        )
        self._grace_deadline = threading.Timer(grace, self.grace_period_over)
        self._grace_deadline.daemon = True
        self._grace_deadline.start()

    def stop_gracefully(self, signum: int) -> None:
        """Send what was read, within ``stop_grace_seconds`` of the signal, then a final
        STATE covering exactly that. Past the grace period, or at a second signal, queued
        requests are abandoned and no STATE is emitted past the last one: a restart from
        it re-sends what was not acknowledged."""
        if self._grace_deadline is None:
            self.begin_stop(signum)
        try:
            self.drain_all()  # sends, waits for every answer, then writes the STATE
            # Without any STATE read, drain_all writes none, so nothing waited yet.
            self.delivery.wait_for_requests()
        except REPORTED_ERRORS as exc:
            self.logger.error("could not deliver the records read before the signal: %s", exc)
            self.delivery.abandon_requests()
        finally:
            if self._grace_deadline is not None:
                self._grace_deadline.cancel()

    def stop_at_once(self, signum: int) -> None:
        """A second signal: exit now. Queued requests are lost, and no STATE claims them:
        a restart from the last STATE sends them again."""
        self.logger.warning("Signal %d again: stopping now, without a final STATE", signum)
        self.delivery.rejects.sync()
        self.failure_line = f"stopped at once by a second signal {signum}, without a final STATE"
        self.write_run_report(128 + signum, "stopped")
        os._exit(128 + signum)

    def grace_period_over(self) -> None:
        self.logger.warning(
            "stop_grace_seconds (%g s) is over: abandoning the requests not yet sent; no "
            "STATE is emitted past the last one",
            self.settings.stop_grace_seconds,
        )
        self.delivery.abandon_requests()


if __name__ == "__main__":
    TargetIterable.cli()
