"""Extract the request-body JSON schemas the emulator validates against.

Iterable's OpenAPI (Swagger 2.0) description is the authority for request
shapes, but the project must not read it at run time (a user's machine does not
have it). This developer script copies the definitions the emulator needs, plus
every definition they reference, into ``iterable_emulator/spec_schemas.json``,
which is committed and loaded with ``importlib.resources``.

Descriptions, examples and vendor extensions are dropped: they do not validate
anything and they make the committed file noisy. ``$ref``s are kept (pointing at
``#/definitions/...`` inside the output) so recursive definitions stay finite.

Usage::

    python tools/extract_spec_schemas.py [path/to/api-docs.json] [output.json]
    python tools/extract_spec_schemas.py --help
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "iterable-api" / "api-docs.json"
DEFAULT_OUTPUT = ROOT / "iterable_emulator" / "spec_schemas.json"

# Request bodies the emulator accepts, by Swagger definition name.
REQUEST_DEFINITIONS = (
    "BulkUpdateUsersRequest",
    "OptionalApiUser",
    "ApiUserUpdateRequest",
    "BulkTrackRequest",
    "TrackRequest",
    "CatalogBulkUploadRequest",
    "CatalogBulkDeleteRequest",
    "CatalogMappingsUpdateRequest",
    "CatalogUpdateItemRequest",
    "CatalogIndexItemRequest",
    "TrackPurchaseRequest",
    "UpdateCartRequest",
    "CommerceItem",
    "RegisterDeviceTokenRequest",
    "Device",
    "RegisterBrowserTokenRequest",
    "SubscribeRequest",
    "UnsubscribeRequest",
    "BulkUpdateSubscriptionsRequest",
    "CreateListRequest",
    "UserRequest",
    "UpdateEmailRequest",
    "MergeUsersRequest",
    "TriggerWorkflowRequest",
    "TargetEmailRequest",
    "TargetPushRequest",
    "TargetSMSRequest",
    "TargetInAppRequest",
    "TargetWebPushRequest",
    "TargetWhatsAppRequest",
)
DROPPED_KEYS = frozenset({"description", "example", "title"})
REF_PREFIX = "#/definitions/"


def clean(node: Any) -> Any:
    """Copy a schema node without documentation-only keys.

    Names under ``properties`` are field names, not schema keywords: a request
    field may well be called ``description`` (CreateListRequest has one).
    """
    if isinstance(node, dict):
        return {
            key: clean_properties(value) if key == "properties" else clean(value)
            for key, value in node.items()
            if key not in DROPPED_KEYS and not key.startswith("x-")
        }
    if isinstance(node, list):
        return [clean(item) for item in node]
    return node


def clean_properties(properties: dict[str, Any]) -> dict[str, Any]:
    return {name: clean(schema) for name, schema in properties.items()}


def refs_in(node: Any) -> Iterator[str]:
    """Yield the definition names a schema node refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX) :]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def extract(spec: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named definitions and everything they reference, cleaned."""
    definitions: dict[str, Any] = spec["definitions"]
    wanted: dict[str, Any] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        if name not in definitions:
            raise SystemExit(f"definition {name!r} is not in the spec")
        wanted[name] = clean(definitions[name])
        pending.extend(refs_in(wanted[name]))
    return {
        "source": f"Iterable OpenAPI {spec.get('info', {}).get('version', '?')} (api-docs.json)",
        "generator": "tools/extract_spec_schemas.py",
        "definitions": dict(sorted(wanted.items())),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Copy the request definitions the emulator validates against (REQUEST_DEFINITIONS"
            " and everything they reference) from Iterable's OpenAPI file into"
            " iterable_emulator/spec_schemas.json."
        )
    )
    parser.add_argument(
        "spec",
        nargs="?",
        type=Path,
        default=DEFAULT_SPEC,
        help=f"Iterable's OpenAPI (Swagger 2.0) file (default: {DEFAULT_SPEC})",
    )
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the schemas (default: {DEFAULT_OUTPUT})",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    schemas = extract(spec, REQUEST_DEFINITIONS)
    args.output.write_text(json.dumps(schemas, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {len(schemas['definitions'])} definitions to {args.output}")


if __name__ == "__main__":
    main()
