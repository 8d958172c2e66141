"""`meltano run` of the bundled demo job delivers the sample into the emulator."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.conftest import MeltanoRun


def test_meltano_run_delivers_the_demo_sample(
    emulator: EmulatorProcess, meltano_run: MeltanoRun, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.jsonl"
    meltano_run("jsonl-to-iterable", TARGET_ITERABLE_REJECTS_PATH=str(rejects))

    summary = emulator.summary()
    assert (summary["users"], summary["events"], summary["catalog_items"]) == (18, 26, 10)
    ada = emulator.user_by_email("ada.lovelace@example.com")
    assert ada is not None
    assert ada["userId"] == "1001"
    assert ada["dataFields"]["sourceUpdatedAt"] == "2024-11-02 09:15:00 +00:00"
    assert ada["dataFields"]["address"] == {"city": "London", "country": "GB"}
    starter = emulator.catalog_item("products", "SKU-001")
    assert starter is not None
    assert starter["price"] == 19.0

    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert Counter((line["stream"], line["reason"]) for line in lines) == {
        ("users", "invalid_email"): 2,
        ("events", "invalid_email"): 2,
        ("events", "missing_identity"): 2,
    }


def test_meltano_run_replays_the_bundled_messages(
    emulator: EmulatorProcess, meltano_run: MeltanoRun, tmp_path: Path
) -> None:
    """tap-jsonl types ``properties`` as object-or-string: both kinds of row land."""
    rejects = tmp_path / "rejects.jsonl"
    meltano_run(
        "messages-to-iterable",
        TARGET_ITERABLE_REJECTS_PATH=str(rejects),
        TARGET_ITERABLE_MAX_REJECTED_RATIO="1",
    )
    summary = emulator.summary()
    assert (summary["users"], summary["events"]) == (4, 5)
    alan = emulator.events_for(email="alan@example.com")
    assert sorted(e["eventName"] for e in alan) == ["Application Home Page", "Newsletter Opened"]
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(line["record"]["messageId"], line["reason"]) for line in lines] == [
        ("m-011", "invalid_email"),  # an alias to an id that is not an address
        ("m-012", "missing_identity"),
        ("m-013", "invalid_platform"),
    ]
