"""Sanctum personal access tokens: scheme, repository and guard."""
