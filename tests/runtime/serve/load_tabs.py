"""Browser-like tabs for the serve load test, in their own process: ``python -m tests.runtime.serve.load_tabs``.

Each tab behaves like the page: at most two frames unanswered, a new one as soon as an answer
comes, and after 2 s without one it stops waiting for the frames the server dropped. The tabs are
asyncio tasks over ``websockets``' asyncio client, whose reading never waits on its writing (as in
a browser). A client that stops reading while a send is blocked (the ``websockets`` sync client
holds a lock across ``sendall``) can stall its own TCP connection for seconds under load, whatever
the server does; and threads in the server's own process would share its GIL, a cost a real
browser does not put on the server.

Prints ``connected`` once every tab is connected (the tabs stream from then on), then one JSON
line: per tab, the reply count, the longest wait between replies, and any error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

IN_FLIGHT = 2


async def tab(url: str, frame: bytes, seconds: float, connected: asyncio.Barrier, result: dict) -> None:
    try:
        async with connect(url, open_timeout=30, max_size=None) as ws:
            await asyncio.wait_for(connected.wait(), 60)
            replies: list[float] = []
            sent = answered = 0
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                while sent - answered < IN_FLIGHT:
                    await ws.send(frame)
                    sent += 1
                try:
                    message = await asyncio.wait_for(ws.recv(), max(0.01, min(2.0, left)))
                except TimeoutError:
                    answered = sent  # like the page: stop waiting for frames the server dropped
                    continue
                if isinstance(message, bytes):
                    answered = max(answered, int.from_bytes(message[:4], "big"))
                    replies.append(time.monotonic())
                elif (decoded := json.loads(message))["type"] == "skipped":
                    answered = max(answered, decoded["seq"])
            stamps = [deadline - seconds, *replies, deadline]
            result["replies"] = len(replies)
            result["longest_wait"] = max(b - a for a, b in itertools.pairwise(stamps))
    except (ConnectionClosed, OSError, TimeoutError, asyncio.BrokenBarrierError) as exc:
        await connected.abort()
        result["error"] = f"{type(exc).__name__}: {exc}"


async def main(url: str, seconds: float, tabs: int, frame: bytes) -> list[dict]:
    connected = asyncio.Barrier(tabs + 1)
    results: list[dict] = [{"replies": 0, "longest_wait": seconds} for _ in range(tabs)]
    tasks = [asyncio.create_task(tab(url, frame, seconds, connected, result)) for result in results]
    try:
        await asyncio.wait_for(connected.wait(), 90)
        print("connected", flush=True)
    except (TimeoutError, asyncio.BrokenBarrierError):
        pass  # a tab could not connect: its error is in the results
    await asyncio.gather(*tasks)
    return results


if __name__ == "__main__":
    url, seconds, tabs, frame = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]).read_bytes()
    print(json.dumps(asyncio.run(main(url, seconds, tabs, frame))), flush=True)
