"""`/health` and Laravel's `/up`: is each database answering right now?"""

from __future__ import annotations

import asyncio

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from sqlalchemy import text

# Each probe gets its own budget so that the whole answer stays well inside 2 seconds.
PROBE_SECONDS = 1.5


async def _probe(check) -> str:
    try:
        await asyncio.wait_for(check(), PROBE_SECONDS)
    except Exception:
        return "unavailable"
    return "ok"


async def _postgres(request: Request) -> None:
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _mongo(request: Request) -> None:
    await request.app.state.mongo.admin.command("ping")


@get(
    ["/health", "/up"], name="health",
    responses={503: ResponseSpec(
        dict[str, str], description="A database does not answer.", generate_examples=False,
        examples=[Example(value={"status": "unavailable", "postgres": "ok",
                                 "mongo": "unavailable"})],
    )},
)
async def health(request: Request) -> Response[dict[str, str]]:
    """Report whether PostgreSQL and MongoDB answer; 503 when either does not."""
    postgres, mongo = await asyncio.gather(
        _probe(lambda: _postgres(request)), _probe(lambda: _mongo(request))
    )
    ok = postgres == "ok" and mongo == "ok"
    body = {"status": "ok" if ok else "unavailable", "postgres": postgres, "mongo": mongo}
    return Response(body, status_code=200 if ok else 503)
