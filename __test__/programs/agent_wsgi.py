# A WSGI app for the agent's tests: every request burns CPU in hot_spin() and answers with
# the worker's PID, so the test knows which workers served (gunicorn recycles them).
import os
import time


def hot_spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def app(environ, start_response):
    hot_spin(0.015)
    body = ("%d\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
