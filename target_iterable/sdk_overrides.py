"""Every override of the Singer SDK's private internals, in one place.

The SDK offers no public hook for what a loader of customer data must do at
these points (refuse one bad record instead of failing the run, emit STATE
only after Iterable answered, checkpoint more often than every 5 minutes, stop
on a signal without claiming unsent records). Each override here is small and
hands over to a public method of ours. ``tests/target_iterable/test_sdk_overrides.py``
checks every name in ``SDK_PRIVATE_NAMES`` against the installed SDK, so an
SDK release that renames or reshapes one fails loudly there, not in production.
"""

from __future__ import annotations

import abc
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

from singer_sdk.exceptions import InvalidRecord, MapExpressionError
from singer_sdk.plugin_base import _ConfigInput  # what Target.invoke itself uses
from singer_sdk.sinks import BatchSink, Sink
from singer_sdk.target_base import Target

from target_iterable.errors import TerminationRequested
from target_iterable.reader import SingerLineReader
from target_iterable.reasons import Reason, RecordRejected

# (SDK class, private name) pairs this module overrides or reads.
SDK_PRIVATE_NAMES: tuple[tuple[type[Any], str], ...] = (
    (Target, "_process_record_message"),
    (Target, "_process_schema_message"),
    (Target, "_handle_max_record_age"),
    (Target, "_write_state_message"),
    (Target, "_handle_termination"),
    (Target, "_process_activate_version_message"),
    (Target, "_sinks_active"),
    (Target, "_sinks_to_clear"),
    (Target, "_last_full_drain_at"),
    (Target, "_assert_line_requires"),
    (BatchSink, "_validate_and_parse"),
    (BatchSink, "_singer_validate_message"),
    (BatchSink, "_remove_sdc_metadata_from_record"),
    (BatchSink, "_parse_timestamps_in_record"),
    (BatchSink, "_validator"),
)


class TargetOverrides(Target):
    """The Target's private hooks, each handing over to a public method."""

    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        if not self.admit_record_message(message_dict):
            return
        if "version" in message_dict:
            self.note_record_version(message_dict["stream"], message_dict["version"])
        try:
            super()._process_record_message(message_dict)
        except MapExpressionError as exc:
            self.refuse_unmappable_record(message_dict, exc)

    def _process_schema_message(self, message_dict: dict[str, Any]) -> None:
        """On a schema change, send the old sink's records before the new sink's."""
        super()._process_schema_message(message_dict)
        for retired in self._sinks_to_clear:
            self.drain_one(retired)

    def _process_activate_version_message(self, message_dict: dict[str, Any]) -> None:
        """Hand the marker to each sink of the stream that processes markers. (The SDK's
        version also warns about ``_sdc_*`` columns its SQL targets add: not ours.)"""
        self._assert_line_requires(message_dict, requires={"stream", "version"})
        for sink in self.sinks_of(message_dict["stream"]):
            if sink.process_activate_version_messages:
                sink.activate_version(message_dict["version"])
            else:
                self.logger.warning(
                    "ACTIVATE_VERSION ignored for '%s': process_activate_version_messages is off",
                    sink.stream_name,
                )

    def sinks_of(self, stream: str) -> list[Sink]:
        """The sinks a tap stream feeds (one per stream map of it)."""
        return [self.get_sink(m.stream_alias) for m in self.mapper.stream_maps.get(stream, [])]

    def _handle_max_record_age(self) -> None:
        """Checkpoint every ``checkpoint_interval`` seconds (the SDK alone waits 5 minutes)."""
        if time.time() - self._last_full_drain_at >= self.checkpoint_interval:
            self.logger.debug("Checkpoint: draining all sinks")
            self.drain_all()

    def _write_state_message(self, state: dict[str, Any]) -> None:
        if self.before_state_message():
            super()._write_state_message(state)
            self.state_emitted(state)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / Ctrl-C: stop reading at the next message boundary (the SDK would
        drain and exit 0). Raised at once while the reader waits for input; otherwise
        the message being processed is finished first, so no batch is left half-queued."""
        reader = self.message_reader
        if isinstance(reader, SingerLineReader):
            if reader.stop_signal is not None:
                self.stop_at_once(signum)  # a second signal
            reader.stop_signal = signum
            self.begin_stop(signum)
            if not reader.waiting_for_input:
                return
        raise TerminationRequested(signum)

    def active_sinks(self) -> Iterator[Sink]:
        """The sinks of the streams seen so far (a snapshot: draining may add none)."""
        yield from list(self._sinks_active.values())

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: Any = None,
    ) -> None:
        """Mirrors ``Target.invoke``, but keeps the instance and exits with ``run``'s
        code, so that every ending (success, a refused run, a signal) is reported."""
        # Skip Target.invoke (replaced here); PluginBase's handles --about.
        super(Target, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        sys.exit(
            cls.start(
                file_input,
                config=config.config,
                validate_config=True,
                parse_env_config=config.parse_env,
            )
        )

    # Public hooks -------------------------------------------------------------------

    @abc.abstractmethod
    def state_emitted(self, state: dict[str, Any]) -> None:
        """A STATE message was written to stdout (for the run report)."""

    @property
    @abc.abstractmethod
    def checkpoint_interval(self) -> float:
        """Longest time, in seconds, between two checkpoints while input flows."""

    @abc.abstractmethod
    def admit_record_message(self, message_dict: dict[str, Any]) -> bool:
        """Whether a RECORD message can go to the SDK's processing (else refused here)."""

    @abc.abstractmethod
    def note_record_version(self, stream: str, version: int) -> None:
        """A RECORD message carries the tap's full-table version (ACTIVATE_VERSION)."""

    @abc.abstractmethod
    def refuse_unmappable_record(self, message_dict: dict[str, Any], error: Exception) -> None:
        """A stream map expression failed on this one record."""

    @abc.abstractmethod
    def begin_stop(self, signum: int) -> None:
        """A first termination signal arrived (the grace period starts now)."""

    @abc.abstractmethod
    def stop_at_once(self, signum: int) -> None:
        """A second termination signal: exit now."""

    @abc.abstractmethod
    def before_state_message(self) -> bool:
        """Called before each STATE message; whether to write it."""

    @classmethod
    @abc.abstractmethod
    def start(cls, file_input: Any, **target_arguments: Any) -> int:
        """Build the target, read all input; return the process exit code."""


class SinkOverrides(BatchSink):
    """The Sink's private hooks: record validation refusals instead of failures."""

    # Why the record being processed is refused (found before mapping), or None.
    refusal: RecordRejected | None = None

    # Whether the schema check waits until the drain (the sink's ``schema_refusal``
    # is then called for the records change detection did not skip).
    checks_later: bool = False

    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate against the schema, and let ``schema_violation`` decide.

        (The SDK's version logs a traceback and either raises or lets the record through.)
        """
        self.refusal = None if self.checks_later else self.schema_refusal(record)
        return record

    def schema_refusal(self, record: dict[str, Any]) -> RecordRejected | None:
        """Why the record breaks its stream's schema, or None (raises if that fails the run)."""
        if self._validator is not None:
            try:
                self._validator.validate(record)
            except InvalidRecord as exc:
                if self.fails_on_schema_violations:
                    raise
                return RecordRejected(Reason.SCHEMA_VIOLATION, exc.error_message)
        return None

    def _singer_validate_message(self, record: dict[str, Any]) -> None:
        """A record without its stream's key properties: rejected (it cannot be
        upserted by its key), or the run fails (the SDK's way) when asked to."""
        if self.fails_on_schema_violations:
            super()._singer_validate_message(record)
            return
        missing = [name for name in self.key_properties if name not in record]
        if missing and self.refusal is None:
            refusal = RecordRejected(
                Reason.MISSING_KEY_PROPERTY,
                f"record lacks the stream's key properties {missing} "
                f"(key properties: {list(self.key_properties)})",
            )
            # A schema violation is the first reason given, checked now or later.
            self.refusal = (self.schema_refusal(record) if self.checks_later else None) or refusal

    def _remove_sdc_metadata_from_record(self, record: dict[str, Any]) -> None:
        """Keep Singer metadata on the record; the payload builders never send it.

        ``data_fields`` drops every ``_sdc_*`` field, ``_sdc_deleted_at`` drives
        deletes, and the rejects file shows the record as received. (The SDK pops
        each metadata key of every record here, and strips ``_sdc_deleted_at``
        unless ``add_record_metadata`` is on.)
        """

    def _parse_timestamps_in_record(self, *args: Any, **kwargs: Any) -> None:
        """Dates are parsed by this target's converters, which refuse a bad value
        per record instead of failing the run (and do it once per schema, not per key)."""

    @property
    def fails_on_schema_violations(self) -> bool:
        """Whether a schema violation stops the run (else the record is refused)."""
        return False
