"""The plans of the queries Aura sends: captured while Aura serves a request, then explained.

Aura runs in this process for that (Litestar's test client on the real app and real servers);
pymongo's command monitoring and SQLAlchemy's cursor events record each query exactly as sent,
and the same query goes back to the server as `explain` (MongoDB) or `EXPLAIN` (PostgreSQL).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import psycopg
from litestar.testing import AsyncTestClient
from pymongo import MongoClient, monitoring
from sqlalchemy import event
from sqlalchemy.engine import Engine

from aura.app import create_app
from aura.db import async_url
from aura.settings import Settings

QUERY_COMMANDS = {"find", "update", "delete", "findAndModify", "aggregate", "count"}
SHOWN = ("filter", "sort", "limit", "hint")
COMMAND_KEYS = ("filter", "sort", "projection", "hint", "limit", "updates", "query", "pipeline")


class Recorder(monitoring.CommandListener):
    """Every MongoDB command and SQL statement sent while `active` is set."""

    def __init__(self) -> None:
        self.active = False
        self.mongo: list[dict] = []
        self.sql: list[tuple[str, object]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active and event.command_name in QUERY_COMMANDS | {"insert"}:
            command = event.command
            kept = {key: copy.deepcopy(command[key]) for key in COMMAND_KEYS if key in command}
            self.mongo.append({event.command_name: command[event.command_name], **kept})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def statement(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        if self.active:
            self.sql.append((statement, copy.deepcopy(parameters)))


RECORDER = Recorder()
monitoring.register(RECORDER)
event.listen(Engine, "before_cursor_execute", RECORDER.statement)


def _stages(stage: dict) -> Iterator[dict]:
    """A winning plan's stages, top down (`inputStages` under an OR, `inputStage` elsewhere)."""
    if not stage:
        return
    yield stage
    for child in [stage.get("inputStage"), *stage.get("inputStages", [])]:
        yield from _stages(child or {})


def explain_mongo(client: MongoClient, database: str, command: dict) -> dict:
    """The plan and execution figures of one captured command, flattened for the report."""
    name = next(iter(command))
    summary = {"command": name, "collection": command[name]}
    summary.update({key: command[key] for key in SHOWN if key in command})
    if name == "insert":
        return {**summary, "plan": "insert: no query"}
    explained = client[database].command({"explain": command, "verbosity": "executionStats"})
    stages = list(_stages(explained.get("queryPlanner", {}).get("winningPlan", {})))
    scans = [stage for stage in stages if stage["stage"] in ("IXSCAN", "COLLSCAN", "IDHACK")]
    stats = explained.get("executionStats", {})
    return {
        **summary,
        "stages": [stage["stage"] for stage in stages],
        "index": [stage.get("indexName", stage["stage"]) for stage in scans],
        "bounds": [stage.get("indexBounds") for stage in scans if stage.get("indexBounds")],
        "keys_examined": stats.get("totalKeysExamined"),
        "docs_examined": stats.get("totalDocsExamined"),
        "returned": stats.get("nReturned"),
        "server_ms": stats.get("executionTimeMillis"),
    }


def _sql_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _sql_nodes(child)


def _node_text(node: dict) -> str:
    text = node["Node Type"]
    if "Index Name" in node:
        text += f" using {node['Index Name']}"
    if "Relation Name" in node:
        text += f" on {node['Relation Name']}"
    return text


def explain_sql(database_url: str, statement: str, parameters: object) -> dict:
    """EXPLAIN for what Aura sent; ANALYZE only for reads, so that nothing changes."""
    analyze = statement.lstrip().upper().startswith("SELECT")
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    url = async_url(database_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        plan = connection.execute(f"EXPLAIN ({options}) {statement}", parameters).fetchone()[0]
    nodes = list(_sql_nodes(plan[0]["Plan"]))
    return {
        "sql": " ".join(statement.split()),
        "nodes": [_node_text(node) for node in nodes],
        "rows": [node.get("Actual Rows", node.get("Plan Rows")) for node in nodes],
    }


async def capture(settings: Settings, requests: list[dict]) -> tuple[list[dict], list[tuple]]:
    """Serve `requests` with Aura in this process and return what it sent to the databases."""
    RECORDER.mongo, RECORDER.sql = [], []
    async with AsyncTestClient(create_app(settings)) as client:
        for request in requests:
            RECORDER.active = True
            reply = await client.request(
                request["method"], request["path"], headers=request.get("headers"),
                content=request.get("body"),
            )
            RECORDER.active = False
            if reply.status_code >= 300:
                raise RuntimeError(f"{request['method']} {request['path']}: {reply.status_code}")
    return RECORDER.mongo, RECORDER.sql


async def explain(settings: Settings, requests: list[dict]) -> list[dict]:
    """One entry per request: the SQL and MongoDB queries it sent, each with its plan."""
    reports = []
    client = MongoClient(settings.mongo_uri.get_secret_value(), tz_aware=True)
    database_url = settings.database_url.get_secret_value()
    try:
        for request in requests:
            mongo, sql = await capture(settings, [request])
            reports.append({
                "request": f"{request['method']} {request['label']}",
                "sql": [explain_sql(database_url, *pair) for pair in sql],
                "mongo": [explain_mongo(client, settings.mongo_db, command) for command in mongo],
            })
    finally:
        client.close()
    return reports
