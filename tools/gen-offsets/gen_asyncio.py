#!/usr/bin/env python3
"""Generate crates/pyflame-core/src/python/asyncio/legacy_layout_generated.rs.

CPython 3.14+ describes its C task objects in the `_asyncio` module's `.AsyncioDebug` section;
3.7-3.13 do not, and their `TaskObj` is private to Modules/_asynciomodule.c. For every 3.7-3.13
whose headers are installed (the same discovery as gen.py), this compiles a C probe of
Python.h and the internal headers plus that version's task struct (tools/gen-offsets/asyncio/
tasks-3.X.h, copied from the version's _asynciomodule.c) and prints offsetof()/sizeof() of
every field `LegacyAsyncioOffsets` names (crates/pyflame-core/src/python/asyncio/
legacy_layout.rs): the task's fields, the coroutine object and its frame (embedded on 3.11+, a
heap PyFrameObject on 3.7-3.10), the frame states and the RESUME / YIELD_FROM opcode, and the
generic objects on the way from a task set to a task.

The task offsets are then checked against a live task of the interpreter itself: a small
asyncio program looks for the addresses of the task's loop, coroutine, name, first callback
and awaited future among the words of the task object (ctypes), and compares the object's
size with `_asyncio.Task.__basicsize__`; a finished task's state, the task a wakeup callback
holds, and (3.7-3.10) a coroutine's frame and that frame's code are located the same way. A
struct copied wrongly fails here, not in a profile.

Versions not installed keep their values from tools/gen-offsets/asyncio_offsets.json.

Usage: python3 tools/gen-offsets/gen_asyncio.py [--check]
Stdlib only; deterministic output.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402  (same discovery of installed headers)

REPO = gen.REPO
LAYOUT_RS = os.path.join(REPO, "crates/pyflame-core/src/python/asyncio/legacy_layout.rs")
GENERATED_RS = os.path.join(REPO, "crates/pyflame-core/src/python/asyncio/legacy_layout_generated.rs")
CACHE_JSON = os.path.join(HERE, "asyncio_offsets.json")
STRUCTS = os.path.join(HERE, "asyncio")

MINORS = [(3, 7), (3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]


def field_exprs(v):
    """C expression for each `LegacyAsyncioOffsets` field (None: the version has no such thing)."""
    heap_frames = v <= (3, 10)
    frame = "PyFrameObject" if heap_frames else "_PyInterpreterFrame"
    embedded = lambda expr: None if heap_frames else expr
    heap = lambda expr: expr if heap_frames else None
    e = {
        "task_size": "sizeof(TaskObj)",
        "task_loop": "offsetof(TaskObj, task_loop)",
        "task_callback0": "offsetof(TaskObj, task_callback0)",
        "task_callbacks": "offsetof(TaskObj, task_callbacks)",
        "task_state": "offsetof(TaskObj, task_state)",
        "task_fut_waiter": "offsetof(TaskObj, task_fut_waiter)",
        "task_coro": "offsetof(TaskObj, task_coro)",
        "task_name": "offsetof(TaskObj, task_name)" if v >= (3, 8) else None,
        # 3.10 already wakes an awaiting task through a bound builtin method (`cfunction_self`).
        "wakeup_task": "offsetof(TaskWakeupMethWrapper, ww_task)" if v <= (3, 9) else None,
        "gen_frame_state": embedded("offsetof(PyGenObject, gi_frame_state)"),
        "gen_iframe": embedded("offsetof(PyGenObject, gi_iframe)"),
        "frame_code": "offsetof(%s, %s)" % (frame, "f_executable" if v >= (3, 13) else "f_code"),
        "frame_instr": "offsetof(%s, %s)" % (frame, {True: "f_lasti", False: "instr_ptr" if v >= (3, 13) else "prev_instr"}[heap_frames]),
        "frame_stacktop": embedded("offsetof(%s, stacktop)" % frame),
        "frame_owner": embedded("offsetof(%s, owner)" % frame),
        "frame_localsplus": embedded("offsetof(%s, localsplus)" % frame),
        "frame_owned_by_generator": embedded("FRAME_OWNED_BY_GENERATOR"),
        "gen_frame": heap("offsetof(PyGenObject, gi_frame)"),
        "frame_valuestack": heap("offsetof(PyFrameObject, f_valuestack)"),
        "frame_stack_pointer": "offsetof(PyFrameObject, f_stacktop)" if v <= (3, 9) else None,
        "frame_stackdepth": "offsetof(PyFrameObject, f_stackdepth)" if v == (3, 10) else None,
        "frame_state": "offsetof(PyFrameObject, f_state)" if v == (3, 10) else None,
        "code_bytecode": heap("offsetof(PyCodeObject, co_code)"),
        "bytes_data": heap("offsetof(PyBytesObject, ob_sval)"),
        "yield_from_opcode": heap("YIELD_FROM"),
        # 3.10's frame objects have states; 3.7-3.9 tell them by gi_frame and f_stacktop.
        "state_created": "FRAME_CREATED" if v >= (3, 10) else None,
        "state_suspended": "FRAME_SUSPENDED" if v >= (3, 10) else None,
        "state_suspended_yield_from": "FRAME_SUSPENDED_YIELD_FROM" if v >= (3, 13) else None,
        "state_executing": "FRAME_EXECUTING" if v >= (3, 10) else None,
        "state_completed": ("FRAME_RETURNED" if v == (3, 10) else "FRAME_COMPLETED") if v >= (3, 10) else None,
        # 3.11/3.12 have no "suspended in await" state: the instruction after the frame's last
        # one is then RESUME with an oparg of 2 or more (Objects/genobject.c, _PyGen_yf).
        "resume_opcode": "RESUME" if (3, 11) <= v <= (3, 12) else None,
        # The other form RESUME takes: 3.11 quickens hot code to RESUME_QUICK, 3.12 swaps in
        # INSTRUMENTED_RESUME under sys.monitoring / settrace.
        "resume_variant_opcode": {(3, 11): "RESUME_QUICK", (3, 12): "INSTRUMENTED_RESUME"}.get(v),
        "object_type": "offsetof(PyObject, ob_type)",
        "type_name": "offsetof(PyTypeObject, tp_name)",
        "type_basicsize": "offsetof(PyTypeObject, tp_basicsize)",
        "type_flags": "offsetof(PyTypeObject, tp_flags)",
        "type_base": "offsetof(PyTypeObject, tp_base)",
        "set_used": "offsetof(PySetObject, used)",
        "set_mask": "offsetof(PySetObject, mask)",
        "set_table": "offsetof(PySetObject, table)",
        "set_entry_size": "sizeof(setentry)",
        "weakref_object": "offsetof(PyWeakReference, wr_object)",
        "cfunction_self": "offsetof(PyCFunctionObject, m_self)",
        "function_closure": "offsetof(PyFunctionObject, func_closure)",
        "tuple_size": "offsetof(PyVarObject, ob_size)",
        "tuple_items": "offsetof(PyTupleObject, ob_item)",
        "list_size": "offsetof(PyVarObject, ob_size)",
        "list_items": "offsetof(PyListObject, ob_item)",
        "cell_ref": "offsetof(PyCellObject, ob_ref)",
    }
    return e


def struct_fields():
    text = open(LAYOUT_RS).read()
    body = text[text.index("pub struct LegacyAsyncioOffsets "):]
    body = body[:body.index("\n}")]
    return re.findall(r"^\s*pub (\w+):\s*([^,]+),", body, re.M)


KEY_FIELDS = ("minor",)

# Asks a live task where its fields are: prints {field: [offsets holding that object's address]}.
LIVE_CHECK = r"""
import asyncio, ctypes, json, sys

async def child():
    await asyncio.sleep(3600)

async def wait_for(task):
    await task

async def noop():
    pass

def raw(obj, size=None):
    return ctypes.string_at(id(obj), size or type(obj).__basicsize__)

def where(obj, inside, size=None):
    data = raw(inside, size)
    return [i for i in range(0, len(data) - 7, 8) if int.from_bytes(data[i:i + 8], "little") == id(obj)]

async def main():
    loop = asyncio.get_running_loop()
    task = loop.create_task(child())
    if hasattr(task, "set_name"):
        task.set_name("gen-asyncio-probe")
    def callback(_):
        pass
    task.add_done_callback(callback)
    waiter = loop.create_task(wait_for(task))
    done = loop.create_task(noop())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    size = type(task).__basicsize__
    pending, finished = raw(task), raw(done)
    states = [i for i in range(0, size - 3, 4)
              if int.from_bytes(pending[i:i + 4], "little") == 0 and int.from_bytes(finished[i:i + 4], "little") == 2]
    wakeup = [cb for cb, _ in task._callbacks if cb is not callback][0]
    coro = task.get_coro() if hasattr(task, "get_coro") else task._coro
    out = {"task_size": size, "task_loop": where(loop, task), "task_coro": where(coro, task),
           "task_name": where(task.get_name(), task) if hasattr(task, "get_name") else None,
           "task_callback0": where(callback, task), "task_fut_waiter": where(task._fut_waiter, task),
           "task_state": states, "type": type(task).__module__ + "." + type(task).__name__,
           "wakeup_type": type(wakeup).__name__, "wakeup_task": where(waiter, wakeup)}
    frame = getattr(coro, "cr_frame", None)
    if sys.version_info < (3, 11):
        out["gen_frame"] = where(frame, coro)
        out["frame_code"] = where(frame.f_code, frame, 64)
    task.cancel()
    sys.stdout.write(json.dumps(out))

asyncio.run(main())
"""


def interpreter_for(inc, ver):
    """The executable that goes with an include dir (pyenv prefix, or Debian's /usr)."""
    prefix = os.path.dirname(os.path.dirname(inc))
    for name in ("python%d.%d" % ver[:2], "python3"):
        exe = os.path.join(prefix, "bin", name)
        if os.access(exe, os.X_OK):
            return exe
    return None


def live_check(inc, ver, values):
    exe = interpreter_for(inc, ver)
    if exe is None:
        raise SystemExit("no interpreter next to %s to check the task layout against" % inc)
    out = subprocess.run([exe, "-c", LIVE_CHECK], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("live check with %s failed:\n%s" % (exe, out.stderr[-2000:]))
    seen = json.loads(out.stdout)
    if seen["type"] != "_asyncio.Task":
        raise SystemExit("%s runs Python tasks (%s), not _asyncio's" % (exe, seen["type"]))
    if seen["task_size"] != values["task_size"]:
        raise SystemExit("%s: sizeof(TaskObj) %d from the copied struct, %d live" % (
            exe, values["task_size"], seen["task_size"]))
    if (values["task_name"] is None) != (seen["task_name"] is None):
        raise SystemExit("%s: task names %s live, %s in the copied struct" % (
            exe, seen["task_name"] is not None, values["task_name"] is not None))
    # The task a wakeup callback holds: a TaskWakeupMethWrapper's (<=3.9) or a bound builtin's.
    wakeup_field, wakeup_type = (("wakeup_task", "TaskWakeupMethWrapper") if values["wakeup_task"] is not None
                                 else ("cfunction_self", "builtin_function_or_method"))
    if seen["wakeup_type"] != wakeup_type:
        raise SystemExit("%s: a task wakes its awaiter with a %s, expected %s" % (exe, seen["wakeup_type"], wakeup_type))
    seen[wakeup_field] = seen["wakeup_task"]
    checked = ["task_loop", "task_coro", "task_name", "task_callback0", "task_fut_waiter", "task_state", wakeup_field]
    checked += [f for f in ("gen_frame", "frame_code") if f in seen]
    for field in checked:
        if values[field] is not None and values[field] not in seen[field]:
            raise SystemExit("%s: %s at %d from the copied struct, live at %s" % (
                exe, field, values[field], seen[field]))
    return shown(exe)


def shown(path):
    return gen.shown_path(path)


def probe(inc, ver, fields):
    minor = ver[:2]
    exprs = field_exprs(minor)
    missing = [n for n, _ in fields if n not in KEY_FIELDS and n not in exprs]
    if missing:
        raise SystemExit("gen_asyncio.py does not know how to measure: %s" % ", ".join(missing))
    src = [gen.C_PRELUDE, "#define Py_BUILD_CORE 1\n"]
    for h in gen.HEADERS[minor]:
        src.append('#include "%s"\n' % h)
    src.append('#include "internal/pycore_genobject.h"\n' if minor >= (3, 13) else "")
    src.append('#include "opcode.h"\n')
    src.append(open(os.path.join(STRUCTS, "tasks-%d.%d.h" % minor)).read())
    src.append("int main(void) {\n")
    for name, _ in fields:
        if name in KEY_FIELDS or exprs[name] is None:
            continue
        src.append('    printf("%s %%lld\\n", (long long)(%s));\n' % (name, exprs[name]))
    src.append("    return 0;\n}\n")
    with tempfile.TemporaryDirectory(prefix="gen-asyncio-") as tmp:
        c_path, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
        with open(c_path, "w") as f:
            f.write("".join(src))
        r = subprocess.run(["cc", "-w", "-I" + inc, "-I" + os.path.join(inc, "internal"), c_path, "-o", exe],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("probe for %s failed to compile:\n%s" % (inc, r.stderr[-4000:]))
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {n: None for n, _ in fields if n not in KEY_FIELDS}
    for line in out.splitlines():
        name, value = line.split()
        values[name] = int(value)
    return values


def measure(cache, fields):
    for origin, inc in gen.find_installations():
        ver = gen.header_version(inc)
        if ver[:2] not in MINORS:
            continue
        values = probe(inc, ver, fields)
        checked = live_check(inc, ver, values)
        key = "%d.%d.%d" % ver
        cache[key] = {"source": "%s headers %s + tools/gen-offsets/asyncio/tasks-%d.%d.h, checked live with %s"
                      % (origin, shown(inc), ver[0], ver[1], checked), "values": values}
        print("measured %s from %s" % (key, shown(inc)), file=sys.stderr)


def render(cache, fields):
    by_minor = {}
    for key in sorted(cache, key=lambda k: tuple(int(x) for x in k.split("."))):
        minor = tuple(int(x) for x in key.split(".")[:2])
        by_minor.setdefault(minor, []).append(key)
    out = ["// @generated by tools/gen-offsets/gen_asyncio.py -- do not edit by hand.\n",
           "// Regenerate: python3 tools/gen-offsets/gen_asyncio.py\n", "//\n",
           "// offsetof()/sizeof() and enum values printed by a C probe compiled against each\n",
           "// interpreter's headers plus its TaskObj (tools/gen-offsets/asyncio/tasks-3.X.h, from\n",
           "// Modules/_asynciomodule.c), x86_64 / LP64, GIL builds; the task offsets checked\n",
           "// against a live task of that interpreter. Sources per minor:\n"]
    entries = []
    for minor, keys in sorted(by_minor.items()):
        values = [cache[k]["values"] for k in keys]
        if any(v != values[0] for v in values[1:]):
            raise SystemExit("patch releases of %d.%d differ in layout: %s" % (minor + (", ".join(keys),)))
        out.append("//   %d.%d:\n" % minor)
        for k in keys:
            out.append("//     - %s (%s)\n" % (cache[k]["source"], k))
        entries.append((minor, values[0]))
    out.append("\nuse super::legacy_layout::LegacyAsyncioOffsets;\n\n")
    out.append("pub static LEGACY_ASYNCIO_OFFSETS: &[LegacyAsyncioOffsets] = &[\n")
    for minor, values in entries:
        out.append("    LegacyAsyncioOffsets {\n        minor: %d,\n" % minor[1])
        for name, ty in fields:
            if name in KEY_FIELDS:
                continue
            value = values.get(name)
            if ty.strip().startswith("Option<"):
                out.append("        %s: %s,\n" % (name, "None" if value is None else "Some(%d)" % value))
            elif value is None:
                raise SystemExit("field %s is required but was not measured for %d.%d" % ((name,) + minor))
            else:
                out.append("        %s: %d,\n" % (name, value))
        out.append("    },\n")
    out.append("];\n")
    return "".join(out)


def main():
    check = "--check" in sys.argv[1:]
    fields = struct_fields()
    cache = json.load(open(CACHE_JSON)) if os.path.exists(CACHE_JSON) else {}
    measure(cache, fields)
    cache_text = json.dumps(cache, indent=1, sort_keys=True) + "\n"
    rust_text = render(cache, fields)
    if check:
        stale = [p for p, text in ((CACHE_JSON, cache_text), (GENERATED_RS, rust_text))
                 if not os.path.exists(p) or open(p).read() != text]
        if stale:
            raise SystemExit("out of date: %s (run python3 tools/gen-offsets/gen_asyncio.py)"
                             % ", ".join(shown(p) for p in stale))
        return
    with open(CACHE_JSON, "w") as f:
        f.write(cache_text)
    with open(GENERATED_RS, "w") as f:
        f.write(rust_text)
    print("wrote %s" % GENERATED_RS, file=sys.stderr)


if __name__ == "__main__":
    main()
