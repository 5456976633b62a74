//! CPython builds that cannot run here (3.14, 3.13t, 3.14t) as synthetic memory images: a
//! `_PyRuntime` carrying `_Py_DebugOffsets` in that version's table layout, two interpreters
//! (the main one and a sub-interpreter), three thread states, frames in a data-stack chunk
//! and outside it, entry (shim) frames, tagged `f_executable` (3.14), thread-local bytecode
//! (3.14t), code objects, ASCII and non-ASCII strings and 3.11+ location tables. The walker
//! must return the right names, files, lines, interpreter ids and GIL holder from them.
//!
//! Offsets are those of reference §3–§10 (3.13.0 verified, 3.13t derived from headers with
//! -DPy_GIL_DISABLED, 3.14 from the 3.14.0 headers as documented); what is checked is that
//! the walker follows whatever the table says, on the structure shapes of each build.

mod support;

use pyflame_core::process::memory::ImageMemory;
use support::{write_matrix_row, MatrixRow};
use pyflame_core::python::{PythonTarget, Sample, Walker};

const CODE_TYPE: u64 = 0x9000;
const STR_TYPE: u64 = 0x9400;
const BYTES_TYPE: u64 = 0x9800;
const NONE_TYPE: u64 = 0x9c00;
const NONE: u64 = 0xa000;

/// One build's structure shapes, as its debug offsets table describes them.
#[derive(Clone, Copy)]
struct Shape {
    minor: u8,
    free_threaded: bool,
    interpreters_head: u64,
    interp_id: u64,
    interp_next: u64,
    threads_head: u64,
    gil_state: u64,
    gil_enabled: u64,
    gil_locked: u64,
    gil_holder: u64,
    tstate_next: u64,
    tstate_interp: u64,
    current_frame: u64,
    thread_id: u64,
    native_thread_id: u64,
    datastack_chunk: u64,
    status: u64,
    frame_previous: u64,
    frame_executable: u64,
    frame_instr_ptr: u64,
    frame_owner: u64,
    frame_size: u64,
    frame_tlbc_index: u64,
    code_filename: u64,
    code_name: u64,
    code_qualname: u64,
    code_linetable: u64,
    code_firstlineno: u64,
    code_adaptive: u64,
    code_tlbc: u64,
    code_size: u64,
    ob_type: u64,
    bytes_size: u64,
    bytes_sval: u64,
    str_length: u64,
    str_state: u64,
    str_ascii: u64,
    /// Owner value of the interpreter-entry frame (3.13: CSTACK 3; 3.14: INTERPRETER 3).
    shim_owner: u8,
    /// Tag bits set on `f_executable` (3.14 `_PyStackRef`).
    executable_tag: u64,
}

fn shape_314() -> Shape {
    Shape {
        minor: 14,
        free_threaded: false,
        // After the 760-byte table (3.13's 632 would lie inside it).
        interpreters_head: 808,
        interp_id: 7280,
        interp_next: 7272,
        threads_head: 7344,
        gil_state: 7760,
        gil_enabled: 0,
        gil_locked: 7776,
        gil_holder: 7768,
        tstate_next: 8,
        tstate_interp: 16,
        current_frame: 72,
        thread_id: 152,
        native_thread_id: 160,
        datastack_chunk: 232,
        status: 32,
        frame_previous: 8,
        frame_executable: 0,
        frame_instr_ptr: 56,
        frame_owner: 74,
        frame_size: 88,
        frame_tlbc_index: 0,
        code_filename: 112,
        code_name: 120,
        code_qualname: 128,
        code_linetable: 136,
        code_firstlineno: 68,
        code_adaptive: 208,
        code_tlbc: 0,
        code_size: 216,
        ob_type: 8,
        bytes_size: 16,
        bytes_sval: 32,
        str_length: 16,
        str_state: 32,
        str_ascii: 40,
        shim_owner: 3,
        executable_tag: 1,
    }
}

/// 3.13t: 32-byte object header; thread state and frame unchanged (reference §10).
fn shape_313t() -> Shape {
    Shape {
        minor: 13,
        free_threaded: true,
        interpreters_head: 632,
        interp_id: 7272,
        interp_next: 7264,
        threads_head: 7344,
        gil_state: 7760,
        gil_enabled: 7760,
        gil_locked: 7784,
        gil_holder: 7776,
        frame_owner: 70,
        frame_size: 80,
        code_filename: 128,
        code_name: 136,
        code_qualname: 144,
        code_linetable: 152,
        code_firstlineno: 84,
        code_adaptive: 216,
        code_size: 224,
        ob_type: 24,
        bytes_size: 32,
        bytes_sval: 48,
        str_length: 32,
        str_state: 48,
        str_ascii: 56,
        executable_tag: 0,
        ..shape_314()
    }
}

/// 3.14t: the 3.13t object shapes plus `tlbc_index` in frames and `co_tlbc` in code.
fn shape_314t() -> Shape {
    Shape {
        minor: 14,
        interpreters_head: 808,
        interp_id: 7280,
        interp_next: 7272,
        frame_owner: 78,
        frame_size: 88,
        frame_tlbc_index: 72,
        code_tlbc: 216,
        code_adaptive: 232,
        code_size: 240,
        executable_tag: 1,
        ..shape_313t()
    }
}

/// 3.15 (values of Debian's libpython3.15-dev 3.15.2 headers, as
/// crates/pyflame-core/tests/fixtures/debug-offsets/3.15.2.txt has them): thread states
/// moved `thread_id` and later fields down by the sampler's frame-cache fields.
fn shape_315() -> Shape {
    Shape {
        minor: 15,
        interpreters_head: 936,
        interp_id: 7272,
        interp_next: 7264,
        threads_head: 7336,
        gil_state: 7736,
        gil_enabled: 0,
        gil_locked: 7752,
        gil_holder: 7744,
        thread_id: 176,
        native_thread_id: 184,
        datastack_chunk: 256,
        ..shape_314()
    }
}

/// 3.15t: the 3.15 thread state with 3.14t's object, frame and code shapes (header probe with
/// -DPy_GIL_DISABLED, fixtures/debug-offsets/3.15.2t.txt).
fn shape_315t() -> Shape {
    Shape {
        minor: 15,
        interpreters_head: 936,
        interp_id: 7272,
        interp_next: 7264,
        threads_head: 7336,
        gil_state: 7736,
        gil_enabled: 7736,
        gil_locked: 7760,
        gil_holder: 7752,
        thread_id: 176,
        native_thread_id: 184,
        datastack_chunk: 256,
        ..shape_314t()
    }
}

/// The `_Py_DebugOffsets` bytes for `s`, in its minor's table layout.
fn debug_offsets_table(s: &Shape) -> Vec<u8> {
    let is_314 = s.minor >= 14;
    let is_315 = s.minor >= 15;
    let ft = |v: u64| if s.free_threaded { v } else { 0 };
    let mut f: Vec<u64> = vec![300_000, 608, s.interpreters_head];
    f.extend([200_000, s.interp_id, s.interp_next, s.threads_head]);
    if is_314 {
        f.push(s.threads_head + 16); // threads_main
    }
    f.extend([7408, 7664, 7648, 7656, 16, s.gil_state, s.gil_enabled, s.gil_locked, s.gil_holder]);
    if is_314 {
        f.extend([9000, ft(9008)]); // code_object_generation, tlbc_generation
    }
    f.extend([824, 0, s.tstate_next, s.tstate_interp, s.current_frame]);
    if is_315 {
        f.extend([s.current_frame + 8, s.current_frame + 16, s.current_frame + 24]); // base_frame, last_profiled_frame(_seq)
    }
    f.extend([s.thread_id, s.native_thread_id, s.datastack_chunk, s.status]);
    if is_315 {
        f.extend([s.status + 4, s.status + 8, 136, 288]); // holds_gil, gil_requested, current_exception, exc_state
        f.push(0); // err_stackitem.exc_value
    }
    f.extend([s.frame_size, s.frame_previous, s.frame_executable, s.frame_instr_ptr, 80, s.frame_owner]);
    if is_314 {
        f.extend([64, s.frame_tlbc_index]); // stackpointer, tlbc_index
    }
    f.extend([s.code_size, s.code_filename, s.code_name, s.code_qualname, s.code_linetable, s.code_firstlineno, s.code_firstlineno - 16, 96, 104, s.code_adaptive]);
    if is_314 {
        f.push(s.code_tlbc);
    }
    let header = s.ob_type + 8;
    f.extend([header, s.ob_type]); // pyobject
    f.extend([416, header + 8, 88 + header - 16, 168 + header - 16]); // type_object
    if is_315 {
        f.extend([header + 16, 288]); // tp_basicsize, tp_dictoffset
        f.extend([944, 888]); // heap_type_object
    }
    f.extend([header + 16, header + 8, header]); // tuple
    f.extend([header + 24, header + 8, header]); // list
    if is_314 {
        f.extend([200, header + 8, header + 24, header + 32]); // set
    }
    f.extend([header + 32, header + 16, header + 24]); // dict
    f.extend([header + 8, header]); // float
    f.extend([header + 16, header, header + 8]); // long
    f.extend([s.bytes_sval + 8, s.bytes_size, s.bytes_sval]); // bytes
    f.extend([s.str_ascii + 24, s.str_state, s.str_length, s.str_ascii]); // unicode
    if is_315 {
        f.push(s.str_ascii + 16); // compactunicodeobject_size
    }
    f.extend([256, 200]); // gc
    if is_315 {
        f.extend([208, 24, 216]); // frame, generation_stats_size, generation_stats
    }
    if is_314 {
        f.extend([136, 48, 80, 67]); // gen_object
        f.extend([0, 8]); // llist_node
        f.extend([24, 400, 500, 0, 4, 512]); // debugger_support
    }
    let mut raw = Vec::new();
    raw.extend_from_slice(b"xdebugpy");
    raw.extend_from_slice(&(0x0300_00f0u64 | (u64::from(s.minor) << 16)).to_le_bytes());
    raw.extend_from_slice(&u64::from(s.free_threaded).to_le_bytes());
    for v in f {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    raw
}

/// Builds objects into an image, bump-allocating from a heap.
struct Builder {
    img: ImageMemory,
    s: Shape,
    next: u64,
}

impl Builder {
    fn alloc(&mut self, len: u64) -> u64 {
        let addr = self.next;
        self.next += (len + 0xff) & !0xff;
        self.img.alloc(addr, len as usize);
        addr
    }

    fn object(&mut self, len: u64, ty: u64) -> u64 {
        let addr = self.alloc(len);
        self.img.write_u64(addr + self.s.ob_type, ty);
        addr
    }

    /// A compact `str` of the smallest kind that holds `text`.
    fn str(&mut self, text: &str) -> u64 {
        let chars: Vec<u32> = text.chars().map(|c| c as u32).collect();
        let max = chars.iter().copied().max().unwrap_or(0);
        let (kind, ascii) = match max {
            0..=127 => (1u32, true),
            128..=255 => (1, false),
            256..=65535 => (2, false),
            _ => (4, false),
        };
        let data_at = if ascii { self.s.str_ascii } else { self.s.str_ascii + 16 };
        let addr = self.object(data_at + (chars.len() as u64 + 1) * 4, STR_TYPE);
        self.img.write_u64(addr + self.s.str_length, chars.len() as u64);
        let bits = kind | (1 << 3) | (u32::from(ascii) << 4); // kind:3, compact:1, ascii:1
        let state = if self.s.free_threaded && self.s.minor >= 14 { bits << 8 } else { bits << 2 };
        self.img.write_u32(addr + self.s.str_state, state);
        let mut data = Vec::new();
        for c in chars {
            data.extend_from_slice(&c.to_le_bytes()[..kind as usize]);
        }
        self.img.write(addr + data_at, &data);
        addr
    }

    fn bytes(&mut self, data: &[u8]) -> u64 {
        let addr = self.object(self.s.bytes_sval + data.len() as u64 + 8, BYTES_TYPE);
        self.img.write_u64(addr + self.s.bytes_size, data.len() as u64);
        self.img.write(addr + self.s.bytes_sval, data);
        addr
    }

    /// A code object whose instruction `index` (2-byte units) is on `line`, every earlier
    /// one on `first_line` (a 3.11+ location table: two "no column" entries).
    fn code(&mut self, name: &str, file: &str, first_line: u32, index: u64, line: u32) -> u64 {
        let addr = self.object(self.s.code_size + 2 * (index + 8), CODE_TYPE);
        let name = self.str(name);
        let file = self.str(file);
        let mut table = Vec::new();
        // An entry covers at most 8 code units.
        let mut left = index;
        while left > 0 {
            let units = left.min(8);
            table.extend([0x80 | (13 << 3) | (units as u8 - 1), 0]);
            left -= units;
        }
        table.push(0x80 | (13 << 3) | 7);
        // svarint: zig-zag, then 6-bit groups with 0x40 as the continuation bit.
        let mut v = u64::from(line - first_line) << 1;
        while v >= 0x40 {
            table.push(0x40 | (v & 0x3f) as u8);
            v >>= 6;
        }
        table.push(v as u8);
        // Then the next line, so an offset computed from the wrong base lands elsewhere.
        table.extend([0x80 | (13 << 3) | 7, 2]);
        let table = self.bytes(&table);
        self.img.write_u64(addr + self.s.code_name, name);
        self.img.write_u64(addr + self.s.code_qualname, name);
        self.img.write_u64(addr + self.s.code_filename, file);
        self.img.write_u64(addr + self.s.code_linetable, table);
        self.img.write_u32(addr + self.s.code_firstlineno, first_line);
        // `co_stacksize` and `co_nlocalsplus`, the ints around `co_firstlineno`: one word each,
        // so a frame of this code takes FRAME_SPECIALS + 2 words of the data stack.
        self.img.write_u32(addr + self.s.code_firstlineno - 4, 1);
        self.img.write_u32(addr + self.s.code_firstlineno + 4, 1);
        // `ob_size`: the bytecode length in code units (code objects are var-sized since 3.11).
        self.img.write_u64(addr + self.s.bytes_size, index + 8);
        addr
    }

    /// Writes an interpreter frame at `at`.
    fn frame(&mut self, at: u64, executable: u64, instr: u64, previous: u64, owner: u8, tlbc_index: i32) {
        let s = self.s;
        self.img.write_u64(at + s.frame_executable, executable | s.executable_tag);
        self.img.write_u64(at + s.frame_previous, previous);
        self.img.write_u64(at + s.frame_instr_ptr, instr);
        self.img.write(at + s.frame_owner, &[owner]);
        if s.frame_tlbc_index != 0 {
            self.img.write(at + s.frame_tlbc_index, &tlbc_index.to_le_bytes());
        }
    }

    fn instr(&self, code: u64, index: u64) -> u64 {
        code + self.s.code_adaptive + 2 * index
    }
}

const FILE: &str = "/srv/app/matrix_known.py";
const SUB_FILE: &str = "/srv/app/naïve_файл.py";

struct Image {
    mem: ImageMemory,
    runtime: u64,
    main_tstate: u64,
    napper_tstate: u64,
}

/// The known program of the live matrix (main thread in spin ← outer ← main ← <module>, a
/// napper thread in nap) plus a sub-interpreter (id 1) whose thread runs non-ASCII code.
/// `gil`: None = GIL released/disabled; Some(true) = the main thread holds it; Some(false) =
/// the napper holds it.
fn build(s: Shape, gil: Option<bool>) -> Image {
    let mut b = Builder { img: ImageMemory::new(), s, next: 0x100_0000 };
    for ty in [CODE_TYPE, STR_TYPE, BYTES_TYPE, NONE_TYPE] {
        b.img.alloc(ty, 0x100);
    }
    b.img.alloc(NONE, 0x40);
    b.img.write_u64(NONE + s.ob_type, NONE_TYPE);

    let runtime = 0x10_0000;
    b.img.alloc(runtime, 0x1000);
    b.img.write(runtime, &debug_offsets_table(&s));

    let interp = b.alloc(10_000);
    let sub_interp = b.alloc(10_000);
    b.img.write_u64(runtime + s.interpreters_head, interp);
    b.img.write_u64(interp + s.interp_next, sub_interp);
    b.img.write_u64(interp + s.interp_id, 0);
    b.img.write_u64(sub_interp + s.interp_id, 1);
    for i in [interp, sub_interp] {
        b.img.write_u64(i + 16, i + s.gil_state); // ceval.gil → its own _gil
        if s.free_threaded && gil.is_some() {
            b.img.write_u32(i + s.gil_enabled, 1); // PYTHON_GIL=1
        }
    }

    let main_ts = b.alloc(824);
    let napper_ts = b.alloc(824);
    let sub_ts = b.alloc(824);
    b.img.write_u64(interp + s.threads_head, main_ts);
    b.img.write_u64(main_ts + s.tstate_next, napper_ts);
    b.img.write_u64(sub_interp + s.threads_head, sub_ts);
    for (ts, owner, tid) in [(main_ts, interp, 101u64), (napper_ts, interp, 102), (sub_ts, sub_interp, 103)] {
        b.img.write_u64(ts + s.tstate_interp, owner);
        b.img.write_u64(ts + s.thread_id, 0x7f00_0000_0000 + tid);
        b.img.write_u64(ts + s.native_thread_id, tid);
    }
    if let Some(main_holds) = gil {
        b.img.write_u32(interp + s.gil_locked, 1);
        b.img.write_u64(interp + s.gil_holder, if main_holds { main_ts } else { napper_ts });
    } else {
        // Released: last_holder stays set, locked is 0.
        b.img.write_u64(interp + s.gil_holder, main_ts);
    }
    b.img.write_u64(sub_interp + s.gil_holder, sub_ts);

    // Main thread: frames inside its data-stack chunk (copied in one read by the walker).
    let module = b.code("<module>", FILE, 1, 12, 33);
    let main_fn = b.code("main", FILE, 23, 9, 29);
    let outer = b.code("outer", FILE, 19, 2, 20);
    let spin = b.code("spin", FILE, 13, 5, 16);
    let chunk = b.alloc(0x1000);
    // Frames tile the chunk as CPython pushes them: each `co_framesize` bytes after its caller.
    let frame_bytes = (s.frame_size - 1) / 8 * 8 + 16;
    let frames: Vec<u64> = (0..5).map(|i| chunk + 24 + i * frame_bytes).collect();
    b.img.write_u64(main_ts + s.datastack_chunk, chunk);
    b.img.write_u64(main_ts + s.datastack_chunk + 8, frames[4] + frame_bytes); // datastack_top
    b.frame(frames[0], NONE, 0, 0, s.shim_owner, 0); // interpreter entry frame
    b.frame(frames[1], module, b.instr(module, 12), frames[0], 0, 0);
    b.frame(frames[2], main_fn, b.instr(main_fn, 9), frames[1], 0, 0);
    b.frame(frames[3], outer, b.instr(outer, 2), frames[2], 0, 0);
    if s.code_tlbc != 0 {
        // 3.14t: this thread runs its own copy of spin's bytecode (index 1).
        let copy = b.alloc(64);
        let array = b.alloc(24);
        b.img.write_u64(array, 2);
        b.img.write_u64(array + 8, b.instr(spin, 0));
        b.img.write_u64(array + 16, copy);
        b.img.write_u64(spin + s.code_tlbc, array);
        b.frame(frames[4], spin, copy + 2 * 5, frames[3], 0, 1);
    } else {
        b.frame(frames[4], spin, b.instr(spin, 5), frames[3], 0, 0);
    }
    b.img.write_u64(main_ts + s.current_frame, frames[4]);

    // Napper: frames outside any chunk (a generator-like placement), read one by one.
    let nap = b.code("nap", FILE, 8, 4, 10);
    let run = b.code("Thread.run", "/usr/lib/python3/threading.py", 990, 3, 992);
    let entry = b.alloc(s.frame_size);
    let run_frame = b.alloc(s.frame_size);
    let nap_frame = b.alloc(s.frame_size);
    b.frame(entry, NONE, 0, 0, s.shim_owner, 0);
    b.frame(run_frame, run, b.instr(run, 3), entry, 0, 0);
    b.frame(nap_frame, nap, b.instr(nap, 4), run_frame, 0, 0);
    b.img.write_u64(napper_ts + s.current_frame, nap_frame);

    // Sub-interpreter thread: Latin-1, UCS-2 and UCS-4 names in a non-ASCII file.
    let work = b.code("träge_睡眠", SUB_FILE, 3, 1, 4);
    let astral = b.code("𠀀_handler", SUB_FILE, 7, 0, 7);
    let sub_entry = b.alloc(s.frame_size);
    let astral_frame = b.alloc(s.frame_size);
    let work_frame = b.alloc(s.frame_size);
    b.frame(sub_entry, NONE, 0, 0, s.shim_owner, 0);
    b.frame(astral_frame, astral, b.instr(astral, 0), sub_entry, 0, 0);
    b.frame(work_frame, work, b.instr(work, 1), astral_frame, 0, 0);
    b.img.write_u64(sub_ts + s.current_frame, work_frame);

    Image { mem: b.img, runtime, main_tstate: main_ts, napper_tstate: napper_ts }
}

type Stack = Vec<(String, String, u32)>;

fn walk(image: &Image) -> (PythonTarget, Vec<(u64, i64, bool, Stack)>) {
    let target = PythonTarget::from_runtime_image(&image.mem, image.runtime, Some(CODE_TYPE), Some(STR_TYPE)).expect("target");
    let mut walker = Walker::new(target.clone());
    let mut sample = Sample::default();
    walker.sample(&image.mem, &mut sample).expect("sample");
    let threads = sample
        .threads
        .iter()
        .map(|t| {
            assert_eq!(t.error, None, "thread {:#x}", t.tstate);
            let frames = sample
                .frames_of(t)
                .iter()
                .map(|f| {
                    let c = walker.codes.get(f.code);
                    (c.name.clone(), c.filename.clone(), f.line)
                })
                .collect();
            (t.tstate, t.interpreter_id, t.holds_gil, frames)
        })
        .collect();
    (target, threads)
}

fn frames(list: &[(&str, &str, u32)]) -> Stack {
    list.iter().map(|(n, f, l)| (n.to_string(), f.to_string(), *l)).collect()
}

/// The assertions every synthetic build must pass (the live matrix's, on an image).
fn check_build(name: &str, s: Shape, gil: Option<bool>) {
    let image = build(s, gil);
    let (target, threads) = walk(&image);
    assert_eq!((target.layout.version.major, target.layout.version.minor), (3, s.minor), "{name}");
    assert_eq!(target.layout.offsets.free_threaded, s.free_threaded, "{name}");
    assert_eq!(threads.len(), 3, "{name}: three thread states over two interpreters");

    let (main_ts, main_interp, main_gil, main_stack) = &threads[0];
    assert_eq!(*main_ts, image.main_tstate);
    assert_eq!(*main_interp, 0);
    assert_eq!(
        *main_stack,
        frames(&[("<module>", FILE, 33), ("main", FILE, 29), ("outer", FILE, 20), ("spin", FILE, 16)]),
        "{name}: main thread (root first, entry frame skipped)"
    );
    let (napper_ts, napper_interp, napper_gil, napper_stack) = &threads[1];
    assert_eq!((*napper_ts, *napper_interp), (image.napper_tstate, 0));
    assert_eq!(*napper_stack, frames(&[("Thread.run", "/usr/lib/python3/threading.py", 992), ("nap", FILE, 10)]), "{name}: napper");
    let (_, sub_interp, sub_gil, sub_stack) = &threads[2];
    assert_eq!(*sub_interp, 1, "{name}: sub-interpreter id");
    assert_eq!(*sub_stack, frames(&[("𠀀_handler", SUB_FILE, 7), ("träge_睡眠", SUB_FILE, 4)]), "{name}: non-ASCII names");
    assert!(!sub_gil, "{name}: the sub-interpreter's GIL is not locked");

    match gil {
        Some(true) => assert!(*main_gil && !napper_gil, "{name}: main thread holds the GIL"),
        Some(false) => assert!(!main_gil && *napper_gil, "{name}: napper holds the GIL"),
        None => assert!(!main_gil && !napper_gil, "{name}: nobody holds the GIL (last_holder is stale)"),
    }
    let version = format!("3.{}{}", s.minor, if s.free_threaded { "t" } else { "" });
    write_matrix_row(&MatrixRow {
        id: &format!("synthetic-{name}"),
        version: &version,
        build: if s.free_threaded { "free-threaded (32-byte object header)" } else { "default (GIL)" },
        shape: &format!("synthetic image: {name}; 2 interpreters, 3 threads, entry frames, non-ASCII names"),
        verified: "synthetic",
        discovery: "_Py_DebugOffsets in _PyRuntime",
        version_source: "debug offsets",
        gil: match gil {
            Some(true) => "main thread holds it",
            Some(false) => "napper thread holds it",
            None => "released/disabled: none",
        },
        threads: threads.len(),
        test: "cargo test -p pyflame-core --test synthetic_images",
    });
}

#[test]
fn python_314_default_build() {
    check_build("3.14", shape_314(), Some(true));
    check_build("3.14 (napper holds)", shape_314(), Some(false));
    check_build("3.14 (released)", shape_314(), None);
}

#[test]
fn python_313t_free_threaded() {
    check_build("3.13t (GIL disabled)", shape_313t(), None);
    check_build("3.13t (PYTHON_GIL=1)", shape_313t(), Some(true));
}

#[test]
fn python_314t_free_threaded_with_thread_local_bytecode() {
    check_build("3.14t (GIL disabled)", shape_314t(), None);
    check_build("3.14t (PYTHON_GIL=1)", shape_314t(), Some(false));
}

#[test]
fn python_315_default_build() {
    check_build("3.15", shape_315(), Some(true));
    check_build("3.15 (released)", shape_315(), None);
}

#[test]
fn python_315t_free_threaded_with_thread_local_bytecode() {
    check_build("3.15t (GIL disabled)", shape_315t(), None);
    check_build("3.15t (PYTHON_GIL=1)", shape_315t(), Some(true));
}

/// A 3.16 whose table reads like 3.15's is walked (the layout is a guess, said in a notice);
/// a 3.15 table labelled 3.14 is refused.
#[test]
fn newer_minor_with_a_315_table_is_walked_with_a_notice() {
    let mut image = build(shape_315(), Some(true));
    image.mem.write_u64(image.runtime + 8, 0x031000f0);
    let (target, threads) = walk(&image);
    assert_eq!(target.layout.version.to_string(), "3.16.0");
    let notice = target.layout.notice().expect("a notice for a guessed layout");
    assert!(notice.starts_with("Python 3.16.0 is newer than this pyflame-ts knows (newest: 3.15)"), "{notice}");
    assert_eq!(threads.len(), 3);
    let mut image = build(shape_315(), Some(true));
    image.mem.write_u64(image.runtime + 8, 0x030e0af0);
    assert!(PythonTarget::from_runtime_image(&image.mem, image.runtime, Some(CODE_TYPE), Some(STR_TYPE)).is_err(), "a 3.15 table read as 3.14");
}

#[test]
fn a_314_table_labelled_313_is_refused() {
    // The table layouts differ (3.14 inserted fields mid-group): read with the 3.13 layout the
    // offsets are shifted, and validation must refuse them instead of walking garbage.
    let mut image = build(shape_314(), Some(true));
    image.mem.write_u64(image.runtime + 8, 0x030d00f0);
    let result = PythonTarget::from_runtime_image(&image.mem, image.runtime, Some(CODE_TYPE), Some(STR_TYPE));
    assert!(result.is_err(), "a 3.14 table read as 3.13 was accepted");
}
