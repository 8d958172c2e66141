"""`meltano run` of the bundled demo job delivers the sample into the emulator."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

from iterable_emulator.testing import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"


def test_meltano_run_delivers_the_demo_sample(emulator: EmulatorProcess, tmp_path: Path) -> None:
    assert MELTANO.exists(), "Meltano is not set up: run the tests with bash scripts/test.sh"
    rejects = tmp_path / "rejects.jsonl"
    completed = subprocess.run(
        [str(MELTANO), "run", "--full-refresh", "--force", "jsonl-to-iterable"],
        cwd=ROOT,
        env={
            **os.environ,
            "TARGET_ITERABLE_API_KEY": emulator.api_key,
            "TARGET_ITERABLE_API_BASE_URL": emulator.url,
            "TARGET_ITERABLE_REJECTS_PATH": str(rejects),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    summary = emulator.summary()
    assert (summary["users"], summary["events"], summary["catalog_items"]) == (18, 26, 10)
    ada = emulator.user_by_email("ada.lovelace@example.com")
    assert ada is not None
    assert ada["userId"] == "1001"
    assert ada["dataFields"]["sourceUpdatedAt"] == "2024-11-02 09:15:00 +00:00"
    assert ada["dataFields"]["address"] == {"city": "London", "country": "GB"}
    assert emulator.catalog_item("products", "SKU-001")["price"] == 19.0

    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert Counter((line["stream"], line["reason"]) for line in lines) == {
        ("users", "invalid_email"): 2,
        ("events", "invalid_email"): 2,
        ("events", "missing_identity"): 2,
    }
    assert emulator.api_key not in completed.stdout + completed.stderr
