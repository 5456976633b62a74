#!/usr/bin/env python3
"""Generate crates/pyflame-core/src/python/offsets_generated.rs from CPython headers.

For every CPython whose headers are installed (pyenv versions, Debian /usr/include/pythonX.Y),
this writes a C probe printing offsetof()/sizeof() for every field of `VersionOffsets` and of
`LocalsOffsets` (crates/pyflame-core/src/python/offsets.rs), compiles it against that version's headers
(-DPy_BUILD_CORE, internal headers), runs it and records the values in offsets.json.
Versions not installed on this machine keep their values from offsets.json, so a machine
missing an interpreter does not drop its table. The Rust file is then written from the cache.

Usage: python3 tools/gen-offsets/gen.py [--check]
  --check  regenerate into memory and fail if the committed files differ.

Stdlib only. Output is deterministic (sorted, no timestamps, home directory shown as ~).
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OFFSETS_RS = os.path.join(REPO, "crates/pyflame-core/src/python/offsets.rs")
GENERATED_RS = os.path.join(REPO, "crates/pyflame-core/src/python/offsets_generated.rs")
CACHE_JSON = os.path.join(HERE, "offsets.json")

PATCH_ANY_MAX = 255

# Values that cannot be measured here because no header of that patch range is installed.
# Each one names its source. They override the measured table of the same minor for the
# given patch range (the rest of that range's table is copied from the measured one).
HAND_ENTERED = [
    {
        "version": (3, 7),
        "patch_min": 0,
        "patch_max": 3,
        "overrides": {"runtime_tstate_current": 1392},
        "source": "3.7.0-3.7.3 gilstate.tstate_current = 1392: /work/shared/reference/"
        "cpython-internals.md section 0/3.1, citing benfred/py-spy src/python_bindings/mod.rs "
        "(headers of 3.7.0-3.7.3 not installed; 3.7.4 inserted fields before gilstate)",
    },
]

# Headers each version family needs, in include order (relative to include dir).
HEADERS = {
    (2, 7): ["Python.h", "code.h", "frameobject.h"],
    (3, 6): ["Python.h", "code.h", "frameobject.h"],
    (3, 7): ["Python.h", "code.h", "frameobject.h", "internal/pystate.h"],
    (3, 8): ["Python.h", "code.h", "frameobject.h", "internal/pycore_pystate.h"],
    (3, 9): ["Python.h", "frameobject.h", "internal/pycore_runtime.h", "internal/pycore_interp.h"],
    (3, 10): ["Python.h", "frameobject.h", "internal/pycore_runtime.h", "internal/pycore_interp.h"],
    (3, 11): ["Python.h", "internal/pycore_runtime.h", "internal/pycore_interp.h",
              "internal/pycore_frame.h", "internal/pycore_code.h"],
    (3, 12): ["Python.h", "internal/pycore_runtime.h", "internal/pycore_interp.h",
              "internal/pycore_frame.h", "internal/pycore_code.h", "internal/pycore_gil.h"],
    (3, 13): ["Python.h", "internal/pycore_runtime.h", "internal/pycore_interp.h",
              "internal/pycore_frame.h", "internal/pycore_code.h", "internal/pycore_gil.h"],
}


def field_exprs(ver):
    """C expression (or None when the version has no such field) for each VersionOffsets field."""
    py2 = ver[0] == 2
    v = ver
    frame_type = "PyFrameObject" if v <= (3, 10) else "_PyInterpreterFrame"
    e = {}
    # _PyRuntimeState
    e["runtime_interpreters_head"] = (
        "offsetof(_PyRuntimeState, interpreters.head)" if v >= (3, 7) else None)
    e["runtime_tstate_current"] = (
        "offsetof(_PyRuntimeState, gilstate.tstate_current)" if (3, 7) <= v <= (3, 11) else None)
    # PyInterpreterState
    e["interp_next"] = "offsetof(PyInterpreterState, next)"
    e["interp_tstate_head"] = (
        "offsetof(PyInterpreterState, tstate_head)" if v <= (3, 10)
        else "offsetof(PyInterpreterState, threads.head)")
    e["interp_ceval_gil"] = "offsetof(PyInterpreterState, ceval.gil)" if v >= (3, 12) else None
    e["interp_id"] = "offsetof(PyInterpreterState, id)" if v >= (3, 7) else None
    # struct _gil_runtime_state (3.12+)
    e["gil_last_holder"] = (
        "offsetof(struct _gil_runtime_state, last_holder)" if v >= (3, 12) else None)
    e["gil_locked"] = "offsetof(struct _gil_runtime_state, locked)" if v >= (3, 12) else None
    # PyThreadState
    e["tstate_next"] = "offsetof(PyThreadState, next)"
    e["tstate_interp"] = "offsetof(PyThreadState, interp)"
    e["tstate_frame"] = (
        "offsetof(PyThreadState, frame)" if v <= (3, 10)
        else "offsetof(PyThreadState, cframe)" if v <= (3, 12)
        else "offsetof(PyThreadState, current_frame)")
    e["cframe_current_frame"] = (
        "offsetof(_PyCFrame, current_frame)" if (3, 11) <= v <= (3, 12) else None)
    e["tstate_thread_id"] = "offsetof(PyThreadState, thread_id)"
    e["tstate_native_thread_id"] = (
        "offsetof(PyThreadState, native_thread_id)" if v >= (3, 11) else None)
    e["tstate_datastack_chunk"] = (
        "offsetof(PyThreadState, datastack_chunk)" if v >= (3, 11) else None)
    e["tstate_datastack_top"] = (
        "offsetof(PyThreadState, datastack_top)" if v >= (3, 11) else None)
    e["tstate_status"] = "offsetof(PyThreadState, _status)" if v >= (3, 12) else None
    e["tstate_status_holds_gil_mask"] = "probe_holds_gil_mask()" if v >= (3, 13) else None
    e["tstate_size"] = "sizeof(PyThreadState)"
    # Frames
    if v <= (3, 10):
        back, code, lasti = "f_back", "f_code", "f_lasti"
    elif v <= (3, 12):
        back, code, lasti = "previous", "f_code", "prev_instr"
    else:
        back, code, lasti = "previous", "f_executable", "instr_ptr"
    e["frame_back"] = "offsetof(%s, %s)" % (frame_type, back)
    e["frame_code"] = "offsetof(%s, %s)" % (frame_type, code)
    e["frame_lasti"] = "offsetof(%s, %s)" % (frame_type, lasti)
    e["frame_owner"] = "offsetof(%s, owner)" % frame_type if v >= (3, 11) else None
    e["frame_is_entry"] = "offsetof(%s, is_entry)" % frame_type if v == (3, 11) else None
    e["frame_executing"] = (
        "offsetof(PyFrameObject, f_executing)" if (3, 6) <= v <= (3, 9)
        else "offsetof(PyFrameObject, f_state)" if v == (3, 10) else None)
    e["frame_specials_size"] = (
        "FRAME_SPECIALS_SIZE * sizeof(PyObject *)" if v >= (3, 11) else None)
    # End of the last used frame field: the walker reads just this many bytes per frame.
    used = [back, code, lasti] + (["owner"] if v >= (3, 11) else []) + (
        ["is_entry"] if v == (3, 11) else []) + (
        ["f_executing"] if (3, 6) <= v <= (3, 9) else ["f_state"] if v == (3, 10) else [])
    e["frame_size"] = "MAX_END(%s, %s)" % (frame_type, ", ".join(used)) if len(used) else None
    # PyCodeObject
    e["code_filename"] = "offsetof(PyCodeObject, co_filename)"
    e["code_name"] = "offsetof(PyCodeObject, co_name)"
    e["code_qualname"] = "offsetof(PyCodeObject, co_qualname)" if v >= (3, 11) else None
    e["code_firstlineno"] = "offsetof(PyCodeObject, co_firstlineno)"
    e["code_linetable"] = (
        "offsetof(PyCodeObject, co_lnotab)" if v <= (3, 9)
        else "offsetof(PyCodeObject, co_linetable)")
    e["code_code_adaptive"] = (
        "offsetof(PyCodeObject, co_code_adaptive)" if v >= (3, 11) else None)
    e["code_stacksize"] = "offsetof(PyCodeObject, co_stacksize)" if v >= (3, 11) else None
    e["code_nlocalsplus"] = "offsetof(PyCodeObject, co_nlocalsplus)" if v >= (3, 11) else None
    e["code_size"] = "sizeof(PyCodeObject)"
    # str
    if py2:
        e["unicode_length"] = "offsetof(PyStringObject, ob_size)"
        e["unicode_state"] = None
        e["unicode_ascii_data"] = "offsetof(PyStringObject, ob_sval)"
        e["unicode_compact_data"] = None
        e["bytes_size"] = "offsetof(PyStringObject, ob_size)"
        e["bytes_data"] = "offsetof(PyStringObject, ob_sval)"
    else:
        e["unicode_length"] = "offsetof(PyASCIIObject, length)"
        e["unicode_state"] = "offsetof(PyASCIIObject, state)"
        e["unicode_ascii_data"] = "sizeof(PyASCIIObject)"
        e["unicode_compact_data"] = "sizeof(PyCompactUnicodeObject)"
        e["bytes_size"] = "offsetof(PyBytesObject, ob_base.ob_size)"
        e["bytes_data"] = "offsetof(PyBytesObject, ob_sval)"
    e["object_type"] = "offsetof(PyObject, ob_type)"
    e.update(locals_field_exprs(v))
    return e


def locals_field_exprs(v):
    """`LocalsOffsets`: what `dump --locals` reads (names, slots, and simple values)."""
    frame_type = "PyFrameObject" if v <= (3, 10) else "_PyInterpreterFrame"
    e = {}
    e["locals_code_names"] = (
        "offsetof(PyCodeObject, co_varnames)" if v <= (3, 10)
        else "offsetof(PyCodeObject, co_localsplusnames)")
    e["locals_code_count"] = (
        "offsetof(PyCodeObject, co_nlocals)" if v <= (3, 10)
        else "offsetof(PyCodeObject, co_nlocalsplus)")
    e["locals_code_kinds"] = (
        "offsetof(PyCodeObject, co_localspluskinds)" if v >= (3, 11) else None)
    e["locals_frame_slots"] = (
        "offsetof(PyFrameObject, f_localsplus)" if v <= (3, 10)
        else "offsetof(_PyInterpreterFrame, localsplus)")
    e["locals_tuple_size"] = "offsetof(PyVarObject, ob_size)"
    e["locals_tuple_items"] = "offsetof(PyTupleObject, ob_item)"
    e["locals_type_name"] = "offsetof(PyTypeObject, tp_name)"
    e["locals_long_size"] = (
        "offsetof(PyLongObject, long_value.lv_tag)" if v >= (3, 12)
        else "offsetof(PyVarObject, ob_size)")
    e["locals_long_digits"] = (
        "offsetof(PyLongObject, long_value.ob_digit)" if v >= (3, 12)
        else "offsetof(PyLongObject, ob_digit)")
    e["locals_long_digit_bits"] = "PyLong_SHIFT"
    e["locals_float_value"] = "offsetof(PyFloatObject, ob_fval)"
    e["locals_cell_ref"] = "offsetof(PyCellObject, ob_ref)"
    e["locals_int27_value"] = "offsetof(PyIntObject, ob_ival)" if v[0] == 2 else None
    return e


C_PRELUDE = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#define END_OF(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
"""

HOLDS_GIL_PROBE = r"""
/* Bit position of a bitfield is not reachable with offsetof: set it in a zeroed struct. */
static unsigned long long probe_holds_gil_mask(void) {
    static PyThreadState ts;
    uint32_t word;
    memset(&ts, 0, sizeof ts);
    ts._status.holds_gil = 1;
    memcpy(&word, (char *)&ts + offsetof(PyThreadState, _status), sizeof word);
    return word;
}
"""


def max_end_expr(frame_type, fields):
    expr = "END_OF(%s, %s)" % (frame_type, fields[0])
    for f in fields[1:]:
        expr = "MAX2(%s, END_OF(%s, %s))" % (expr, frame_type, f)
    return expr


# The tables written: (struct in offsets.rs, static in offsets_generated.rs).
TABLES = [("VersionOffsets", "GENERATED_OFFSETS"), ("LocalsOffsets", "GENERATED_LOCALS_OFFSETS")]
# Fields every table has that are not measured.
KEY_FIELDS = ("major", "minor", "patch_min", "patch_max", "free_threaded")


def struct_field_names(struct="VersionOffsets"):
    """Field names of `struct`, in declaration order, parsed from offsets.rs."""
    text = open(OFFSETS_RS).read()
    body = text[text.index("pub struct %s " % struct):]
    body = body[:body.index("\n}")]
    return re.findall(r"^\s*pub (\w+):\s*([^,]+),", body, re.M)


def find_installations():
    """(label, include_dir) for every CPython header set on this machine."""
    found = []
    roots = []
    try:
        roots.append(subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                                    check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    roots.append(os.path.expanduser("~/.pyenv"))
    seen = set()
    for root in roots:
        for inc in sorted(glob.glob(os.path.join(root, "versions", "*", "include", "python*"))):
            real = os.path.realpath(inc)
            if real not in seen and os.path.exists(os.path.join(inc, "patchlevel.h")):
                seen.add(real)
                found.append(("pyenv", inc))
    for inc in sorted(glob.glob("/usr/include/python[23].*")):
        if os.path.exists(os.path.join(inc, "patchlevel.h")):
            found.append(("debian", inc))
    return found


def header_version(inc):
    text = open(os.path.join(inc, "patchlevel.h")).read()
    m = re.search(r'#define\s+PY_VERSION\s+"(\d+)\.(\d+)\.(\d+)', text)
    return tuple(int(x) for x in m.groups())


def shown_path(path):
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if path.startswith(home + "/") else path


def probe(inc, ver, free_threaded, fields):
    """Compile and run the offsetof probe; returns {field: value or None}."""
    minor = ver[:2]
    exprs = field_exprs(minor)
    missing = [name for name, _ in fields if name not in exprs]
    if missing:
        raise SystemExit("gen.py does not know how to measure new VersionOffsets fields: %s"
                         % ", ".join(missing))
    src = [C_PRELUDE]
    if free_threaded:
        src.append("#define Py_GIL_DISABLED 1\n")
    src.append("#define Py_BUILD_CORE 1\n")
    for h in HEADERS[minor]:
        src.append('#include "%s"\n' % h)
    if minor <= (3, 10):
        src.append('#include "longintrepr.h"\n')
    if exprs["tstate_status_holds_gil_mask"]:
        src.append(HOLDS_GIL_PROBE)
    src.append("int main(void) {\n")
    for name, _ in fields:
        expr = exprs[name]
        if expr is None:
            continue
        if expr.startswith("MAX_END("):
            inner = expr[len("MAX_END("):-1].split(", ")
            expr = max_end_expr(inner[0], inner[1:])
        src.append('    printf("%s %%llu\\n", (unsigned long long)(%s));\n' % (name, expr))
    src.append("    return 0;\n}\n")
    with tempfile.TemporaryDirectory(prefix="gen-offsets-") as tmp:
        c_path = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(c_path, "w") as f:
            f.write("".join(src))
        cmd = ["cc", "-w", "-I" + inc, "-I" + os.path.join(inc, "internal"), c_path, "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("probe for %s failed to compile:\n%s" % (inc, r.stderr[-4000:]))
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {name: None for name, _ in fields}
    for line in out.splitlines():
        name, value = line.split()
        values[name] = int(value)
    return values


def cache_key(ver, free_threaded):
    return "%d.%d.%d%s" % (ver + ("t" if free_threaded else "",))


def load_cache():
    if os.path.exists(CACHE_JSON):
        return json.load(open(CACHE_JSON))
    return {}


def measure(cache, fields):
    """Probe every installed version, updating the cache in place. Returns the keys measured."""
    measured = []
    for origin, inc in find_installations():
        ver = header_version(inc)
        if ver[:2] not in HEADERS:
            print("skip %s: no probe recipe for %d.%d" % (inc, ver[0], ver[1]), file=sys.stderr)
            continue
        variants = [False] + ([True] if ver[:2] >= (3, 13) else [])
        for ft in variants:
            try:
                values = probe(inc, ver, ft, fields)
            except RuntimeError as err:
                if ft:  # free-threaded headers are optional
                    print("skip free-threaded %s: %s" % (inc, err), file=sys.stderr)
                    continue
                raise
            key = cache_key(ver, ft)
            cache[key] = {
                "source": "%s headers %s%s" % (origin, shown_path(inc),
                                                " with -DPy_GIL_DISABLED" if ft else ""),
                "values": values,
            }
            measured.append(key)
            print("measured %s from %s" % (key, shown_path(inc)), file=sys.stderr)
    return measured


def parse_key(key):
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(t?)", key)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))), m.group(4) == "t"


def build_entries(cache, fields):
    """One entry per (minor, free-threaded, patch range with identical layout)."""
    groups = {}
    for key in cache:
        ver, ft = parse_key(key)
        groups.setdefault((ver[:2], ft), []).append((ver[2], key))
    entries = []
    for (minor, ft), patches in sorted(groups.items()):
        patches.sort()
        # Merge consecutive measured patches with identical layouts.
        runs = []
        for patch, key in patches:
            values = cache[key]["values"]
            if runs and runs[-1]["values"] == values:
                runs[-1]["keys"].append(key)
            else:
                runs.append({"first_patch": patch, "values": values, "keys": [key]})
        for i, run in enumerate(runs):
            patch_min = 0 if i == 0 else run["first_patch"]
            patch_max = runs[i + 1]["first_patch"] - 1 if i + 1 < len(runs) else PATCH_ANY_MAX
            entries.append({
                "minor": minor, "free_threaded": ft, "patch_min": patch_min,
                "patch_max": patch_max, "values": dict(run["values"]),
                "sources": [cache[k]["source"] + " (" + k + ")" for k in run["keys"]],
            })
    for hand in HAND_ENTERED:
        base = [e for e in entries if e["minor"] == hand["version"] and not e["free_threaded"]
                and e["patch_min"] <= hand["patch_min"] and hand["patch_max"] <= e["patch_max"]]
        if not base:
            continue
        base = base[0]
        # Split the measured entry around the hand-entered range.
        entries.remove(base)
        if base["patch_min"] < hand["patch_min"]:
            entries.append(dict(base, patch_max=hand["patch_min"] - 1))
        values = dict(base["values"])
        values.update(hand["overrides"])
        entries.append(dict(base, patch_min=hand["patch_min"], patch_max=hand["patch_max"],
                            values=values,
                            sources=base["sources"] + ["HAND-ENTERED " + hand["source"]]))
        if hand["patch_max"] < base["patch_max"]:
            entries.append(dict(base, patch_min=hand["patch_max"] + 1))
    entries.sort(key=lambda e: (e["minor"], e["free_threaded"], e["patch_min"]))
    return entries


def rust_value(name, ty, value):
    ty = ty.strip()
    if ty.startswith("Option<"):
        if value is None:
            return "None"
        inner = "0x%x" % value if name.endswith("_mask") else str(value)
        return "Some(%s)" % inner
    if value is None:
        raise SystemExit("field %s is required (%s) but was not measured" % (name, ty))
    return str(value)


def render(entries, tables):
    out = []
    out.append("// @generated by tools/gen-offsets/gen.py -- do not edit by hand.\n")
    out.append("// Regenerate: python3 tools/gen-offsets/gen.py\n")
    out.append("//\n")
    out.append("// Values are offsetof()/sizeof() printed by a C probe compiled against each\n")
    out.append("// interpreter's installed headers (cc -DPy_BUILD_CORE -I<inc> -I<inc>/internal),\n")
    out.append("// x86_64 / LP64. Versions not installed when regenerating come from\n")
    out.append("// tools/gen-offsets/offsets.json. Sources per entry:\n")
    for e in entries:
        out.append("//   %d.%d%s patches %d..=%d:\n" % (
            e["minor"] + ("t" if e["free_threaded"] else "", e["patch_min"], e["patch_max"])))
        for s in e["sources"]:
            out.append("//     - %s\n" % s)
    out.append("\nuse super::offsets::{%s};\n" % ", ".join(struct for struct, _, _ in tables))
    for struct, static, fields in tables:
        out.append("\npub static %s: &[%s] = &[\n" % (static, struct))
        render_entries(out, entries, struct, fields)
        out.append("];\n")
    return "".join(out)


def render_entries(out, entries, struct, fields):
    for e in entries:
        out.append("    %s {\n" % struct)
        out.append("        major: %d,\n        minor: %d,\n" % e["minor"])
        out.append("        patch_min: %d,\n        patch_max: %d,\n" % (e["patch_min"],
                                                                       e["patch_max"]))
        out.append("        free_threaded: %s,\n" % ("true" if e["free_threaded"] else "false"))
        for name, ty in fields:
            if name in KEY_FIELDS:
                continue
            out.append("        %s: %s,\n" % (name, rust_value(name, ty, e["values"].get(name))))
        out.append("    },\n")


def main():
    check = "--check" in sys.argv[1:]
    tables = [(struct, static, struct_field_names(struct)) for struct, static in TABLES]
    measured_fields = [(n, t) for _, _, fields in tables for n, t in fields if n not in KEY_FIELDS]
    cache = load_cache()
    measure(cache, measured_fields)
    cache_text = json.dumps(cache, indent=1, sort_keys=True) + "\n"
    rust_text = render(build_entries(cache, measured_fields), tables)
    if check:
        stale = [p for p, text in ((CACHE_JSON, cache_text), (GENERATED_RS, rust_text))
                 if not os.path.exists(p) or open(p).read() != text]
        if stale:
            raise SystemExit("out of date: %s (run python3 tools/gen-offsets/gen.py)"
                             % ", ".join(shown_path(p) for p in stale))
        return
    with open(CACHE_JSON, "w") as f:
        f.write(cache_text)
    with open(GENERATED_RS, "w") as f:
        f.write(rust_text)
    print("wrote %s" % GENERATED_RS, file=sys.stderr)


if __name__ == "__main__":
    main()
