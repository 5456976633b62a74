# A small stand-in for a busy web worker: it "handles requests" forever, spending its time
# in JSON parsing, template rendering, a cache, and (releasing the GIL) a fake database call.
import json
import sys
import time

CACHE = {}


def parse_request(raw):
    return json.loads(raw)


def cache_lookup(key):
    # Deliberately slow: a linear scan where a dict lookup would do.
    for k in list(CACHE.keys()):
        if k == key:
            return CACHE[k]
    return None


def render_template(context):
    parts = []
    for i in range(200):
        parts.append("<li>%s: %s</li>" % (i, context.get("user", "?")))
    return "".join(parts)


def db_query(user):
    time.sleep(0.0005)  # waiting on the network: the GIL is released
    return {"user": user, "items": list(range(50))}


def handle(raw):
    request = parse_request(raw)
    cached = cache_lookup(request["user"])
    if cached is None:
        cached = db_query(request["user"])
        CACHE[request["user"]] = cached
    if len(CACHE) >= 200 and time.time() % 1 < 0.05:
        CACHE.clear()  # an occasional eviction sends the next requests to the database
    return render_template(cached)


def serve_forever():
    n = 0
    while True:
        n += 1
        handle(json.dumps({"user": "user%d" % (n % 200), "path": "/home"}))


if __name__ == "__main__":
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    serve_forever()
