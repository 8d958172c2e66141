"""The SDK's standard target tests, run with ``skip_unknown_streams`` on.

The standard tests feed streams with arbitrary names (``test_stream``,
``CamelCase``…) that route to no Iterable object. With the documented opt-in
``skip_unknown_streams`` they exercise everything Singer-side — parsing,
schema changes, state, key properties, validation — without sending anything;
the routed paths are covered by test_end_to_end.py against the emulator.
"""

from __future__ import annotations

from singer_sdk.testing import get_target_test_class

from target_iterable.target import TargetIterable

TestSDKStandardTargetTests = get_target_test_class(
    target_class=TargetIterable,
    config={
        "api_key": "standard-tests-key",
        # Nothing is sent (every stream is skipped); the port is never connected to.
        "api_base_url": "http://127.0.0.1:9",
        "skip_unknown_streams": True,
        # The suite expects a schema violation to stop the run (its
        # record_missing_required_property test); the default rejects and goes on.
        "schema_violations": "fail",
    },
    custom_suites=[],
    include_target_tests=True,
)
