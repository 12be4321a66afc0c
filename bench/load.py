"""The HTTP clients of the steady-state measurement: a closed loop (throughput) and an open loop (latency
at a fixed offered rate), both on loopback against the agent's read-only port."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import summary


def _load_result(latencies: list[float], errors: int, elapsed: float) -> dict[str, Any]:
    """What both HTTP clients report: requests served, errors, the rate and the latency summary."""
    return {
        "seconds": elapsed,
        "requests": len(latencies),
        "errors": errors,
        "requests_per_second": len(latencies) / elapsed if elapsed else 0.0,
        "latency": {k: v for k, v in summary(latencies).items() if k != "samples"},
    }


async def http_load(url: str, seconds: float, max_requests: int, concurrency: int) -> dict[str, Any]:
    """``concurrency`` keep-alive clients on loopback, until ``max_requests`` or ``seconds``."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    issued = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors, issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            t = time.perf_counter()
            try:
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError):  # a slow answer is an error, not the end
                errors += 1
                continue
            latencies.append(time.perf_counter() - t)

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {
        "url_path": url.split(":", 2)[-1].split("/", 1)[-1],
        "concurrency": concurrency,
        **_load_result(latencies, errors, elapsed),
    }


async def http_rate(url: str, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    """Open loop: requests sent at a fixed ``rate`` for ``seconds``, each timed from when it was due
    (so a stalled server shows in the latency instead of slowing the client down)."""
    import aiohttp

    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()

        async def one(due: float) -> None:
            nonlocal errors
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - due)
            else:
                errors += 1

        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "offered_rate": rate,
        "connections": connections,
        **_load_result(latencies, errors, elapsed),
    }
