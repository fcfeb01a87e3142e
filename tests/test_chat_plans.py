"""The finds Aura sends for a page use the intended index, bounded by scope and cursor.

The commands are captured with pymongo's command monitoring while a request runs over HTTP,
then explained on the same server, so the plans checked are those of the real queries.
"""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from pymongo import monitoring

from aura.chat.documents import HISTORY_INDEX, MESSAGES_INDEX
from tests.factories import say, start, two_users

FIND_KEYS = ("find", "filter", "sort", "projection", "hint", "limit")
BASE = datetime(2025, 1, 1)


class FindRecorder(monitoring.CommandListener):
    """Keeps the find commands sent while recording.

    pymongo has no way to unregister a global listener, so it stays registered and idle.
    """

    def __init__(self) -> None:
        self.finds: list[dict] | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.finds is not None and event.command_name == "find":
            command = event.command
            self.finds.append({k: copy.deepcopy(command[k]) for k in FIND_KEYS if k in command})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def recording(self) -> Iterator[list[dict]]:
        self.finds = []
        try:
            yield self.finds
        finally:
            self.finds = None


RECORDER = FindRecorder()
monitoring.register(RECORDER)


def _stages(plan: object) -> Iterator[dict]:
    """Every stage of a plan, whichever nesting the server uses."""
    if isinstance(plan, dict):
        if "stage" in plan:
            yield plan
        for value in plan.values():
            yield from _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _stages(value)


def _explain(mongo_db, find: dict) -> dict:
    return mongo_db.command({"explain": find, "verbosity": "executionStats"})


def _assert_index_scan(explained: dict, index: str, max_keys: int) -> None:
    stages = list(_stages(explained["queryPlanner"]["winningPlan"]))
    scans = [stage for stage in stages if stage["stage"] == "IXSCAN"]
    assert scans, stages
    assert all(stage["indexName"] == index for stage in scans)
    assert not [stage for stage in stages if stage["stage"] == "COLLSCAN"]
    assert explained["executionStats"]["totalKeysExamined"] <= max_keys


def _spread(collection, field: str) -> None:
    """Give every document its own second, in insertion order."""
    for n, document in enumerate(collection.find({}, {"_id": 1}).sort("_id", 1)):
        stamp = BASE + timedelta(seconds=n)
        collection.update_one({"_id": document["_id"]}, {"$set": {field: stamp}})


async def test_history_pages_scan_the_history_index_bounded_by_user_and_cursor(
    client, mongo_db
):
    alice, bob = await two_users(client)
    for n in range(8):
        await start(client, alice, f"a{n}")
    for n in range(10):
        await start(client, bob, f"b{n}")
    _spread(mongo_db.conversations, "last_message_at")
    with RECORDER.recording() as first_finds:
        first = await client.get("/chat/history?limit=6", headers=alice.headers)

    with RECORDER.recording() as finds:
        last = await client.get(
            "/chat/history", params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=alice.headers,
        )

    assert len(last.json()["conversations"]) == 2
    assert all(find["filter"]["user_id"] == str(alice.id) for find in first_finds + finds)
    # The first page may read alice's 8 keys, never bob's 10.
    _assert_index_scan(_explain(mongo_db, first_finds[0]), HISTORY_INDEX, max_keys=8)
    # After the cursor: the cursor's own key, the 2 left, and at most one to find the end.
    for find in finds:
        _assert_index_scan(_explain(mongo_db, find), HISTORY_INDEX, max_keys=4)


async def test_a_messages_page_scans_the_messages_index_bounded_by_conversation_and_cursor(
    client, mongo_db
):
    alice, _ = await two_users(client)
    mine = (await start(client, alice))["id"]
    other = (await start(client, alice))["id"]
    for n in range(8):
        await say(client, alice, mine, f"m{n}")
    for n in range(10):
        await say(client, alice, other, f"o{n}")
    _spread(mongo_db.messages, "created_at")
    url = f"/chat/conversations/{mine}/messages"
    first = await client.get(url, params={"limit": 6}, headers=alice.headers)

    with RECORDER.recording() as finds:
        last = await client.get(
            url, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=alice.headers
        )

    assert [m["content"] for m in last.json()["messages"]] == ["m6", "m7"]
    message_finds = [find for find in finds if find["find"] == "messages"]
    assert message_finds
    for find in message_finds:
        assert str(find["filter"]["conversation_id"]) == mine
        _assert_index_scan(_explain(mongo_db, find), MESSAGES_INDEX, max_keys=4)
