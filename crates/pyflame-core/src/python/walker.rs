//! One sample of a Python process: every interpreter, every thread state, every frame.
//!
//! The walker reads each thread state in one read, and on 3.11+ copies the thread's live
//! data-stack chunk in one read so most frames cost no syscall at all. Every pointer is
//! checked before it is followed; a stack that fails any check is reported as an error for
//! that thread, never as invented frames.

use super::code_cache::{CodeCache, CodeId};
use super::frame_cache::{FrameCache, FrameKey};
use super::layout::{FrameModel, GilModel, Layout};
use super::prefetch::{FirstReads, Prefetch};
use super::target::PythonTarget;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use std::collections::HashMap;

/// Deepest stack we accept; deeper means a cycle or garbage.
pub const MAX_DEPTH: usize = 4096;
/// Most threads per interpreter we accept.
pub const MAX_THREADS: usize = 4096;
/// Most interpreters we follow.
pub const MAX_INTERPRETERS: usize = 256;
/// Largest data-stack chunk we copy in one read.
const MAX_CHUNK_COPY: u64 = 1 << 20;
/// Most bytes of data-stack copies held at once for the threads of one interpreter.
const MAX_BATCHED_COPY: usize = 32 << 20;

/// One Python frame of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawFrame {
    pub code: CodeId,
    pub line: u32,
    /// The first frame its C evaluation call ran (the root-most of the frames one
    /// `_PyEval_EvalFrameDefault` call runs, 3.11+; every frame on ≤3.10). Native merging
    /// assigns frames to the eval-loop frames of the C stack by these boundaries.
    pub entry: bool,
}

/// One thread in one sample.
#[derive(Debug, Clone)]
pub struct ThreadSnapshot {
    /// Address of the `PyThreadState` (stable while the thread lives).
    pub tstate: u64,
    /// `threading.get_ident()`: the pthread_t.
    pub python_thread_id: u64,
    /// Kernel thread id as the target sees it, when known.
    pub native_tid: Option<i32>,
    pub interpreter_id: i64,
    pub holds_gil: bool,
    /// Range of this thread's frames in `Sample::frames`, root first.
    pub frames: std::ops::Range<usize>,
    /// Set when this thread's stack could not be read consistently.
    pub error: Option<ReadError>,
    /// 3.12+: range in `Sample::shims` of the addresses of this thread's C-stack shim frames,
    /// innermost first. Each lies inside the C frame of the eval call it started, which lets
    /// `--native` find eval-loop frames in binaries without symbols for them.
    pub shims: std::ops::Range<usize>,
}

/// One sample of a process.
#[derive(Debug, Default)]
pub struct Sample {
    pub threads: Vec<ThreadSnapshot>,
    pub frames: Vec<RawFrame>,
    pub shims: Vec<u64>,
    /// Some thread held the GIL (for the GIL-holder view); false means Pyflame's `(idle)`.
    pub gil_held: bool,
}

impl Sample {
    pub fn clear(&mut self) {
        self.threads.clear();
        self.frames.clear();
        self.shims.clear();
        self.gil_held = false;
    }

    pub fn frames_of(&self, thread: &ThreadSnapshot) -> &[RawFrame] {
        &self.frames[thread.frames.clone()]
    }
}

pub struct Walker {
    pub target: PythonTarget,
    pub codes: CodeCache,
    /// Frames decoded by earlier samples, reused while their frame, code and position agree.
    pub decoded: FrameCache,
    tick: u64,
    tstate_buf: Vec<u8>,
    frame_buf: Vec<u8>,
    chunk_buf: Vec<u8>,
    chunk_start: u64,
    /// Offsets in `chunk_buf` of the frames a walk took from the copy, to re-check them.
    chunk_frames: Vec<usize>,
    chunk_check: Vec<u8>,
    /// Interpreter → address of its `_gil_runtime_state` (3.12+), which never moves.
    gil_state: HashMap<u64, u64>,
    /// pthread_t → kernel tid (≤3.10, which has no `native_thread_id`).
    pthread_tids: HashMap<u64, i32>,
    pthread_tid_offset: Option<u64>,
    /// ≤3.10: pages of frame objects read during one walk.
    pages: PageWindow,
    /// Kernel tids of the target, refreshed by the sampler; used to map pthread_t → tid.
    pub known_tids: Vec<i32>,
    /// The previous sample's first reads, replayed in one batch at the start of the next.
    prefetch: Prefetch,
    /// Scratch for the code objects re-checked in a sample's first batch, and their headers.
    due_codes: Vec<u64>,
    due_headers: Vec<u8>,
    /// Per-thread buffers (by position in the thread list) and the threads of the interpreter
    /// being sampled, between the passes of `sample_interpreter`.
    pool: Vec<ThreadBuffers>,
    pending: Vec<PendingThread>,
    /// ≤3.10: the frames of the thread whose buffers are swapped in, walked before their check.
    stash: Vec<RawFrame>,
    /// Bytes of the data-stack copies taken so far for the interpreter being sampled.
    batched_copy_bytes: usize,
    /// Set by `sample_paused`: the target-namespace tids of the threads that are stopped.
    paused_tids: Option<Vec<i32>>,
    /// The thread being walked is one of `paused_tids`.
    target_paused: bool,
    /// The check reads of the thread whose buffers are swapped in (see `ThreadBuffers::again`).
    again: [[u8; 8]; 6],
    /// 3.12+: the shim frames met by the last walk (see `ThreadSnapshot::shims`).
    shims: Vec<u64>,
}

impl Walker {
    pub fn new(target: PythonTarget) -> Walker {
        let tstate_len = tstate_read_len(&target.layout);
        Walker {
            target,
            codes: CodeCache::default(),
            decoded: FrameCache::default(),
            tick: 0,
            tstate_buf: vec![0; tstate_len],
            frame_buf: Vec::new(),
            chunk_buf: Vec::new(),
            chunk_start: 0,
            chunk_frames: Vec::new(),
            chunk_check: Vec::new(),
            gil_state: HashMap::new(),
            pthread_tids: HashMap::new(),
            pthread_tid_offset: None,
            pages: PageWindow::default(),
            known_tids: Vec::new(),
            prefetch: Prefetch::default(),
            due_codes: Vec::new(),
            due_headers: Vec::new(),
            pool: Vec::new(),
            pending: Vec::new(),
            stash: Vec::new(),
            batched_copy_bytes: 0,
            paused_tids: None,
            target_paused: false,
            again: [[0; 8]; 6],
            shims: Vec::new(),
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.target.layout
    }

    /// `sample` for a target whose threads `stopped` (target-namespace tids, sorted) are
    /// stopped (blocking mode): every read of such a thread is of one moment, so states that
    /// only a running thread makes suspicious are accepted for it (a thread caught between
    /// naming its new frame and marking it executing). A thread not in `stopped` (it did not
    /// stop in time) is read with the checks for a running target.
    pub fn sample_paused(&mut self, mem: &dyn RemoteMemory, out: &mut Sample, stopped: Vec<i32>) -> ReadResult<()> {
        self.paused_tids = Some(stopped);
        let result = self.sample(mem, out);
        self.paused_tids = None;
        self.target_paused = false;
        result
    }

    /// Whether the thread with this kernel tid is stopped for this sample (unknown: no).
    fn is_paused(&self, tid: Option<i32>) -> bool {
        match (&self.paused_tids, tid) {
            (Some(stopped), Some(tid)) => stopped.binary_search(&tid).is_ok(),
            _ => false,
        }
    }

    /// Takes one sample into `out` (cleared first). Errors here mean the whole process could
    /// not be read (e.g. it exited); per-thread failures are in `ThreadSnapshot::error`.
    pub fn sample(&mut self, mem: &dyn RemoteMemory, out: &mut Sample) -> ReadResult<()> {
        self.sample_asking(mem, out, None)
    }

    /// Like `sample`, but between a thread's first reads and their check it asks `still`
    /// (with the thread's kernel tid, for threads not holding the GIL) whether the thread was
    /// off the CPU from before the sample began until now. A thread that was is read at one
    /// moment, as if paused: its first reads stand without the re-reads that check them
    /// (one `process_vm_readv` fewer when every thread is still).
    pub fn sample_asking(&mut self, mem: &dyn RemoteMemory, out: &mut Sample, still: Option<&mut dyn FnMut(i32) -> bool>) -> ReadResult<()> {
        out.clear();
        self.tick += 1;
        let mut prefetch = std::mem::take(&mut self.prefetch);
        // Code objects due for their re-check are read in the same batch (one syscall).
        let mut due = std::mem::take(&mut self.due_codes);
        let mut headers = std::mem::take(&mut self.due_headers);
        self.codes.take_due(self.tick, &mut due);
        let header_len = self.target.layout.offsets.code_size as usize;
        let result = prefetch.fetch_also(mem, &due, header_len, &mut headers).and_then(|rechecked| {
            for (&addr, header) in due.iter().zip(headers.chunks(header_len.max(1))).take(rechecked) {
                self.codes.recheck_read(&self.target.layout, self.target.code_type, addr, header, self.tick);
            }
            self.sample_with(&FirstReads::new(mem, &mut prefetch), mem, out, still)
        });
        for frame in &out.frames {
            self.codes.mark_used(frame.code, self.tick);
        }
        prefetch.finish();
        self.prefetch = prefetch;
        self.due_codes = due;
        self.due_headers = headers;
        result
    }

    /// `first` serves the reads that start a sample (batched); `mem` the re-reads that check
    /// them, which must see the target as it is now.
    fn sample_with(&mut self, first: &dyn RemoteMemory, mem: &dyn RemoteMemory, out: &mut Sample, mut still: Option<&mut dyn FnMut(i32) -> bool>) -> ReadResult<()> {
        let o = self.target.layout.offsets;
        let holder_global = match self.target.layout.gil_model {
            GilModel::InterpreterGil => None,
            _ => Some(match (self.target.tstate_current_ptr, self.target.tstate_current_confirm_ptr) {
                (Some(ptr), None) => first.read_u64(ptr)?,
                (Some(ptr), Some(confirm)) => {
                    let holder = first.read_u64(ptr)?;
                    if first.read_u64(confirm)? == holder {
                        holder
                    } else {
                        0
                    }
                }
                (None, _) => 0,
            }),
        };
        let mut interp = first.read_u64(self.target.interp_head_ptr)?;
        let mut interp_count = 0;
        while interp != 0 {
            interp_count += 1;
            if interp_count > MAX_INTERPRETERS {
                return Err(ReadError::Invalid("interpreter list cycle"));
            }
            let holder = match holder_global {
                Some(h) => h,
                None => self.interpreter_gil_holder(first, interp)?,
            };
            let fields = read_interpreter_fields(first, interp, &o)?;
            self.sample_interpreter(first, mem, interp, fields.id, fields.tstate_head, holder, out, &mut still)?;
            interp = fields.next;
        }
        out.gil_held = out.threads.iter().any(|t| t.holds_gil);
        Ok(())
    }

    /// Whether no thread holds the GIL now, from one small read; false when that cannot be
    /// told so cheaply (more than one interpreter seen, no known GIL state).
    pub fn gil_free_now(&self, mem: &dyn RemoteMemory) -> bool {
        match self.target.layout.gil_model {
            GilModel::InterpreterGil => {
                let Some(locked_off) = self.target.layout.offsets.gil_locked else { return false };
                let mut gils = self.gil_state.values();
                let (Some(&gil), None) = (gils.next(), gils.next()) else { return false };
                let mut locked = [0u8; 4];
                gil != 0 && mem.read(gil.wrapping_add(locked_off), &mut locked).is_ok() && u32::from_le_bytes(locked) == 0
            }
            _ => self.target.tstate_current_ptr.is_some_and(|ptr| mem.read_u64(ptr) == Ok(0)),
        }
    }

    /// 3.12+: the thread state holding this interpreter's GIL, or 0.
    fn interpreter_gil_holder(&mut self, mem: &dyn RemoteMemory, interp: u64) -> ReadResult<u64> {
        let o = &self.target.layout.offsets;
        let (Some(gil_ptr_off), Some(holder_off), Some(locked_off)) = (o.interp_ceval_gil, o.gil_last_holder, o.gil_locked) else {
            return Ok(0);
        };
        let gil = match self.gil_state.get(&interp) {
            Some(&g) => g,
            None => {
                let g = mem.read_u64(interp.wrapping_add(gil_ptr_off))?;
                self.gil_state.insert(interp, g);
                g
            }
        };
        if gil == 0 {
            return Ok(0);
        }
        // `last_holder` is not cleared on release: it counts only while `locked` is set.
        let lo = holder_off.min(locked_off);
        let len = (holder_off.max(locked_off) + 8 - lo) as usize;
        if len > 64 { return Err(ReadError::Invalid("GIL state fields more than 64 bytes apart")); } // fuzz finding: a corrupt or unknown debug-offsets table
        let mut buf = [0u8; 64];
        let buf = &mut buf[..len.min(64)];
        mem.read(gil.wrapping_add(lo), buf)?;
        let at = |off: u64, n: usize| {
            let s = (off - lo) as usize;
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&buf[s..s + n]);
            u64::from_le_bytes(v)
        };
        let locked = at(locked_off, 4) as u32 != 0;
        Ok(if locked { at(holder_off, 8) } else { 0 })
    }

    #[allow(clippy::too_many_arguments)]
    fn sample_interpreter(&mut self, first: &dyn RemoteMemory, mem: &dyn RemoteMemory, interp: u64, interp_id: i64, tstate_head: u64, holder: u64, out: &mut Sample, still: &mut Option<&mut dyn FnMut(i32) -> bool>) -> ReadResult<()> {
        // Three passes, so that the reads checking every thread's stack go in one batch
        // (one syscall for 16 threads instead of 16): first reads of each thread, the batched
        // re-reads, then each thread's verdict (and its retries, one by one).
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        self.batched_copy_bytes = 0;
        let result = self.first_reads(first, mem, interp, tstate_head, &mut pending).and_then(|()| {
            if let Some(still) = still.as_mut() {
                for thread in pending.iter_mut().filter(|t| t.error.is_none() && t.top.is_some() && t.tstate != holder) {
                    thread.still = thread.native_tid.is_some_and(|tid| still(tid));
                }
            }
            self.read_again_all(mem, &mut pending)
        });
        if result.is_ok() {
            for (slot, thread) in pending.iter_mut().enumerate() {
                self.swap_buffers(slot);
                let start = out.frames.len();
                self.shims.clear();
                let error = match thread.error.take() {
                    Some(e) => Some(e),
                    None => self.finish_thread(first, mem, thread, &mut out.frames).err(),
                };
                self.swap_buffers(slot);
                if error.is_some() {
                    out.frames.truncate(start);
                }
                out.frames[start..].reverse();
                let shims_start = out.shims.len();
                if error.is_none() {
                    out.shims.extend_from_slice(&self.shims);
                }
                out.threads.push(ThreadSnapshot {
                    tstate: thread.tstate,
                    python_thread_id: thread.python_thread_id,
                    native_tid: thread.native_tid,
                    interpreter_id: interp_id,
                    holds_gil: holder != 0 && holder == thread.tstate,
                    frames: start..out.frames.len(),
                    error,
                    shims: shims_start..out.shims.len(),
                });
            }
        }
        self.pending = pending;
        result
    }

    /// Pass 1: the thread list, each thread state, and each thread's first look at its stack
    /// (3.11+: the innermost frame and a copy of the data stack; ≤3.10: a whole walk, kept in
    /// the thread's buffers until its check).
    fn first_reads(&mut self, first: &dyn RemoteMemory, mem: &dyn RemoteMemory, interp: u64, tstate_head: u64, pending: &mut Vec<PendingThread>) -> ReadResult<()> {
        let o = self.target.layout.offsets;
        let mut tstate = tstate_head;
        while tstate != 0 {
            if pending.len() >= MAX_THREADS {
                return Err(ReadError::Invalid("thread list cycle"));
            }
            let slot = pending.len();
            if self.pool.len() <= slot {
                self.pool.push(ThreadBuffers { tstate_buf: vec![0; self.tstate_buf.len()], ..ThreadBuffers::default() });
            }
            self.swap_buffers(slot);
            let thread = self.first_reads_of(first, mem, interp, tstate);
            self.swap_buffers(slot);
            let Some(thread) = thread? else { break };
            tstate = word(&self.pool[slot].tstate_buf, o.tstate_next);
            pending.push(thread);
        }
        Ok(())
    }

    /// Pass 1 for one thread, whose buffers are swapped in. None: the thread ended while we
    /// walked the list (the rest of the list is gone too).
    fn first_reads_of(&mut self, first: &dyn RemoteMemory, mem: &dyn RemoteMemory, interp: u64, tstate: u64) -> ReadResult<Option<PendingThread>> {
        let layout = self.target.layout;
        let o = layout.offsets;
        if first.read(tstate, &mut self.tstate_buf).is_err() {
            return Ok(None);
        }
        if word(&self.tstate_buf, o.tstate_interp) != interp {
            return Err(ReadError::Invalid("thread state does not belong to its interpreter"));
        }
        let python_thread_id = word(&self.tstate_buf, o.tstate_thread_id);
        let native_tid = match o.tstate_native_thread_id {
            Some(off) => Some(word(&self.tstate_buf, off) as i32).filter(|t| *t > 0),
            None => self.tid_of_pthread(mem, python_thread_id),
        };
        let paused = self.is_paused(native_tid);
        self.target_paused = paused;
        let mut thread = PendingThread { tstate, python_thread_id, native_tid, paused, still: false, error: None, top: None, walked: None, checks: 0..0 };
        self.stash.clear();
        match layout.frame_model {
            FrameModel::FrameObjects => {
                // The pages holding the previous sample's frames come with the batched first
                // reads (a long-lived stack keeps its frame objects).
                let top = word(&self.tstate_buf, o.tstate_frame);
                thread.top = Some(top);
                let mut frames = std::mem::take(&mut self.stash);
                self.pages.clear();
                thread.walked = Some(self.walk_frame_objects(first, mem, top, &mut frames));
                self.stash = frames;
            }
            FrameModel::CFrame | FrameModel::CurrentFrame => match self.current_top(first) {
                Ok(top) => {
                    thread.top = top;
                    // Copies wait in their threads' buffers until pass 3: past a budget (a
                    // target with thousands of deep threads), a thread reads its frames one by one.
                    if top.is_some() && self.batched_copy_bytes < MAX_BATCHED_COPY {
                        self.copy_datastack(first);
                        self.batched_copy_bytes += self.chunk_buf.len();
                    } else {
                        self.chunk_start = 0;
                        self.chunk_buf.clear();
                    }
                }
                Err(e) => thread.error = Some(e),
            },
        }
        Ok(Some(thread))
    }

    /// Swaps slot `slot`'s buffers with the walker's working ones (the walk code uses those).
    fn swap_buffers(&mut self, slot: usize) {
        let bufs = &mut self.pool[slot];
        std::mem::swap(&mut self.tstate_buf, &mut bufs.tstate_buf);
        std::mem::swap(&mut self.chunk_buf, &mut bufs.chunk_buf);
        std::mem::swap(&mut self.chunk_check, &mut bufs.chunk_check);
        std::mem::swap(&mut self.chunk_start, &mut bufs.chunk_start);
        std::mem::swap(&mut self.stash, &mut bufs.stash);
        std::mem::swap(&mut self.again, &mut bufs.again);
    }

    /// Pass 2: every thread's re-reads in one batch. 3.11+: a sighting of the stack's extent
    /// (innermost frame, data-stack top), the second copy of the data stack, and another
    /// sighting; with the thread state read just before the first copy, each copy lies between
    /// two sightings, and all three must agree. ≤3.10: the top frame pointer, after the walk.
    fn read_again_all(&mut self, mem: &dyn RemoteMemory, pending: &mut [PendingThread]) -> ReadResult<()> {
        let o = self.target.layout.offsets;
        let through_cframe = match self.target.layout.frame_model {
            FrameModel::FrameObjects => None,
            model => Some(model == FrameModel::CFrame),
        };
        let mut parts: Vec<(u64, &mut [u8])> = Vec::with_capacity(7 * pending.len());
        for (thread, bufs) in pending.iter_mut().zip(self.pool.iter_mut()) {
            let begin = parts.len();
            if thread.error.is_none() && thread.top.is_some() && !thread.still {
                push_check_reads(&mut parts, &o, through_cframe, thread.tstate, bufs.into());
            }
            thread.checks = begin..parts.len();
        }
        let read = mem.read_many(&mut parts)?;
        drop(parts);
        for thread in pending.iter_mut() {
            // A thread whose re-reads were not all read checks itself again (it may have ended).
            if thread.checks.end > read {
                thread.checks = 0..0;
            }
        }
        Ok(())
    }

    /// Pass 3 for one thread, whose buffers are swapped in: accepts the first look at its stack
    /// if the re-reads agree with it, else reads again (twice at most). Pushes frames leaf first.
    fn finish_thread(&mut self, first: &dyn RemoteMemory, mem: &dyn RemoteMemory, thread: &PendingThread, frames: &mut Vec<RawFrame>) -> ReadResult<()> {
        let o = self.target.layout.offsets;
        let tstate = thread.tstate;
        let checked = !thread.checks.is_empty();
        self.target_paused = thread.paused;
        match self.target.layout.frame_model {
            FrameModel::FrameObjects => {
                // A return during the walk can leave a truncated chain that still ends in
                // NULL, or lead into freed frames: when the top frame moved while we walked, or
                // a frame was not live, read again.
                let start = frames.len();
                let (mut top, mut walked) = (thread.top.unwrap_or(0), thread.walked.unwrap_or(Ok(false)));
                let mut now = if thread.still {
                    top
                } else if checked {
                    u64::from_le_bytes(self.again[0])
                } else {
                    mem.read_u64(tstate.wrapping_add(o.tstate_frame))?
                };
                frames.extend_from_slice(&self.stash);
                for attempt in 0..3 {
                    if attempt > 0 {
                        frames.truncate(start);
                        // Read the top again and the pages the last walk used in one batch, so
                        // a retry is as quick as the first walk.
                        top = self.pages.refresh(mem, tstate.wrapping_add(o.tstate_frame))?;
                        walked = self.walk_frame_objects(mem, mem, top, frames);
                        now = mem.read_u64(tstate.wrapping_add(o.tstate_frame))?;
                    }
                    match walked {
                        Ok(true) if now == top => return Ok(()),
                        // Garbage met on a stack that did not move is a real error; on one
                        // that moved, it came from the change: read again.
                        Err(e) if now == top => return Err(e),
                        _ => {}
                    }
                }
                frames.truncate(start);
                Err(ReadError::Invalid("stack changed while it was read"))
            }
            FrameModel::CFrame | FrameModel::CurrentFrame => {
                let Some(top) = thread.top else { return Ok(()) };
                let sighted = if thread.still {
                    // Read at one moment: the first reads are their own check.
                    Some(Sighting { top, data_top: o.tstate_datastack_top.map(|off| word(&self.tstate_buf, off)) })
                } else if checked {
                    self.sighting(mem)?
                } else {
                    None
                };
                if self.accept_data_stack(first, mem, top, sighted, thread.still, frames)? {
                    return Ok(());
                }
                // The data stack is copied after the thread state was read: if the thread
                // pushed or popped frames in between, the copy can mix two stacks. Start again.
                for _ in 1..3 {
                    mem.read(tstate, &mut self.tstate_buf)?;
                    let Some(top) = self.current_top(mem)? else { return Ok(()) };
                    self.copy_datastack(mem);
                    let sighted = self.read_again(mem, tstate)?;
                    if self.accept_data_stack(mem, mem, top, sighted, false, frames)? {
                        return Ok(());
                    }
                }
                Err(ReadError::Invalid("stack changed while it was read"))
            }
        }
    }

    /// 3.11+: walks the first copy from `top` into `frames` and keeps it when the re-reads
    /// sighted the same innermost frame and data-stack top as the first reads, the two copies
    /// agree on every frame used and the frames tile the data stack (`one_moment`: the thread
    /// did not run while it was read, so there is no second copy). `outside` serves frames
    /// outside the copy. False: read again.
    fn accept_data_stack(&mut self, outside: &dyn RemoteMemory, mem: &dyn RemoteMemory, top: u64, sighted: Option<Sighting>, one_moment: bool, frames: &mut Vec<RawFrame>) -> ReadResult<bool> {
        let o = self.target.layout.offsets;
        let start = frames.len();
        self.chunk_frames.clear();
        let data_top = o.tstate_datastack_top.map(|off| word(&self.tstate_buf, off));
        let walked = self.walk_interpreter_frames(outside, mem, top, data_top, frames);
        let unmoved = sighted == Some(Sighting { top, data_top });
        match walked {
            Ok(true) if unmoved && (one_moment || self.chunk_frames_agree()) => Ok(true),
            // Garbage met in a copy of a stack that did not move is a real error; in one that
            // moved (a code pointer read mid-change), read again.
            Err(e) if unmoved => Err(e),
            _ => {
                frames.truncate(start);
                Ok(false)
            }
        }
    }

    /// One thread's re-reads on their own (retries): the same reads as in `read_again_all`.
    fn read_again(&mut self, mem: &dyn RemoteMemory, tstate: u64) -> ReadResult<Option<Sighting>> {
        let o = self.target.layout.offsets;
        let through_cframe = Some(self.target.layout.frame_model == FrameModel::CFrame);
        let bufs = CheckBuffers { tstate_buf: &self.tstate_buf, chunk_start: self.chunk_start, chunk_len: self.chunk_buf.len(), chunk_check: &mut self.chunk_check, again: &mut self.again };
        let mut parts: Vec<(u64, &mut [u8])> = Vec::with_capacity(7);
        push_check_reads(&mut parts, &o, through_cframe, tstate, bufs);
        let wanted = parts.len();
        let read = mem.read_many(&mut parts)?;
        drop(parts);
        if read != wanted {
            // The chunk was freed or the thread state went away: try again from the start.
            return Ok(None);
        }
        self.sighting(mem)
    }

    /// What the re-reads in `again` sighted on both sides of the second copy, for the thread
    /// whose buffers are swapped in; None when the two sightings differ (the stack moved).
    fn sighting(&self, mem: &dyn RemoteMemory) -> ReadResult<Option<Sighting>> {
        let o = self.target.layout.offsets;
        let words = &self.again;
        if words[..3] != words[3..] {
            return Ok(None);
        }
        let field_before = word(&self.tstate_buf, o.tstate_frame);
        let through_cframe = self.target.layout.frame_model == FrameModel::CFrame;
        let field = u64::from_le_bytes(words[0]);
        let top = if !through_cframe || field == 0 {
            field
        } else if field == field_before {
            // 3.11/3.12: the C frame normally stays where it was, so its `current_frame` was
            // read in the same batch.
            u64::from_le_bytes(words[1])
        } else {
            mem.read_u64(field.wrapping_add(o.cframe_current_frame.unwrap_or(0)))?
        };
        Ok((top != 0).then_some(Sighting { top, data_top: o.tstate_datastack_top.map(|_| u64::from_le_bytes(words[2])) }))
    }

    fn chunk_frames_agree(&self) -> bool {
        let o = &self.target.layout.offsets;
        self.chunk_frames.iter().all(|&off| {
            [o.frame_code, o.frame_back].iter().all(|&field| {
                let at = off + field as usize;
                self.chunk_buf.get(at..at + 8) == self.chunk_check.get(at..at + 8)
            })
        })
    }

    /// 3.11+: the innermost frame named by the thread state in `tstate_buf` (None: no frames).
    fn current_top(&self, mem: &dyn RemoteMemory) -> ReadResult<Option<u64>> {
        let o = &self.target.layout.offsets;
        let field = word(&self.tstate_buf, o.tstate_frame);
        if self.target.layout.frame_model == FrameModel::CurrentFrame {
            return Ok(Some(field).filter(|f| *f != 0));
        }
        // 3.11/3.12: the field is the `_PyCFrame` (on the C stack) holding `current_frame`.
        if field == 0 {
            return Ok(None);
        }
        Ok(Some(mem.read_u64(field.wrapping_add(o.cframe_current_frame.unwrap_or(0)))?).filter(|f| *f != 0))
    }

    /// ≤3.10: follows `f_back` from `top`; frame bytes come through `pages` (read with
    /// `frame_reader`), code objects through the cache (read with `mem`). Returns false when a
    /// frame on the way is not live: a chain read while the stack changes can run into frames
    /// that returned (zombie and free-list frames keep their old `f_back` and `f_code`).
    /// `pages` must hold only pages read for this walk (cleared, or just refreshed).
    fn walk_frame_objects(&mut self, frame_reader: &dyn RemoteMemory, mem: &dyn RemoteMemory, top: u64, frames: &mut Vec<RawFrame>) -> ReadResult<bool> {
        let layout = self.target.layout;
        let o = layout.offsets;
        self.frame_buf.resize(o.frame_size as usize, 0);
        let mut frame = top;
        let mut depth = 0;
        let mut frame_type = None;
        while frame != 0 {
            depth += 1;
            check_frame_step(frame, depth)?;
            self.pages.read(frame_reader, frame, &mut self.frame_buf)?;
            // A stopped thread may be caught between naming a frame its top and marking it
            // executing (or, returning, between the two in reverse): that top is its stack.
            let top_of_paused = depth == 1 && self.target_paused;
            if !frame_object_is_live(&self.frame_buf, &layout, &mut frame_type, top_of_paused) {
                return Ok(false);
            }
            let back = word(&self.frame_buf, o.frame_back);
            let code_addr = word(&self.frame_buf, o.frame_code);
            let lasti = i32::from_le_bytes(self.frame_buf[o.frame_lasti as usize..o.frame_lasti as usize + 4].try_into().unwrap()) as i64;
            if back == frame {
                return Err(ReadError::Invalid("frame points to itself"));
            }
            let key = FrameKey { frame, code: code_addr, position: lasti as u64 };
            let (code, line) = match self.decoded.get(&key, &self.codes, self.tick) {
                Some(known) => known,
                None => {
                    let code = self.codes.lookup(mem, &layout, self.target.code_type, self.target.str_type, code_addr, self.tick)?;
                    let offset = if lasti < 0 { -1 } else if layout.lasti_in_code_units { lasti * 2 } else { lasti };
                    let line = self.codes.get_mut(code).line_for(&layout, offset);
                    self.decoded.insert(key, code, line, &self.codes);
                    (code, line)
                }
            };
            frames.push(RawFrame { code, line, entry: true });
            frame = back;
        }
        Ok(true)
    }

    /// Copies the used part of the thread's current data-stack chunk (3.11+) in one read.
    fn copy_datastack(&mut self, mem: &dyn RemoteMemory) {
        let o = self.target.layout.offsets;
        self.chunk_buf.clear();
        self.chunk_start = 0;
        let (Some(chunk_off), Some(top_off)) = (o.tstate_datastack_chunk, o.tstate_datastack_top) else { return };
        let chunk = word(&self.tstate_buf, chunk_off);
        let top = word(&self.tstate_buf, top_off);
        if chunk == 0 || top <= chunk || top - chunk > MAX_CHUNK_COPY {
            return;
        }
        self.chunk_buf.resize((top - chunk) as usize, 0);
        if mem.read(chunk, &mut self.chunk_buf).is_ok() {
            self.chunk_start = chunk;
        } else {
            self.chunk_buf.clear();
        }
    }

    /// A frame's bytes: from the data-stack copy when it lies inside, else read through
    /// `outside` (the batched first reads on a first attempt: entry frames on the C stack and
    /// generator frames usually sit where they sat in the previous sample).
    fn frame_bytes(&mut self, outside: &dyn RemoteMemory, frame: u64, len: usize) -> ReadResult<&[u8]> {
        let start = self.chunk_start;
        if start != 0 && frame >= start && frame.checked_add(len as u64).is_some_and(|end| end <= start + self.chunk_buf.len() as u64) {
            let off = (frame - start) as usize;
            self.chunk_frames.push(off);
            return Ok(&self.chunk_buf[off..off + len]);
        }
        self.frame_buf.resize(len, 0);
        outside.read(frame, &mut self.frame_buf)?;
        Ok(&self.frame_buf)
    }

    /// 3.11+: follows `previous` from `top`. Returns false when the frames taken from the data
    /// stack copy do not tile it: CPython pushes each frame at `datastack_top`, right after its
    /// caller's `co_framesize` words (frames outside the chunk, of generators and C entry
    /// points, take no data-stack space), and the innermost one ends at `datastack_top`. A copy
    /// that mixes two moments of a changing stack breaks that chain of sizes.
    fn walk_interpreter_frames(&mut self, outside: &dyn RemoteMemory, mem: &dyn RemoteMemory, top: u64, data_top: Option<u64>, frames: &mut Vec<RawFrame>) -> ReadResult<bool> {
        let layout = self.target.layout;
        let o = layout.offsets;
        let len = o.frame_size as usize;
        let owner_off = o.frame_owner.map(|v| v as usize);
        let is_entry_off = o.frame_is_entry.map(|v| v as usize);
        let walk_start = frames.len();
        self.shims.clear();
        // The data-stack frame the previous step came from, which must start where this one ends.
        let mut callee = None;
        let mut tiled = true;
        let mut frame = top;
        let mut depth = 0;
        while frame != 0 {
            depth += 1;
            check_frame_step(frame, depth)?;
            let chunk_frames_before = self.chunk_frames.len();
            let bytes = self.frame_bytes(outside, frame, len)?;
            let previous = word(bytes, o.frame_back);
            let code_addr = word(bytes, o.frame_code) & !layout.executable_tag_mask;
            let instr = word(bytes, o.frame_lasti);
            let owner = owner_off.map_or(0, |off| bytes[off]);
            let is_entry = is_entry_off.is_some_and(|off| bytes[off] != 0);
            let tlbc_index = layout.tlbc.map_or(0, |t| {
                let off = t.frame_tlbc_index as usize;
                bytes.get(off..off + 4).map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap()))
            });
            let in_chunk = self.chunk_frames.len() > chunk_frames_before;
            if previous == frame {
                return Err(ReadError::Invalid("frame points to itself"));
            }
            let is_shim = layout.first_shim_owner.is_some_and(|first| owner >= first);
            if owner > 4 {
                return Err(ReadError::Invalid("frame owner"));
            }
            // 3.12+: a shim sits below the first frame of each C evaluation call.
            if is_shim {
                self.shims.push(frame);
            }
            if is_shim && frames.len() > walk_start {
                if let Some(last) = frames.last_mut() {
                    last.entry = true;
                }
            }
            let mut frame_bytes = 0;
            // A thread-local bytecode copy (3.14t) makes the line depend on more than the key.
            let key = FrameKey { frame, code: code_addr, position: instr };
            let cacheable = !is_shim && code_addr != 0 && tlbc_index <= 0;
            let known = if cacheable { self.decoded.get(&key, &self.codes, self.tick) } else { None };
            if let Some((code, line)) = known {
                frame_bytes = self.codes.get(code).frame_bytes;
                frames.push(RawFrame { code, line, entry: is_entry });
            } else if !is_shim && code_addr != 0 {
                let mut found = self.codes.lookup(mem, &layout, self.target.code_type, self.target.str_type, code_addr, self.tick);
                if let Ok(code) = found {
                    // An instruction pointer past the cached code's end means the cached entry
                    // describes a code object that was freed and its address reused: decode again.
                    let units = self.codes.code_units(code);
                    let start = code_addr.wrapping_add(o.code_code_adaptive.unwrap_or(0));
                    if layout.tlbc.is_none() && units > 0 && units < (1 << 24) && instr >= start && (instr - start) / 2 >= units {
                        self.codes.forget(code_addr);
                        found = self.codes.lookup(mem, &layout, self.target.code_type, self.target.str_type, code_addr, self.tick);
                    }
                }
                match found {
                    Ok(code) => {
                        let adaptive = code_addr.wrapping_add(o.code_code_adaptive.unwrap_or(0));
                        // 3.14t: a thread may run its own copy of the bytecode (index 0 is the shared one).
                        let base = match layout.tlbc {
                            Some(t) if tlbc_index > 0 => thread_local_bytecode(mem, code_addr.wrapping_add(t.code_tlbc), tlbc_index).unwrap_or(adaptive),
                            _ => adaptive,
                        };
                        // Index in 2-byte code units; before the first instruction means "not started".
                        let index = if instr >= base { ((instr - base) / 2) as i64 } else { -1 };
                        let info = self.codes.get_mut(code);
                        frame_bytes = info.frame_bytes;
                        let line = info.line_for(&layout, index);
                        if cacheable {
                            self.decoded.insert(key, code, line, &self.codes);
                        }
                        frames.push(RawFrame { code, line, entry: is_entry });
                    }
                    // 3.13+: `f_executable` may be a non-code object; skip such frames.
                    Err(ReadError::Invalid("not a code object")) if layout.frame_model == FrameModel::CurrentFrame => {}
                    Err(e) => return Err(e),
                }
            }
            if in_chunk {
                if frame_bytes > 0 {
                    let end = frame.wrapping_add(frame_bytes);
                    tiled &= if depth == 1 {
                        // A callee being pushed (not yet current) or popped (its locals being
                        // cleared) may sit above the innermost frame. Read while the target
                        // runs, refuse that moment: it is a common one, and an unwind and
                        // rewind that ends in it again would pass the other checks (the
                        // adversarial test found one). From a paused target, where the moment
                        // lasts and every read is of it, accept it.
                        data_top.is_none_or(|top| if self.target_paused { end <= top } else { end == top })
                    } else {
                        callee.is_none_or(|c| c == end)
                    };
                }
                callee = Some(frame);
            } else if depth == 1 {
                // An innermost frame outside the chunk (a generator's) says nothing of its end.
                callee = None;
            }
            frame = previous;
        }
        // The root-most frame was started by a C call whatever the version.
        if frames.len() > walk_start {
            if let Some(last) = frames.last_mut() {
                last.entry = true;
            }
        }
        Ok(tiled)
    }

    /// ≤3.10: the kernel tid of a thread from its pthread_t, by finding where glibc keeps
    /// the tid inside `struct pthread` (learned once per process from known tids).
    fn tid_of_pthread(&mut self, mem: &dyn RemoteMemory, pthread: u64) -> Option<i32> {
        if pthread == 0 {
            return None;
        }
        if let Some(&tid) = self.pthread_tids.get(&pthread) {
            if self.known_tids.binary_search(&tid).is_ok() {
                return Some(tid);
            }
            self.pthread_tids.remove(&pthread);
        }
        let tid = match self.pthread_tid_offset {
            Some(off) => mem.read_u32(pthread.wrapping_add(off)).ok().map(|v| v as i32).filter(|t| self.known_tids.binary_search(t).is_ok()),
            None => {
                let region = mem.read_vec(pthread, 2048).ok()?;
                let candidates: Vec<u64> = (0..region.len() / 4)
                    .map(|i| i * 4)
                    .filter(|&i| {
                        let v = i32::from_le_bytes(region[i..i + 4].try_into().unwrap());
                        v > 0 && self.known_tids.binary_search(&v).is_ok()
                    })
                    .map(|i| i as u64)
                    .collect();
                // glibc 2.x on x86_64 keeps it at 0x2d0; prefer that when it matches.
                let off = if candidates.contains(&0x2d0) { Some(0x2d0) } else { candidates.first().copied() };
                off.map(|off| {
                    self.pthread_tid_offset = Some(off);
                    i32::from_le_bytes(region[off as usize..off as usize + 4].try_into().unwrap())
                })
            }
        }?;
        self.pthread_tids.insert(pthread, tid);
        Some(tid)
    }
}

/// 3.14t: `co_tlbc->entries[index]`, the start of a thread-local bytecode copy.
fn thread_local_bytecode(mem: &dyn RemoteMemory, co_tlbc_field: u64, index: i32) -> Option<u64> {
    let array = mem.read_u64(co_tlbc_field).ok().filter(|a| *a != 0 && a % 8 == 0)?;
    let size = mem.read_u64(array).ok()?;
    if index as u64 >= size || size > 1 << 20 {
        return None;
    }
    mem.read_u64(array.wrapping_add(8 + 8 * index as u64)).ok().filter(|p| *p != 0)
}

/// Bytes of a thread state to read: enough for every field the walker uses.
fn tstate_read_len(layout: &Layout) -> usize {
    let o = &layout.offsets;
    let fields = [
        Some(o.tstate_next),
        Some(o.tstate_interp),
        Some(o.tstate_frame),
        Some(o.tstate_thread_id),
        o.tstate_native_thread_id,
        o.tstate_datastack_chunk,
        o.tstate_datastack_top,
        o.tstate_status,
    ];
    (fields.iter().flatten().max().copied().unwrap_or(0) + 8) as usize
}

/// A little-endian u64 at `off`, 0 when out of range.
fn word(buf: &[u8], off: u64) -> u64 {
    let off = off as usize;
    buf.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
}

/// Whole pages read during one ≤3.10 stack walk. Frame objects of one stack usually sit in the
/// same few pymalloc pools, so reading the 4 KiB page around a frame serves the next frames
/// too: a 50-frame walk takes a handful of reads instead of 50 (a 4 KiB read costs about 1.5×
/// a 100-byte one). Each page is one consistent snapshot of the frames on it.
#[derive(Default)]
struct PageWindow {
    /// (page address, bytes) for up to `PAGE_SLOTS` pages, most recent last.
    slots: Vec<(u64, Box<[u8]>)>,
}

const PAGE: u64 = 4096;
const PAGE_SLOTS: usize = 8;

impl PageWindow {
    fn clear(&mut self) {
        self.slots.clear();
    }

    /// Reads the word at `top_field` (the thread's top frame pointer), then every page held,
    /// in one batch; pages that could not be read are dropped. Returns the top frame pointer.
    fn refresh(&mut self, mem: &dyn RemoteMemory, top_field: u64) -> ReadResult<u64> {
        let mut top = [0u8; 8];
        let mut parts: Vec<(u64, &mut [u8])> = Vec::with_capacity(1 + self.slots.len());
        parts.push((top_field, &mut top));
        parts.extend(self.slots.iter_mut().map(|(page, bytes)| (*page, &mut bytes[..])));
        let read = mem.read_many(&mut parts)?;
        drop(parts);
        if read == 0 {
            return Err(ReadError::Unmapped(top_field));
        }
        self.slots.truncate(read - 1);
        Ok(u64::from_le_bytes(top))
    }

    /// Fills `buf` with the bytes at `addr`, from a cached page when the range lies in one.
    fn read(&mut self, mem: &dyn RemoteMemory, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        let page = addr & !(PAGE - 1);
        let offset = (addr - page) as usize;
        if offset + buf.len() > PAGE as usize {
            return mem.read(addr, buf);
        }
        if let Some((_, bytes)) = self.slots.iter().find(|(start, _)| *start == page) {
            buf.copy_from_slice(&bytes[offset..offset + buf.len()]);
            return Ok(());
        }
        let mut bytes = if self.slots.len() >= PAGE_SLOTS { self.slots.remove(0).1 } else { vec![0u8; PAGE as usize].into_boxed_slice() };
        if mem.read(page, &mut bytes).is_err() {
            // A synthetic image (or an odd mapping) may not cover the whole page.
            return mem.read(addr, buf);
        }
        buf.copy_from_slice(&bytes[offset..offset + buf.len()]);
        self.slots.push((page, bytes));
        Ok(())
    }
}

/// One thread between the passes of `Walker::sample_interpreter`.
struct PendingThread {
    tstate: u64,
    python_thread_id: u64,
    native_tid: Option<i32>,
    /// The thread is stopped for this sample (blocking mode).
    paused: bool,
    /// The thread did not run during its first reads (`sample_asking`): no re-reads.
    still: bool,
    /// The first reads already failed.
    error: Option<ReadError>,
    /// The innermost frame the first reads named (3.11+: None means no frames; ≤3.10: the
    /// `frame` field the first walk started from).
    top: Option<u64>,
    /// ≤3.10: how the first walk went (its frames wait in the thread's `stash`).
    walked: Option<ReadResult<bool>>,
    /// This thread's re-reads in the batch (empty: not read; the thread reads them itself).
    checks: std::ops::Range<usize>,
}

/// A thread's buffers, kept between samples so a sample allocates nothing.
#[derive(Default)]
struct ThreadBuffers {
    tstate_buf: Vec<u8>,
    chunk_buf: Vec<u8>,
    chunk_check: Vec<u8>,
    chunk_start: u64,
    /// ≤3.10: the first walk's frames, until its check.
    stash: Vec<RawFrame>,
    /// The re-read words, sighted before and after the second copy: the thread state's frame
    /// field, `cframe->current_frame`, `datastack_top`.
    again: [[u8; 8]; 6],
}

/// What `push_check_reads` needs of one thread's buffers (a pool slot, or the walker's own).
struct CheckBuffers<'a> {
    tstate_buf: &'a [u8],
    chunk_start: u64,
    chunk_len: usize,
    chunk_check: &'a mut Vec<u8>,
    again: &'a mut [[u8; 8]; 6],
}

/// Pushes one thread's check reads. `through_cframe`: None for ≤3.10 (the top frame pointer
/// only), else whether the innermost frame is behind the 3.11/3.12 C frame. 3.11+: a sighting
/// of the stack's extent (the frame field, `cframe->current_frame`, `datastack_top`) into
/// `again[..3]`, the second copy of the data stack, and another sighting into `again[3..]`.
fn push_check_reads<'a>(parts: &mut Vec<(u64, &'a mut [u8])>, o: &super::offsets::VersionOffsets, through_cframe: Option<bool>, tstate: u64, bufs: CheckBuffers<'a>) {
    let field_addr = tstate.wrapping_add(o.tstate_frame);
    let Some(through_cframe) = through_cframe else {
        parts.push((field_addr, &mut bufs.again[0]));
        return;
    };
    let field_before = word(bufs.tstate_buf, o.tstate_frame);
    let cframe = (through_cframe && field_before != 0).then(|| field_before.wrapping_add(o.cframe_current_frame.unwrap_or(0)));
    let data_top = o.tstate_datastack_top.map(|off| tstate.wrapping_add(off));
    let [f0, c0, d0, f1, c1, d1] = bufs.again;
    bufs.chunk_check.resize(bufs.chunk_len, 0);
    let sight = |parts: &mut Vec<(u64, &'a mut [u8])>, field: &'a mut [u8; 8], current: &'a mut [u8; 8], top: &'a mut [u8; 8]| {
        parts.push((field_addr, field));
        parts.extend(cframe.map(|addr| (addr, &mut current[..])));
        parts.extend(data_top.map(|addr| (addr, &mut top[..])));
    };
    sight(parts, f0, c0, d0);
    if bufs.chunk_start != 0 {
        parts.push((bufs.chunk_start, &mut bufs.chunk_check[..]));
    }
    sight(parts, f1, c1, d1);
}

impl<'a> From<&'a mut ThreadBuffers> for CheckBuffers<'a> {
    fn from(b: &'a mut ThreadBuffers) -> Self {
        CheckBuffers { tstate_buf: &b.tstate_buf, chunk_start: b.chunk_start, chunk_len: b.chunk_buf.len(), chunk_check: &mut b.chunk_check, again: &mut b.again }
    }
}

/// The innermost frame and `datastack_top` (3.11+) a thread's check reads sighted, the same on
/// both sides of the second copy of its data stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sighting {
    top: u64,
    data_top: Option<u64>,
}

/// The interpreter fields read every sample.
struct InterpreterFields {
    next: u64,
    id: i64,
    tstate_head: u64,
}

/// Reads `next`, `id` and the thread list head of an interpreter, in one read when they are
/// close together (they are within 100 bytes on every version), else field by field.
fn read_interpreter_fields(mem: &dyn RemoteMemory, interp: u64, o: &super::offsets::VersionOffsets) -> ReadResult<InterpreterFields> {
    let offsets = [Some(o.interp_next), o.interp_id, Some(o.interp_tstate_head)];
    let low = offsets.iter().flatten().min().copied().unwrap_or(0);
    let high = offsets.iter().flatten().max().copied().unwrap_or(0) + 8;
    let span = (high - low) as usize;
    let mut buf = [0u8; 256];
    if span <= buf.len() {
        let buf = &mut buf[..span];
        mem.read(interp.wrapping_add(low), buf)?;
        let at = |off: u64| word(buf, off - low);
        return Ok(InterpreterFields {
            next: at(o.interp_next),
            id: o.interp_id.map_or(0, |off| at(off) as i64),
            tstate_head: at(o.interp_tstate_head),
        });
    }
    Ok(InterpreterFields {
        next: mem.read_u64(interp.wrapping_add(o.interp_next))?,
        id: match o.interp_id {
            Some(off) => mem.read_u64(interp.wrapping_add(off)).unwrap_or(0) as i64,
            None => 0,
        },
        tstate_head: mem.read_u64(interp.wrapping_add(o.interp_tstate_head))?,
    })
}


/// ≤3.10: whether the `PyFrameObject` in `bytes` is part of a running stack: referenced
/// (a freed frame has a zero count), of the same type as the other frames of the chain, and
/// running (3.6–3.9 `f_executing`; 3.10 `f_state` from EXECUTING to RAISED: a tracer's return
/// event runs while its frame is already RETURNED, and a returned frame that is no longer
/// referenced fails the count). `top_of_paused`: the innermost frame of a stopped thread,
/// whose executing mark is not checked: CPython names the new frame in the thread state
/// before it sets the mark, and clears the mark before it names the caller again, so a thread
/// stopped in between has a live top frame that is not marked. (Read from a running thread,
/// such a frame is refused: it may be a returned frame seen before the thread state moved.)
fn frame_object_is_live(bytes: &[u8], layout: &Layout, frame_type: &mut Option<u64>, top_of_paused: bool) -> bool {
    let o = &layout.offsets;
    if word(bytes, 0) as i64 <= 0 {
        return false;
    }
    let ty = word(bytes, o.object_type);
    if *frame_type.get_or_insert(ty) != ty {
        return false;
    }
    if top_of_paused {
        return true;
    }
    let Some(state) = o.frame_executing.and_then(|off| bytes.get(off as usize)).map(|b| *b as i8) else {
        return true;
    };
    const FRAME_EXECUTING: i8 = 0;
    const FRAME_RAISED: i8 = 3;
    if layout.version.minor >= 10 {
        (FRAME_EXECUTING..=FRAME_RAISED).contains(&state)
    } else {
        state != 0
    }
}

/// The checks every step of a frame walk makes: bounded depth (a cycle or garbage otherwise)
/// and an aligned frame pointer.
fn check_frame_step(frame: u64, depth: usize) -> ReadResult<()> {
    if depth > MAX_DEPTH {
        return Err(ReadError::Invalid("stack too deep (cycle?)"));
    }
    if frame % 8 != 0 {
        return Err(ReadError::Invalid("frame pointer"));
    }
    Ok(())
}
