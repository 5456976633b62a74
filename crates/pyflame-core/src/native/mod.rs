//! `--native`: each sampled thread's C/C++/Rust stack, unwound from outside while the target
//! is paused, merged with its Python stack.
//!
//! Per sample, inside the pause (blocking mode's `ProcessLock`): the registers of each Python
//! thread (`registers`) and a copy of its stack, unwound with framehop (`unwind`). After the
//! threads run again: addresses are labelled from the binaries' symbol tables (`image`,
//! `symbols`, cached per file and per address) and merged with the Python frames (`merge`).

pub mod image;
pub mod merge;
pub mod registers;
pub mod symbols;
pub mod unwind;

use crate::process::memory::RemoteMemory;
use crate::profile::Frame;
use crate::python::{PythonTarget, Sample};
use merge::{MergedFrame, NativeKind};
use std::collections::HashMap;
use std::ops::Range;
use unwind::{StackUnwinder, UnwindFailure};

/// The frame a thread's stack gets when its native stack could not be unwound.
pub const UNWIND_FAILED: &str = "(native unwind failed)";

/// Native frames by label, interned for the life of a recording (ids stay stable when
/// libraries come and go).
#[derive(Default)]
pub struct NativeFrames {
    frames: Vec<Frame>,
    kinds: Vec<NativeKind>,
    by_label: HashMap<(String, String), u32>,
}

impl NativeFrames {
    fn intern(&mut self, filename: String, name: String, kind: NativeKind) -> u32 {
        let key = (filename, name);
        if let Some(&id) = self.by_label.get(&key) {
            return id;
        }
        let id = self.frames.len() as u32;
        self.frames.push(Frame { name: key.1.clone(), filename: key.0.clone(), line: 0, first_line: 0, native: true });
        self.kinds.push(kind);
        self.by_label.insert(key, id);
        id
    }

    pub fn get(&self, id: u32) -> &Frame {
        &self.frames[id as usize]
    }
}

/// One thread's capture in the current sample.
type Capture = Result<Range<usize>, UnwindFailure>;

pub struct NativeSampler {
    unwinder: StackUnwinder,
    pub frames: NativeFrames,
    /// Address → frame id, for the current module generation.
    labels: HashMap<u64, u32>,
    labels_generation: u64,
    eval_name: &'static str,
    /// Captures by position in `Sample::threads`.
    captures: Vec<Capture>,
    /// (lookup address, stack pointer) of each captured frame, innermost first per thread.
    addresses: Vec<(u64, u64)>,
    kinds: Vec<(u32, NativeKind)>,
    merged: Vec<MergedFrame>,
    per_thread: Vec<Range<usize>>,
    failed_frame: u32,
    /// Threads whose native stack could not be had, since the start.
    pub failures: u64,
}

impl NativeSampler {
    pub fn new(target: &PythonTarget) -> NativeSampler {
        let runtime_names = [&target.executable, &target.runtime_binary].iter().filter(|p| !p.is_empty()).map(|p| image::file_name_of(p)).collect();
        let mut frames = NativeFrames::default();
        let failed_frame = frames.intern(String::new(), UNWIND_FAILED.to_string(), NativeKind::Other);
        NativeSampler {
            unwinder: StackUnwinder::new(target.pid, runtime_names),
            frames,
            labels: HashMap::new(),
            labels_generation: 0,
            eval_name: if target.layout.version.major == 2 { "PyEval_EvalFrameEx" } else { "_PyEval_EvalFrameDefault" },
            captures: Vec::new(),
            addresses: Vec::new(),
            kinds: Vec::new(),
            merged: Vec::new(),
            per_thread: Vec::new(),
            failed_frame,
            failures: 0,
        }
    }

    /// While the target is paused: copies and unwinds the native stack of every thread of
    /// `sample`. `host_tid` maps a tid as the target sees it to ours.
    pub fn capture(&mut self, mem: &dyn RemoteMemory, sample: &Sample, host_tid: &dyn Fn(i32) -> i32) {
        self.captures.clear();
        self.addresses.clear();
        for thread in &sample.threads {
            let capture = match thread.native_tid {
                Some(tid) if thread.error.is_none() => {
                    let start = self.addresses.len();
                    self.unwinder.unwind_stopped(mem, host_tid(tid), &mut self.addresses).map(|()| start..self.addresses.len())
                }
                _ => Err(UnwindFailure::Registers),
            };
            self.captures.push(capture);
        }
    }

    /// After the target runs again: labels the captured addresses and merges each thread's
    /// stacks. Returns how many threads failed.
    pub fn merge(&mut self, sample: &Sample) -> u64 {
        if self.labels_generation != self.unwinder.generation {
            self.labels.clear();
            self.labels_generation = self.unwinder.generation;
        }
        self.merged.clear();
        self.per_thread.clear();
        let mut failed = 0;
        for (i, thread) in sample.threads.iter().enumerate() {
            let start = self.merged.len();
            let python = sample.frames_of(thread);
            let mut ok = false;
            if let Some(Ok(range)) = self.captures.get(i).cloned() {
                self.kinds.clear();
                // Unwound innermost first; merged root first.
                let shims = &sample.shims[thread.shims.clone()];
                for index in range.clone().rev() {
                    let (address, sp) = self.addresses[index];
                    let id = self.label(address);
                    let mut kind = self.frames.kinds[id as usize];
                    // 3.12+: a frame whose stack frame holds a shim frame is an eval call, even
                    // in a binary whose symbols do not name it (stripped, or a hot/cold split).
                    let caller_sp = if index + 1 < range.end { self.addresses[index + 1].1 } else { u64::MAX };
                    if matches!(kind, NativeKind::Runtime { .. }) && shims.iter().any(|&s| s >= sp && s < caller_sp) {
                        kind = NativeKind::Eval;
                    }
                    self.kinds.push((id, kind));
                }
                ok = merge::merge(&self.kinds, python, &mut self.merged);
            }
            if !ok && thread.error.is_none() {
                failed += 1;
                self.merged.truncate(start);
                self.merged.extend(python.iter().map(|f| MergedFrame::Python(*f)));
                self.merged.push(MergedFrame::Native(self.failed_frame));
            }
            self.per_thread.push(start..self.merged.len());
        }
        self.failures += failed;
        self.unwinder.refresh_if_stale();
        failed
    }

    /// The merged stack of thread `index` of the last merged sample, root first.
    pub fn thread_frames(&self, index: usize) -> &[MergedFrame] {
        self.per_thread.get(index).map_or(&[], |r| &self.merged[r.clone()])
    }

    fn label(&mut self, address: u64) -> u32 {
        if let Some(&id) = self.labels.get(&address) {
            return id;
        }
        let id = match self.unwinder.module_of(address) {
            Some(module) => {
                let svma = address.wrapping_sub(module.bias);
                let symbol = module.image.as_ref().and_then(|i| i.symbols.lookup(svma));
                let kind = match symbol {
                    Some(name) if name.starts_with(self.eval_name) => NativeKind::Eval,
                    Some(name) if module.runtime => NativeKind::Runtime { plumbing: is_call_plumbing(name) },
                    // Unnamed code of a stripped interpreter (Debian's builtin hashes, zlib
                    // bindings): kept above the innermost eval frame, dropped elsewhere.
                    None if module.runtime => NativeKind::Runtime { plumbing: false },
                    _ => NativeKind::Other,
                };
                let name = match symbol {
                    Some(raw) => symbols::demangle(raw),
                    None => format!("+0x{svma:x}"),
                };
                let filename = module.name.clone();
                self.frames.intern(filename, name, kind)
            }
            None => self.frames.intern(String::new(), format!("0x{address:x}"), NativeKind::Other),
        };
        self.labels.insert(address, id);
        id
    }
}

/// Functions of the interpreter that only pass a call along (or start the interpreter):
/// noise between a Python frame and the C code it calls. Everything else of the interpreter
/// (`builtin_sorted`, `list_sort_impl`, `zlib_compress_impl`, `take_gil`...) does work and stays.
fn is_call_plumbing(name: &str) -> bool {
    const PREFIXES: [&str; 16] = [
        "_Py",
        "Py",
        "cfunction_",
        "method_vectorcall",
        "vectorcall_",
        "call_function",
        "function_code_fastcall",
        "fast_function",
        "function_call",
        "do_call_core",
        "slot_tp_",
        "object_vacall",
        "call_trampoline",
        "ext_do_call",
        "pymain_",
        "run_",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || matches!(name, "main" | "_start" | "__libc_start_main" | "__libc_start_call_main" | "start_thread" | "clone" | "clone3" | "thread_run" | "pythread_wrapper")
}
