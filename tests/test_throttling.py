"""The throttling bucket, in the process and in real Redis: a burst, then one warning, then silence, then refilled;
two instances on one Redis count the same presses."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.middlewares.throttling import MemoryLimiter, RedisLimiter, Verdict

ALLOW, WARN, DROP = Verdict.ALLOW, Verdict.WARN, Verdict.DROP


async def test_memory_bucket_allows_a_burst_warns_once_and_refills() -> None:
    limiter = MemoryLimiter(rate=1.0, burst=3)
    assert [await limiter.hit(1, 100.0) for _ in range(5)] == [ALLOW, ALLOW, ALLOW, WARN, DROP]
    assert await limiter.hit(2, 100.0) == ALLOW  # another person has a bucket of their own
    assert [await limiter.hit(1, 101.0) for _ in range(2)] == [ALLOW, WARN]


async def test_two_instances_on_one_redis_share_the_bucket(redis: Redis) -> None:
    first, second = RedisLimiter(redis, rate=1.0, burst=3), RedisLimiter(redis, rate=1.0, burst=3)
    verdicts = [await (first if turn % 2 else second).hit(1, 100.0) for turn in range(5)]
    assert verdicts == [ALLOW, ALLOW, ALLOW, WARN, DROP]
    assert await first.hit(2, 100.0) == ALLOW
    assert [await second.hit(1, 101.0), await first.hit(1, 101.0)] == [ALLOW, WARN]
    assert 0 < await redis.pttl("throttle:1") <= 4000  # gone once the bucket would be full again
