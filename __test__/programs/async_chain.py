# asyncio programs with a known shape, for `dump --async` and `record --async`.
#
#   chain: Task-1 runs main(), which gathers two named tasks, fetch_a and fetch_b; each awaits
#          slow_io(), which sleeps. Nothing runs: every task waits.
#   cpu:   two named tasks burn CPU in slices (heavy 3 ms, light 1 ms per step on average, of
#          random length so that no sampling interval can lock onto the schedule's period) and
#          measure their own time; every 20 ms a line `t=<unix time> heavy=<s> light=<s>` gives the
#          totals, so a test can take exactly the window it sampled.
import asyncio
import random
import sys
import time


async def slow_io(label):
    await asyncio.sleep(3600)
    return label


async def fetch_a():
    return await slow_io("a")


async def fetch_b():
    return await slow_io("b")


async def chain():
    a = asyncio.create_task(fetch_a(), name="fetch_a")
    b = asyncio.create_task(fetch_b(), name="fetch_b")
    await asyncio.sleep(0)
    print("ready", flush=True)
    await asyncio.gather(a, b)


spent = {"heavy": 0.0, "light": 0.0}


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


async def heavy_work():
    while True:
        start = time.perf_counter()
        burn(random.uniform(0.001, 0.005))
        spent["heavy"] += time.perf_counter() - start
        await asyncio.sleep(0)


async def light_work():
    while True:
        start = time.perf_counter()
        burn(random.uniform(0.0002, 0.0018))
        spent["light"] += time.perf_counter() - start
        await asyncio.sleep(0)


async def report():
    while True:
        await asyncio.sleep(0.02)
        print("t=%.6f heavy=%.6f light=%.6f" % (time.time(), spent["heavy"], spent["light"]), flush=True)


async def cpu():
    tasks = [
        asyncio.create_task(heavy_work(), name="heavy"),
        asyncio.create_task(light_work(), name="light"),
        asyncio.create_task(report(), name="report"),
    ]
    print("ready", flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run({"chain": chain, "cpu": cpu}[sys.argv[1] if len(sys.argv) > 1 else "chain"]())
