# asyncio programs with a known shape, for `dump --async` and `record --async`.
#
#   chain: Task-1 runs main(), which gathers two named tasks, fetch_a and fetch_b; each awaits
#          slow_io(), which sleeps. Nothing runs: every task waits.
#   cpu:   two named tasks burn CPU in slices (heavy 3 ms, light 1 ms per step on average, of
#          random length so that no sampling interval can lock onto the schedule's period) and
#          time their own slices; every 20 ms the slices since the last report are printed, one
#          line `slice <task> <start> <end>` (unix times) each, so that a test can take exactly
#          the part of each slice that falls in the window it sampled.
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


slices = []


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


async def heavy_work():
    while True:
        start = time.time()
        burn(random.uniform(0.001, 0.005))
        slices.append(("heavy", start, time.time()))
        await asyncio.sleep(0)


async def light_work():
    while True:
        start = time.time()
        burn(random.uniform(0.0002, 0.0018))
        slices.append(("light", start, time.time()))
        await asyncio.sleep(0)


async def report():
    while True:
        await asyncio.sleep(0.02)
        done = slices[:]
        del slices[:]
        sys.stdout.write("".join("slice %s %.6f %.6f\n" % s for s in done))
        sys.stdout.flush()


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
