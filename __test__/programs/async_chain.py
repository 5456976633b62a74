# asyncio programs with a known shape, for `dump --async` and `record --async`.
#
#   chain: Task-1 runs main(), which gathers two named tasks, fetch_a and fetch_b; each awaits
#          slow_io(), which sleeps. Nothing runs: every task waits.
#   cpu:   two named tasks burn CPU in slices (heavy 3 ms, light 1 ms of the thread's CPU time
#          per step on average, of random length so that no sampling interval can lock onto the
#          schedule's period) and time their own slices; every 20 ms the slices since the last
#          report are printed, one line `slice <task> <start> <end> <cpu>` each (unix times, CPU
#          seconds), so that a test can take exactly the part of each slice that falls in the
#          window it sampled.
#
#          A slice is an amount of work (CPU time), not a spin to a wall-clock time: such a spin
#          ends as soon as its thread runs again after being preempted, so on a busy machine the
#          heavy task absorbed most of the preemption and its wall-clock share, the truth, was
#          one that a sampler waiting for a CPU too under-samples (issue 16, ARCHITECTURE.md).
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


def named_task(coro, name):
    """A task named `name` (3.8+; 3.6 and 3.7 tasks have no names and keep the default)."""
    task = asyncio.ensure_future(coro)
    if hasattr(task, "set_name"):
        task.set_name(name)
    return task


async def chain():
    a = named_task(fetch_a(), "fetch_a")
    b = named_task(fetch_b(), "fetch_b")
    await asyncio.sleep(0)
    print("ready", flush=True)
    await asyncio.gather(a, b)


slices = []


# The thread's CPU clock (3.7+); the process's on 3.6, the same for this one-thread program.
cpu_clock = getattr(time, "thread_time", time.process_time)


def burn(seconds):
    """Spins for `seconds` of this thread's CPU time."""
    end = cpu_clock() + seconds
    x = 0
    while cpu_clock() < end:
        x += 1
    return x


def work_slice(task, seconds):
    start, cpu = time.time(), cpu_clock()
    burn(seconds)
    slices.append((task, start, time.time(), cpu_clock() - cpu))


async def heavy_work():
    while True:
        work_slice("heavy", random.uniform(0.001, 0.005))
        await asyncio.sleep(0)


async def light_work():
    while True:
        work_slice("light", random.uniform(0.0002, 0.0018))
        await asyncio.sleep(0)


async def report():
    while True:
        await asyncio.sleep(0.02)
        done = slices[:]
        del slices[:]
        sys.stdout.write("".join("slice %s %.6f %.6f %.6f\n" % s for s in done))
        sys.stdout.flush()


async def cpu():
    tasks = [named_task(heavy_work(), "heavy"), named_task(light_work(), "light"), named_task(report(), "report")]
    print("ready", flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    main = {"chain": chain, "cpu": cpu}[sys.argv[1] if len(sys.argv) > 1 else "chain"]
    if hasattr(asyncio, "run"):
        asyncio.run(main())
    else:  # 3.6
        asyncio.get_event_loop().run_until_complete(main())
