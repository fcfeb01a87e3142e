"""Every date leaves Aura as ISO 8601 UTC with a `Z`, in Laravel's JSON form."""

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    """`2026-12-03T16:03:44.000000Z`; naive values are UTC, as Laravel and Flask stored them."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat is C code and about twice as fast as strftime; a chat page formats hundreds.
    return value.isoformat(timespec="microseconds") + "Z"
