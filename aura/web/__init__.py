"""Pages rendered from templates/."""
