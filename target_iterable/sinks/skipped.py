"""Streams that route nowhere, when the user opted in to ``skip_unknown_streams``."""

from __future__ import annotations

from typing import Any

from singer_sdk.sinks import BatchSink


class SkippedStreamSink(BatchSink):
    """Counts and discards records; the run summary reports them as skipped."""

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self._skipped = getattr(self, "_skipped", 0) + 1

    def process_batch(self, context: dict[str, Any]) -> None:
        """Nothing to send."""

    def clean_up(self) -> None:
        self.logger.warning(
            "Skipped %d records of stream '%s' (skip_unknown_streams is on)",
            getattr(self, "_skipped", 0),
            self.stream_name,
        )
        super().clean_up()
