"""Conversations and messages in MongoDB, served under /chat."""
