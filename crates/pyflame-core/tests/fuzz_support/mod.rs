//! Shared by the fuzz tests: a seeded generator, a memory that counts what is asked of it,
//! and a builder of small, valid Python memory images for any built-in layout, which the
//! tests then corrupt.

#![allow(dead_code)]

use pyflame_core::process::memory::{ImageMemory, ReadResult, RemoteMemory};
use pyflame_core::process::Maps;
use pyflame_core::python::layout::{FrameModel, GilModel, Layout};
use pyflame_core::python::strings::StringFormat;
use pyflame_core::python::PythonTarget;
use std::cell::Cell;

/// xorshift64*: small, seeded, reproducible (the seed is printed on failure).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Values that break naive code: zero, all ones, sign bits, huge lengths, near-overflow.
    pub fn edge_value(&mut self) -> u64 {
        const EDGES: [u64; 12] = [0, 1, u64::MAX, u64::MAX - 7, 1 << 63, (1 << 63) - 1, 0xffff_ffff, 0x8000_0000, 1 << 40, 4097, 65537, 0xdead_beef];
        EDGES[self.below(EDGES.len() as u64) as usize]
    }
}

/// Wraps a memory and records how much was asked of it: the number of reads (an unbounded
/// loop shows as a huge count) and the largest single read (a huge allocation shows here).
pub struct CountingMemory<'a> {
    pub inner: &'a dyn RemoteMemory,
    pub reads: Cell<u64>,
    pub largest_read: Cell<usize>,
}

impl<'a> CountingMemory<'a> {
    pub fn new(inner: &'a dyn RemoteMemory) -> Self {
        CountingMemory { inner, reads: Cell::new(0), largest_read: Cell::new(0) }
    }
}

impl RemoteMemory for CountingMemory<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        self.reads.set(self.reads.get() + 1);
        self.largest_read.set(self.largest_read.get().max(buf.len()));
        self.inner.read(addr, buf)
    }
}

pub const CODE_TYPE: u64 = 0x1000;
pub const STR_TYPE: u64 = 0x1100;
/// `ob_type` of the synthetic ≤3.10 frame objects (all frames of a chain share one type).
pub const FRAME_TYPE: u64 = 0x1200;
pub const HEAP: u64 = 0x10_0000;
pub const HEAP_LEN: usize = 64 << 10;

/// A flat heap plus the addresses of the fields worth corrupting.
#[derive(Clone)]
pub struct Image {
    pub heap: Vec<u8>,
    next: u64,
    /// Pointer fields (lists, frame chains, names): set to other heap addresses to make cycles.
    pub pointer_slots: Vec<u64>,
    /// Length and index fields: set to edge values.
    pub value_slots: Vec<u64>,
    pub interp_head_ptr: u64,
    pub tstate_current_ptr: Option<u64>,
}

impl Image {
    fn new() -> Image {
        Image { heap: vec![0; HEAP_LEN], next: HEAP + 0x100, pointer_slots: Vec::new(), value_slots: Vec::new(), interp_head_ptr: HEAP, tstate_current_ptr: None }
    }

    fn alloc(&mut self, len: u64) -> u64 {
        let addr = self.next;
        self.next += (len.max(8) + 15) & !15;
        assert!(self.next < HEAP + HEAP_LEN as u64, "image heap too small");
        addr
    }

    pub fn put(&mut self, addr: u64, bytes: &[u8]) {
        let off = (addr - HEAP) as usize;
        self.heap[off..off + bytes.len()].copy_from_slice(bytes);
    }

    pub fn put_u64(&mut self, addr: u64, v: u64) {
        self.put(addr, &v.to_le_bytes());
    }

    fn pointer(&mut self, addr: u64, v: u64) {
        self.put_u64(addr, v);
        self.pointer_slots.push(addr);
    }

    fn value(&mut self, addr: u64, bytes: &[u8]) {
        self.put(addr, bytes);
        self.value_slots.push(addr);
    }

    /// A heap address chosen at random (8-aligned), to point somewhere that exists.
    pub fn random_heap_addr(&self, rng: &mut Rng) -> u64 {
        HEAP + rng.below(HEAP_LEN as u64 / 8) * 8
    }

    /// The image as readable memory, with the type objects the target checks against.
    pub fn memory(&self) -> ImageMemory {
        let mut mem = ImageMemory::new();
        mem.alloc(CODE_TYPE, 0x100);
        mem.alloc(STR_TYPE, 0x100);
        mem.write(HEAP, &self.heap);
        mem
    }
}

/// A function of the known program: (name, file, first line, line at the sampled offset).
pub const FUNCTIONS: [(&str, &str, u32); 4] = [("<module>", "/app/main.py", 1), ("main", "/app/main.py", 10), ("worker", "/app/naïve.py", 20), ("spin_睡眠", "/app/naïve.py", 30)];

fn str_object(img: &mut Image, layout: &Layout, text: &str) -> u64 {
    let o = layout.offsets;
    let chars: Vec<u32> = text.chars().map(|c| c as u32).collect();
    let max = chars.iter().copied().max().unwrap_or(0);
    let (data_at, kind, bytes): (u64, u32, Vec<u8>) = match layout.string_format {
        StringFormat::Bytes27 => (o.unicode_ascii_data, 1, text.as_bytes().to_vec()),
        _ if max < 128 => (o.unicode_ascii_data, 1, text.as_bytes().to_vec()),
        _ => {
            let kind = if max < 256 { 1 } else if max < 65536 { 2 } else { 4 };
            let bytes = chars.iter().flat_map(|c| c.to_le_bytes()[..kind as usize].to_vec()).collect();
            (o.unicode_compact_data.unwrap(), kind, bytes)
        }
    };
    let addr = img.alloc(data_at + bytes.len() as u64 + 8 + 256);
    img.put_u64(addr + o.object_type, STR_TYPE);
    let length = if layout.string_format == StringFormat::Bytes27 { bytes.len() } else { chars.len() } as u64;
    img.value(addr + o.unicode_length, &length.to_le_bytes());
    if let Some(state_at) = o.unicode_state {
        let ascii = max < 128;
        let bits = (kind << 2) | 0x20 | if ascii { 0x40 } else { 0 };
        let state = if layout.string_format == StringFormat::Pep393InternedByte { (bits >> 2) << 8 } else { bits };
        img.value(addr + state_at, &state.to_le_bytes());
    }
    img.put(addr + data_at, &bytes);
    addr
}

/// Line table placing offset 0 at `first_line` and everything after at `first_line + 1`.
fn line_table(layout: &Layout) -> Vec<u8> {
    use pyflame_core::python::linetable::LineTableFormat::*;
    match layout.line_format {
        Lnotab27 | Lnotab36 => vec![2, 1, 250, 0],
        Linetable310 => vec![2, 0, 254, 1],
        Locations311 => vec![0x80 | (13 << 3), 0, 0x80 | (13 << 3) | 7, 2, 0x80 | (13 << 3) | 7, 0],
    }
}

fn code_object(img: &mut Image, layout: &Layout, (name, file, first_line): (&str, &str, u32)) -> u64 {
    let o = layout.offsets;
    let addr = img.alloc(o.code_size.max(o.code_code_adaptive.unwrap_or(0) + 64));
    img.put_u64(addr + o.object_type, CODE_TYPE);
    let name_addr = str_object(img, layout, name);
    let file_addr = str_object(img, layout, file);
    let table = line_table(layout);
    let bytes_addr = img.alloc(o.bytes_data + table.len() as u64 + 8);
    img.value(bytes_addr + o.bytes_size, &(table.len() as u64).to_le_bytes());
    img.put(bytes_addr + o.bytes_data, &table);
    img.pointer(addr + o.code_name, name_addr);
    if let Some(q) = o.code_qualname {
        img.pointer(addr + q, name_addr);
    }
    img.pointer(addr + o.code_filename, file_addr);
    img.pointer(addr + o.code_linetable, bytes_addr);
    img.value(addr + o.code_firstlineno, &first_line.to_le_bytes());
    // 3.11+: one local and a value stack of two, so a frame takes FRAME_SPECIALS + 3 words.
    if let (Some(stack), Some(locals)) = (o.code_stacksize, o.code_nlocalsplus) {
        img.value(addr + stack, &2i32.to_le_bytes());
        img.value(addr + locals, &1i32.to_le_bytes());
    }
    addr
}

/// A process with one interpreter and `threads` threads, each running all of `FUNCTIONS`
/// (root first), in the frame model of `layout`. Returns the image and a target over it.
pub fn build_image(layout: Layout, threads: usize) -> (Image, PythonTarget) {
    let o = layout.offsets;
    let mut img = Image::new();
    let codes: Vec<u64> = FUNCTIONS.iter().map(|f| code_object(&mut img, &layout, *f)).collect();
    let interp_len = [o.interp_next, o.interp_tstate_head, o.interp_id.unwrap_or(0), o.interp_ceval_gil.unwrap_or(0)].into_iter().max().unwrap() + 16;
    let interp = img.alloc(interp_len);
    img.pointer(img.interp_head_ptr, interp);
    let tstate_len = o.tstate_size.max(o.tstate_datastack_top.unwrap_or(0) + 8).max(o.tstate_frame + 8);
    let mut previous_tstate = None;
    let mut first_tstate = 0;
    for t in 0..threads {
        let ts = img.alloc(tstate_len);
        match previous_tstate {
            None => {
                img.pointer(interp + o.interp_tstate_head, ts);
                first_tstate = ts;
            }
            Some(prev) => img.pointer(prev + o.tstate_next, ts),
        }
        previous_tstate = Some(ts);
        img.put_u64(ts + o.tstate_interp, interp);
        img.put_u64(ts + o.tstate_thread_id, 0x7f00_0000_1000 + t as u64);
        if let Some(n) = o.tstate_native_thread_id {
            img.put_u64(ts + n, 1000 + t as u64);
        }
        // 3.11+: frames are `co_framesize` apart on the data stack (see `code_object`).
        let frame_len = o.frame_specials_size.map_or((o.frame_size.max(o.frame_owner.unwrap_or(0) + 8) + 7) & !7, |specials| specials + 24);
        let mut back = 0u64;
        let mut frames = Vec::new();
        // 3.11+: frames live in a data-stack chunk the walker copies in one read.
        let chunk = if layout.frame_model == FrameModel::FrameObjects { 0 } else { img.alloc(16 + frame_len * 5 + 64) };
        for (i, code) in codes.iter().enumerate() {
            let frame = if chunk != 0 { chunk + 16 + frame_len * i as u64 } else { img.alloc(frame_len) };
            if layout.frame_model == FrameModel::FrameObjects {
                // A live frame object: referenced, of the frame type, executing.
                img.put_u64(frame, 1);
                img.put_u64(frame + o.object_type, FRAME_TYPE);
                if let Some(executing) = o.frame_executing {
                    img.put(frame + executing, &[if layout.version.minor >= 10 { 0 } else { 1 }]);
                }
            }
            img.pointer(frame + o.frame_back, back);
            img.pointer(frame + o.frame_code, *code | if layout.executable_tag_mask != 0 { 1 } else { 0 });
            match layout.frame_model {
                FrameModel::FrameObjects => img.value(frame + o.frame_lasti, &4i32.to_le_bytes()),
                _ => {
                    // prev_instr / instr_ptr: two code units into the code's bytecode.
                    let bytecode = code + o.code_code_adaptive.unwrap_or(0);
                    img.pointer(frame + o.frame_lasti, bytecode + 4);
                }
            }
            frames.push(frame);
            back = frame;
        }
        let top = *frames.last().unwrap();
        if chunk != 0 {
            if let (Some(c), Some(tp)) = (o.tstate_datastack_chunk, o.tstate_datastack_top) {
                img.pointer(ts + c, chunk);
                img.pointer(ts + tp, top + frame_len);
            }
        }
        match layout.frame_model {
            FrameModel::CFrame => {
                let cframe = img.alloc(o.cframe_current_frame.unwrap_or(0) + 16);
                img.pointer(cframe + o.cframe_current_frame.unwrap_or(0), top);
                img.pointer(ts + o.tstate_frame, cframe);
            }
            _ => img.pointer(ts + o.tstate_frame, top),
        }
    }
    // The first thread holds the GIL.
    match layout.gil_model {
        GilModel::InterpreterGil => {
            let (Some(gil_ptr), Some(holder), Some(locked)) = (o.interp_ceval_gil, o.gil_last_holder, o.gil_locked) else { panic!("3.12+ GIL offsets") };
            let gil = img.alloc(holder.max(locked) + 16);
            img.pointer(interp + gil_ptr, gil);
            img.pointer(gil + holder, first_tstate);
            img.value(gil + locked, &1u32.to_le_bytes());
        }
        _ => {
            let cur = img.alloc(16);
            img.pointer(cur, first_tstate);
            img.tstate_current_ptr = Some(cur);
        }
    }
    let target = PythonTarget {
        pid: 0,
        layout,
        executable: String::new(),
        runtime_binary: String::new(),
        runtime_addr: None,
        interp_head_ptr: img.interp_head_ptr,
        tstate_current_ptr: img.tstate_current_ptr,
        tstate_current_confirm_ptr: None,
        code_type: Some(CODE_TYPE),
        str_type: Some(STR_TYPE),
        version_source: "fuzz image",
        interp_source: "fuzz image",
        maps: Maps::default(),
    };
    (img, target)
}
