"""Aura: one service for user identity, Sanctum-compatible tokens and chat history."""

from pathlib import Path

__version__ = "0.1.0"


def resource_path(name: str) -> Path:
    """Where a top-level resource (`migrations`, `templates`, `alembic.ini`) lives.

    A source checkout has it beside the package; an installed wheel carries a copy inside it.
    """
    package = Path(__file__).resolve().parent
    bundled = package / "_bundled" / name
    return bundled if bundled.exists() else package.parent / name
