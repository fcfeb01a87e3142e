"""Keyset paging over (timestamp, _id) with signed, opaque cursors.

Offsets skip or repeat items when new ones arrive between pages; a position in the index
order does not. This module is Aura's own because it has to match the two chat indexes
exactly: every find it builds is bounded by the scope and the cursor on one named index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from itsdangerous import BadData, URLSafeSerializer

from aura.errors import ValidationFailed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Below every date a chat document can hold; bounds "all dated items" for the index.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
BAD_CURSOR = "The cursor is invalid."

Position = tuple[datetime | None, ObjectId]


@dataclass(frozen=True, slots=True)
class Keyset:
    """An order over (`field`, `_id`) that the index named `index` serves as it is.

    MongoDB sorts a missing or null `field` below every date, so such items (old Flask
    documents) come last in a descending order and first in an ascending one.
    """

    name: str
    field: str
    descending: bool
    index: str

    @property
    def sort(self) -> list[tuple[str, int]]:
        direction = -1 if self.descending else 1
        return [(self.field, direction), ("_id", direction)]

    def filters(self, scope: dict, position: Position | None) -> list[dict]:
        """The finds, in order, whose results together are what follows `position` in `scope`."""
        return [{**scope, **extra} for extra in self._after(position)]

    def _after(self, position: Position | None) -> list[dict]:
        if position is None:
            return [{}]
        stamp, last_id = position
        past, after = ("$lt", "$lte") if self.descending else ("$gt", "$gte")
        beyond_id = {"_id": {past: last_id}}
        if stamp is None:
            undated = {self.field: None, **beyond_id}
            return [undated] if self.descending else [undated, self._dated()]
        dated = {
            self.field: {after: stamp},
            "$or": [{self.field: {past: stamp}}, beyond_id],
        }
        return [dated, {self.field: None}] if self.descending else [dated]

    def _dated(self) -> dict:
        return {self.field: {"$gte": EARLIEST}}

    def position(self, document: dict) -> Position:
        return document.get(self.field), document["_id"]


class CursorCodec:
    """Signs positions so that a client can hand them back but not forge or edit them."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="aura.chat.cursor")

    def dump(self, keyset: Keyset, scope: str, position: Position) -> str:
        stamp, last_id = position
        millis = None if stamp is None else _millis(stamp)
        return self._serializer.dumps([keyset.name, scope, millis, str(last_id)])

    def load(self, keyset: Keyset, scope: str, cursor: str) -> Position:
        """The position in `cursor`; 422 when it was altered or belongs to another list."""
        try:
            name, signed_scope, millis, last_id = self._serializer.loads(cursor)
        except (BadData, ValueError, TypeError) as exc:
            raise ValidationFailed.field("cursor", BAD_CURSOR) from exc
        if name != keyset.name or signed_scope != scope or not ObjectId.is_valid(last_id):
            raise ValidationFailed.field("cursor", BAD_CURSOR)
        stamp = None if millis is None else EPOCH + millis * MILLISECOND
        return stamp, ObjectId(last_id)


def _millis(stamp: datetime) -> int:
    """BSON dates hold milliseconds; integer arithmetic keeps them exact."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return (stamp - EPOCH) // MILLISECOND
