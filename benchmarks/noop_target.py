"""A no-op Singer SDK target with default settings: the CPU baseline of the benchmark."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target


class NoopSink(BatchSink):
    """Reads, validates and batches like any SDK target, then drops the batch."""

    def process_batch(self, context: dict[str, Any]) -> None:
        """Nothing to load."""


class NoopTarget(Target):
    name = "target-noop"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = NoopSink


if __name__ == "__main__":
    NoopTarget.cli()
