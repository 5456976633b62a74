# Two named asyncio tasks burning CPU in slices (heavy 1-5 ms, light 0.2-1.8 ms), for
# bench/async-shares-under-load.mjs. argv[1] says what a slice is:
#   cpu:  an amount of work, until the thread's CPU clock has advanced (as __test__'s program);
#   wall: a spin until a wall-clock time (the test program before issue 16's fix).
# Every 20 ms the slices since the last report are printed: `slice <task> <start> <end> <cpu>`
# (unix times, the slice's CPU seconds).
import asyncio
import random
import sys
import time

clock = time.thread_time if sys.argv[1:] == ["cpu"] else time.perf_counter
slices = []


def burn(seconds):
    end = clock() + seconds
    while clock() < end:
        pass


def work_slice(task, seconds):
    start, cpu = time.time(), time.thread_time()
    burn(seconds)
    slices.append((task, start, time.time(), time.thread_time() - cpu))


# One function per task, so that plain (thread) stacks tell them apart too.
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


async def main():
    tasks = [asyncio.create_task(heavy_work(), name="heavy"), asyncio.create_task(light_work(), name="light"), asyncio.create_task(report(), name="report")]
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
