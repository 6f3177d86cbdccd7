"""A per-visitor fixed-window rate limit on the Django cache (atomic incr in LocMem and Redis).

With the default local-memory cache each process counts on its own; set a shared CACHES
backend in scaled deployments to count across processes."""

import time

from django.core.cache import cache


def allow(key: str, limit: int, window: int = 60) -> bool:
    if limit <= 0:
        return True
    bucket = f"livechat:rl:{key}:{int(time.time() // window)}"
    if cache.add(bucket, 1, timeout=window + 1):
        return True
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window + 1)
        return True
