#!/usr/bin/python3
"""The request-cost peer in Python: aiohttp (Debian's python3-aiohttp), one
process, one asyncio loop, `--conc` keep-alive connections, the same request
as bench_request sends (POST /api/chatbots/run, a 74-byte JSON body, Api-Key).
The reply is read whole and parsed as JSON, as a client would.

    aiohttp_client.py --url http(s)://127.0.0.1:PORT [--ca PEM] [--requests N]
                      [--warmup N] [--conc N] [--max-seconds S] [--server-pid PID]

Prints bench_request's RESULT line: CPU from getrusage(RUSAGE_SELF) over the
timed window, the server's CPU from /proc/<pid>/stat over the same window.
"""
import argparse
import asyncio
import json
import os
import resource
import ssl
import sys
import time

import aiohttp

RUN_PATH = "/api/chatbots/run"
BODY = b'{"input":"Where is my order? It was due on Tuesday.","chatbot_id":"bench"}'
HEADERS = {"Content-Type": "application/json", "Api-Key": "bench-key", "User-Agent": "aiohttp"}


def process_cpu(pid):
    """utime + stime of a process in seconds; -1 when unknown."""
    if pid <= 0:
        return -1.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return -1.0


class Budget:
    def __init__(self, n, seconds):
        self.remaining = n
        self.deadline = time.monotonic() + seconds
        self.done = 0
        self.errors = 0

    def take(self):
        if self.remaining <= 0:
            return False
        if self.remaining % 64 == 0 and time.monotonic() >= self.deadline:
            self.remaining = 0
            return False
        self.remaining -= 1
        return True

    def fail(self, what):
        self.errors += 1
        if self.errors <= 3:
            print(f"aiohttp_client: {what}", file=sys.stderr)
        self.remaining = 0


async def worker(session, url, budget):
    while budget.take():
        try:
            async with session.post(url, data=BODY, headers=HEADERS) as res:
                raw = await res.read()
                if res.status != 200 or not json.loads(raw).get("output"):
                    budget.fail(f"status {res.status}")
                    return
        except (aiohttp.ClientError, OSError, ValueError) as e:
            budget.fail(repr(e))
            return
        budget.done += 1


async def phase(session, url, conc, budget):
    await asyncio.gather(*(worker(session, url, budget) for _ in range(conc)))


async def main(a):
    tls = a.url.startswith("https://")
    ctx = None
    if tls:
        ctx = ssl.create_default_context(cafile=a.ca)
    connector = aiohttp.TCPConnector(limit=a.conc, ssl=ctx if tls else False, keepalive_timeout=600)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = a.url.rstrip("/") + RUN_PATH
        warm = Budget(a.warmup, a.max_seconds)
        await phase(session, url, a.conc, warm)
        if warm.errors:
            return 1
        run = Budget(a.requests, a.max_seconds)
        s0 = process_cpu(a.server_pid)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        await phase(session, url, a.conc, run)
        t1 = time.monotonic()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        s1 = process_cpu(a.server_pid)
        server = s1 - s0 if s0 >= 0 and s1 >= 0 else -1.0
        print(f"RESULT client=aiohttp transport={'tls' if tls else 'plain'} requests={run.done} "
              f"errors={run.errors} seconds={t1 - t0:.6f} user_s={r1.ru_utime - r0.ru_utime:.6f} "
              f"sys_s={r1.ru_stime - r0.ru_stime:.6f} server_cpu_s={server:.4f} connections={a.conc}")
        return 1 if run.errors else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--client", default="aiohttp")
    p.add_argument("--url", required=True)
    p.add_argument("--ca", default="")
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--conc", type=int, default=10)
    p.add_argument("--max-seconds", type=float, default=10)
    p.add_argument("--server-pid", type=int, default=0)
    sys.exit(asyncio.run(main(p.parse_args())))
