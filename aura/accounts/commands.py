"""`aura account purge`: finish the account deletions that an outage interrupted.

Only click is imported up front, because every `aura` command loads this module.
"""

from __future__ import annotations

import click


@click.group("account")
def account() -> None:
    """Accounts deleted by their owners."""


@account.command("purge")
def account_purge() -> None:
    """Finish every account deletion a database outage interrupted; safe to run any time."""
    from pymongo.errors import ConnectionFailure

    from aura.accounts.deletion import purge_marked
    from aura.cli import _run
    from aura.mongo import create_client, init_documents

    async def purge(engine, settings) -> int:
        mongo = create_client(settings)
        try:
            await init_documents(mongo, settings)
            return await purge_marked(engine, settings.sanctum_tokenable_type)
        finally:
            await mongo.close()

    try:
        deleted = _run(purge)
    except ConnectionFailure as exc:
        raise click.ClickException("MongoDB is unreachable; run this again once it is up") from exc
    click.echo(f"Deleted {deleted} marked account(s)")
