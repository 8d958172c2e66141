"""Print what the demo pipeline left in the local Iterable emulator and the rejects file.

Run by scripts/demo.sh with the project's .venv:

    .venv/bin/python demo/show_results.py --base-url http://127.0.0.1:PORT \
        --api-key test-api-key --rejects output/rejects.jsonl

It shows the emulator's counts (GET /_emulator/summary), one user profile as
Iterable now holds it (GET /api/users/getByEmail) and every rejected record
with its reason. Exits 1 if the emulator cannot be read or holds no users.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

import requests

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_EMAIL = "ada.lovelace@example.com"


def header(title: str) -> None:
    print()
    print(f"---- {title} " + "-" * max(0, 66 - len(title)))


def get_json(url: str, **kwargs: Any) -> Any:
    response = requests.get(url, timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def user_count(summary: Any) -> int | None:
    """Best-effort number of users in the emulator's summary (shape not fixed here)."""
    if not isinstance(summary, dict):
        return None
    for key in ("users", "user_count", "users_count"):
        value = summary.get(key)
        if isinstance(value, int):
            return value
        if isinstance(value, dict):
            for inner in ("count", "total"):
                if isinstance(value.get(inner), int):
                    return value[inner]
    for value in summary.values():
        if isinstance(value, dict):
            found = user_count(value)
            if found is not None:
                return found
    return None


def show_summary(base_url: str) -> Any:
    header("What landed in Iterable (emulator counts, GET /_emulator/summary)")
    summary = get_json(f"{base_url}/_emulator/summary")
    print(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False))
    inputs = {
        name: count_lines(DATA_DIR / f"{name}.jsonl")
        for name in ("customers", "signups", "products")
    }
    print(
        "Input records: "
        + ", ".join(f"{count} {name}" for name, count in inputs.items())
        + f" ({sum(inputs.values())} in all)"
    )
    return summary


def show_user(base_url: str, api_key: str, email: str) -> None:
    header(f"One user profile as Iterable now holds it (getByEmail {email})")
    response = requests.get(
        f"{base_url}/api/users/getByEmail",
        params={"email": email},
        headers={"Api-Key": api_key},
        timeout=10,
    )
    try:
        body = response.json()
    except ValueError:
        body = response.text
    print(f"HTTP {response.status_code}")
    print(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False))


# Demo tap stream -> the Iterable stream it is mapped to (meltano.yml) -> summary key.
ACCOUNTING = (
    ("customers", "users", "users"),
    ("signups", "events", "events"),
    ("products", "catalog-products", "catalog_items"),
)


def reject_counts(path: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                counts[str(json.loads(line).get("stream"))] += 1
            except (ValueError, AttributeError):
                counts["?"] += 1
    return counts


def show_accounting(summary: Any, rejects: Path) -> bool:
    """Every input record is either in Iterable or in the rejects file."""
    header("Nothing lost: input = landed in Iterable + rejected")
    rejected = reject_counts(rejects)
    balanced = True
    for source, stream, key in ACCOUNTING:
        given = count_lines(DATA_DIR / f"{source}.jsonl")
        landed = summary.get(key) if isinstance(summary, dict) else None
        if not isinstance(landed, int):
            print(f"  {source:<10} -> {stream:<17} {given} in; emulator count '{key}' not found")
            continue
        ok = landed + rejected[stream] == given
        balanced = balanced and ok
        print(
            f"  {source:<10} -> {stream:<17} {given:>3} in = {landed:>3} landed"
            f" + {rejected[stream]} rejected  {'ok' if ok else 'MISMATCH'}"
        )
    return balanced


def show_rejects(path: Path) -> int:
    header(f"Rejected records ({path})")
    if not path.exists():
        print("No rejects file: every record was accepted.")
        return 0
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"{len(lines)} line(s)")
    by_reason: collections.Counter[tuple[str, str]] = collections.Counter()
    for number, line in enumerate(lines, start=1):
        try:
            reject = json.loads(line)
        except ValueError:
            print(f"  {number:>3}. (not JSON) {line[:120]}")
            continue
        stream = str(reject.get("stream", "?"))
        reason = str(reject.get("reason", "?"))
        by_reason[(stream, reason)] += 1
        record = reject.get("record") or {}
        ident = {
            key: record[key]
            for key in ("email", "userId", "eventName", "itemId", "signupId")
            if isinstance(record, dict) and key in record
        }
        print(f"  {number:>3}. [{stream}] {reason}: {reject.get('message', '')}")
        if ident:
            print(f"       record: {json.dumps(ident, ensure_ascii=False)}")
    if by_reason:
        print("By stream and reason:")
        for (stream, reason), count in sorted(by_reason.items()):
            print(f"  {count:>3}  {stream:<18} {reason}")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base-url", required=True, help="emulator root, e.g. http://127.0.0.1:8089"
    )
    parser.add_argument("--api-key", default="test-api-key")
    parser.add_argument("--rejects", default="output/rejects.jsonl", type=Path)
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="user to read back")
    args = parser.parse_args(argv)
    base_url = args.base_url.rstrip("/")

    try:
        summary = show_summary(base_url)
        show_user(base_url, args.api_key, args.email)
    except requests.RequestException as exc:
        print(f"error: could not read the emulator at {base_url}: {exc}", file=sys.stderr)
        return 1
    show_rejects(args.rejects)
    if not show_accounting(summary, args.rejects):
        print(
            "warning: some records are neither in Iterable nor in the rejects file", file=sys.stderr
        )

    users = user_count(summary)
    if users == 0:
        print("error: the emulator holds no users: the pipeline delivered nothing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
