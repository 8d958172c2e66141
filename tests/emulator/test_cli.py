"""The command line: loopback only, flags into configuration."""

from __future__ import annotations

import pytest

from iterable_emulator.cli import build_parser, config_from, is_loopback, main
from iterable_emulator.identity import ProjectType


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refuses_to_bind_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--host", "0.0.0.0", "--port", "0"])
    assert exit_info.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_flags_become_the_start_up_configuration() -> None:
    args = build_parser().parse_args(
        [
            "--api-key", "k1", "--api-key", "k2", "--project-type", "userId",
            "--no-rate-limits", "--error-rate", "0.25", "--drop-rate", "0.1",
            "--latency-ms", "20", "--retry-after", "1", "--seed", "9",
            "--disallow-event-name", "spam",
        ]
    )  # fmt: skip
    config = config_from(args)
    assert config.api_keys == ("k1", "k2")
    assert config.project_type is ProjectType.USER_ID
    assert config.rate_limits is False
    assert config.disallowed_event_names == frozenset({"spam"})
    faults = config.faults
    assert (faults.error_rate, faults.drop_rate, faults.latency_ms) == (0.25, 0.1, 20)
    assert (faults.retry_after, faults.seed) == (1, 9)


def test_invalid_fault_flag_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        main(["--port", "0", "--error-rate", "2"])
