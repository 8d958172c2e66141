"""Change detection and mirror versions for one stream, over the sync state store.

Before a drained batch is cut into requests, records whose fingerprint equals
the one Iterable last acknowledged for their key are dropped and counted
``unchanged``; after Iterable acknowledges a request, its records' fingerprints
are stored. A mirror stream also remembers in which full-table version each key
was last seen, and removes from Iterable only keys that vanished from a version
known to be complete (see ``on_activate_version``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.errors import TargetIterableError
from target_iterable.sync.fingerprints import fingerprint
from target_iterable.sync.store import Acknowledged, Stored, SyncStore

logger = logging.getLogger("target-iterable.sync")

DAY_SECONDS = 86400


class MirrorSafetyError(TargetIterableError):
    """A mirror run would remove more of a stream than ``max_delete_ratio`` allows."""


@dataclass(frozen=True)
class TrackingPolicy:
    """How one stream uses the sync state."""

    skip_unchanged: bool  # change detection on, and no full resync
    resend_after_seconds: float | None  # ignore fingerprints older than this
    mirror: bool
    max_delete_ratio: float
    # A dry run reads the state (to plan only what changed) and never writes it.
    read_only: bool = False


class ChangeTracker:
    """The sync state of one stream: what to skip, what to remember, what to remove."""

    def __init__(self, store: SyncStore, stream: str, policy: TrackingPolicy) -> None:
        self.store = store
        self.stream = stream
        self.policy = policy
        self.open_version = store.closed_versions(stream) + 1 if policy.mirror else 0
        self.saw_version_marker = False
        self._records_since_marker = 0
        self._record_version: int | None = None
        self._seen: list[str] = []  # keys present in the source, to mark at the next drain

    # Change detection -----------------------------------------------------------------

    def lookup(self, keys: list[str]) -> dict[str, Stored]:
        """What the store holds of these keys (one query per chunk), when unchanged
        records are skipped; else nothing."""
        return self.store.lookup(self.stream, keys) if self.policy.skip_unchanged and keys else {}

    def _oldest(self) -> float:
        """Fingerprints acknowledged before this are sent again (resend_after_days)."""
        after = self.policy.resend_after_seconds
        return time.time() - after if after else 0.0

    def skippable_sources(
        self, stored: dict[str, Stored], sources: list[tuple[str, bytes]]
    ) -> set[str]:
        """The keys whose input record is the one Iterable last acknowledged, under
        the same mapping context: unchanged without being mapped again."""
        oldest = self._oldest()
        skippable = set()
        for key, digest in sources:
            known = stored.get(key)
            if known is not None and known.source == digest and known.acknowledged_at >= oldest:
                skippable.add(key)
        return skippable

    def changed(
        self, pending: list[PreparedRecord], stored: dict[str, Stored] | None = None
    ) -> tuple[list[PreparedRecord], int]:
        """The records to send, and how many input records were unchanged.

        ``stored``: what the store holds of the pending keys, when already looked up.
        """
        if self.policy.mirror and not self.policy.read_only:
            self._seen.extend(p.sync_key for p in pending if p.sync_key is not None)
            self.store.mark_seen(self.stream, self._seen, self.open_version)
            self._seen = []
        keyed = [p.sync_key for p in pending if p.sync_key is not None and not p.removal]
        if not self.policy.skip_unchanged or not keyed:
            return pending, 0
        if stored is None:
            stored = self.lookup(keyed)
        oldest = self._oldest()
        kept: list[PreparedRecord] = []
        unchanged = 0
        new_sources: list[tuple[str, bytes]] = []
        for prepared in pending:
            key = prepared.sync_key
            known = stored.get(key) if key is not None else None
            if (
                key is not None
                and known is not None
                and not prepared.removal
                and known.acknowledged_at >= oldest
                and known.fingerprint == fingerprint(prepared.route, prepared.item)
            ):
                unchanged += prepared.record_count
                digest = prepared.source_digest
                if digest is not None and digest != known.source:
                    new_sources.append((key, digest))
            else:
                kept.append(prepared)
        if new_sources and not self.policy.read_only:
            self.store.record_sources(self.stream, new_sources)
        return kept, unchanged

    def saw(self, key: str) -> None:
        """A record of this key was read but refused before it could be sent: the
        row is still in the source, so a mirror stream must not remove it."""
        if self.policy.mirror:
            self._seen.append(key)

    def acknowledged(self, batch: Sequence[PreparedRecord]) -> None:
        """Remember what Iterable acknowledged (a removal forgets its key)."""
        if self.policy.read_only:
            return
        removed = [p.sync_key for p in batch if p.removal and p.sync_key is not None]
        if removed:
            self.store.forget(self.stream, removed)
        version = self.open_version if self.policy.mirror else None
        self.store.record(
            self.stream,
            [
                Acknowledged(
                    p.sync_key, fingerprint(p.route, p.item), p.identity, version, p.source_digest
                )
                for p in batch
                if p.sync_key is not None and not p.removal
            ],
        )

    # Mirror ---------------------------------------------------------------------------

    def note_record(self) -> None:
        """A record of a mirror stream was read (since the last version marker)."""
        self._records_since_marker += 1

    def note_version(self, version: int) -> None:
        """The full-table version the tap gave the records being read."""
        self._record_version = version

    def on_activate_version(self, version: int) -> list[tuple[str, str | None]]:
        """A full-table version marker: the keys (and identities) to remove now.

        Classic Singer taps send ACTIVATE_VERSION after the last record of a
        version: it is complete, and keys missing from it go at once. SDK taps
        send it before the first record, so the version it closes may have been
        cut short by a tap that died; a key goes only once missing from two
        consecutive versions.
        """
        self.saw_version_marker = True
        completes = self._records_since_marker > 0 and self._record_version in (version, None)
        self._records_since_marker = 0
        if completes:
            threshold = self.open_version
        elif self.store.count(self.stream, seen_in=self.open_version) == 0:
            return []  # the open version holds nothing yet: this marker only starts it
        else:
            threshold = self.open_version - 1
        removals = self.store.missing_since(self.stream, threshold)
        known = self.store.count(self.stream)
        if known and len(removals) / known > self.policy.max_delete_ratio:
            raise MirrorSafetyError(
                f"stream '{self.stream}' (sync_mode mirror) would remove {len(removals)} of "
                f"its {known} known keys from Iterable ({len(removals) / known:.0%}), over "
                f"max_delete_ratio {self.policy.max_delete_ratio:.0%}; nothing was removed. "
                "If the source really lost those rows, raise max_delete_ratio for one run."
            )
        if not self.policy.read_only:
            self.store.close_version(self.stream, self.open_version)
        self.open_version += 1
        return removals

    def report_end(self) -> None:
        if self.policy.mirror and not self.saw_version_marker:
            logger.warning(
                "Stream '%s' is in sync_mode mirror, but no ACTIVATE_VERSION message arrived: "
                "nothing was removed from Iterable (let the tap emit them: "
                "emit_activate_version_messages for Meltano SDK taps)",
                self.stream,
            )
