"""Users, passwords, cookie sessions, login throttling."""
