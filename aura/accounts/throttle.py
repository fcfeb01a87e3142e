"""Failed-login counting per (email, client address), in memory or in Redis.

Litestar's rate limiter counts every request to a route; login throttling must count only
failures per email and address and forget them on success, so it is Aura's own. Redis is used
when REDIS_URL is set, so that several workers share the count.
"""

from __future__ import annotations

import hashlib
import time


def throttle_key(email: str, ip: str | None) -> str:
    # Hashed so that an email never appears as a Redis key.
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip or ''}".encode()).hexdigest()
    return f"aura:login:{digest}"


class MemoryThrottle:
    def __init__(self, max_attempts: int, decay_seconds: int) -> None:
        self.max_attempts = max_attempts
        self.decay_seconds = decay_seconds
        self._hits: dict[str, tuple[int, float]] = {}

    async def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again, or 0 when it may try now."""
        count, reset_at = self._hits.get(key, (0, 0.0))
        remaining = reset_at - time.monotonic()
        if remaining <= 0:
            self._hits.pop(key, None)
            return 0
        return int(remaining) + 1 if count >= self.max_attempts else 0

    async def hit(self, key: str) -> None:
        now = time.monotonic()
        count, reset_at = self._hits.get(key, (0, 0.0))
        if reset_at <= now:
            count, reset_at = 0, now + self.decay_seconds
        self._hits[key] = (count + 1, reset_at)

    async def clear(self, key: str) -> None:
        self._hits.pop(key, None)

    async def close(self) -> None:
        return None


class RedisThrottle:
    def __init__(self, url: str, max_attempts: int, decay_seconds: int) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.max_attempts = max_attempts
        self.decay_seconds = decay_seconds

    async def retry_after(self, key: str) -> int:
        count, ttl = await self.redis.pipeline().get(key).ttl(key).execute()
        if count is None or int(count) < self.max_attempts:
            return 0
        return max(1, int(ttl))

    async def hit(self, key: str) -> None:
        # INCR then EXPIRE NX: the window starts at the first failure, as Laravel's does.
        await self.redis.pipeline().incr(key).expire(key, self.decay_seconds, nx=True).execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(key)

    async def close(self) -> None:
        await self.redis.aclose()


def create_throttle(settings):
    if settings.redis_url is not None:
        return RedisThrottle(
            settings.redis_url.get_secret_value(),
            settings.login_max_attempts,
            settings.login_decay_seconds,
        )
    return MemoryThrottle(settings.login_max_attempts, settings.login_decay_seconds)
