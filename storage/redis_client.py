"""Redis clients that survive a Redis restart or a dropped connection: a command that meets
a dead pooled connection is retried (three times, on a fresh connection, with a short
backoff) instead of failing the update that sent it; idle connections are checked."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def redis_options() -> dict[str, Any]:
    return {
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
        "socket_connect_timeout": 5,
    }


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, **redis_options())
