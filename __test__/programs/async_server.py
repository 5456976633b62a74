# A real aiohttp server on 127.0.0.1 (port chosen by the OS, printed as `ready <port>`).
#   /compute  handle_compute: CPU work in the handler (a small prime sieve)
#   /slow     handle_slow: awaits a sleep, then a little CPU work
#   /hold     handle_hold: waits until /release is called (to hold many requests open)
#   /release  releases every held request
import asyncio
import sys

from aiohttp import web

released = None


def sieve(limit):
    flags = bytearray([1]) * limit
    count = 0
    for i in range(2, limit):
        if flags[i]:
            count += 1
            for j in range(i * i, limit, i):
                flags[j] = 0
    return count


async def handle_compute(request):
    return web.Response(text=str(sieve(20000)))


async def handle_slow(request):
    await asyncio.sleep(0.005)
    return web.Response(text=str(sieve(2000)))


async def handle_hold(request):
    await released.wait()
    return web.Response(text="released")


async def handle_release(request):
    global released
    released.set()
    released = asyncio.Event()
    return web.Response(text="ok")


async def main():
    global released
    released = asyncio.Event()
    app = web.Application()
    app.add_routes([
        web.get("/compute", handle_compute),
        web.get("/slow", handle_slow),
        web.get("/hold", handle_hold),
        web.get("/release", handle_release),
    ])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=512)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("ready %d" % port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
