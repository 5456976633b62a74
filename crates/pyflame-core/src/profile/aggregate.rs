//! Folding samples into interned tables as they arrive.

use super::{Entry, Frame, Profile, ProcessSummary, Thread, TimelineSample};
use crate::native::merge::MergedFrame;
use crate::native::NativeSampler;
use crate::python::walker::{RawFrame, Sample, Walker};
// FxHash: keys are small integers and interned ids, SipHash's DoS resistance buys nothing here.
use rustc_hash::FxHashMap as HashMap;

/// Key of an interned frame before its strings are copied: which walker (process), that
/// walker's code-cache generation, the code id and the line.
type FrameKey = (u32, u64, u32, u32);
type EntryKey = (u32, u32, bool, bool);

#[derive(Default)]
pub struct Aggregator {
    frame_ids: HashMap<FrameKey, u32>,
    /// Frames by content, so equal frames from different processes share an id.
    frame_by_content: HashMap<Frame, u32>,
    frames: Vec<Frame>,
    stack_ids: HashMap<Box<[u32]>, u32>,
    stacks: Vec<Box<[u32]>>,
    thread_ids: HashMap<(i32, u64, u64), u32>,
    threads: Vec<Thread>,
    counts: HashMap<EntryKey, u64>,
    timeline: Option<Vec<TimelineSample>>,
    stack_buf: Vec<u32>,
}

/// Per-thread facts the sampler adds to a walker's snapshot.
pub struct ThreadExtras<'a> {
    /// Kernel says the thread was not running (state other than R).
    pub idle: &'a [bool],
    /// The thread's name, asked for only when a thread is first seen.
    pub name_of: &'a dyn Fn(usize) -> Option<String>,
}

impl Aggregator {
    pub fn new(timeline: bool) -> Aggregator {
        Aggregator { timeline: timeline.then(Vec::new), ..Default::default() }
    }

    /// Adds one process's sample. `walker_index` identifies the process's walker; `native`,
    /// with `--native`, holds the sample's merged native+Python stacks.
    pub fn add(&mut self, walker_index: u32, pid: i32, walker: &Walker, sample: &Sample, native: Option<&NativeSampler>, extras: &ThreadExtras, time_us: u64) {
        for (i, thread) in sample.threads.iter().enumerate() {
            if thread.error.is_some() {
                continue;
            }
            self.stack_buf.clear();
            match native {
                Some(native) => {
                    for frame in native.thread_frames(i) {
                        let id = match frame {
                            MergedFrame::Python(raw) => self.python_frame(walker_index, walker, raw),
                            MergedFrame::Native(id) => self.native_frame(walker_index, native, *id),
                        };
                        self.stack_buf.push(id);
                    }
                }
                None => {
                    for raw in sample.frames_of(thread) {
                        let id = self.python_frame(walker_index, walker, raw);
                        self.stack_buf.push(id);
                    }
                }
            }
            let stack = match self.stack_ids.get(self.stack_buf.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = self.stacks.len() as u32;
                    let boxed: Box<[u32]> = self.stack_buf.clone().into_boxed_slice();
                    self.stacks.push(boxed.clone());
                    self.stack_ids.insert(boxed, id);
                    id
                }
            };
            let thread_key = (pid, thread.tstate, thread.python_thread_id);
            let thread_index = match self.thread_ids.get(&thread_key) {
                Some(&t) => t,
                None => {
                    let t = self.threads.len() as u32;
                    self.threads.push(Thread {
                        pid,
                        tid: thread.native_tid.unwrap_or(0),
                        python_thread_id: thread.python_thread_id,
                        interpreter_id: thread.interpreter_id,
                        name: (extras.name_of)(i),
                    });
                    self.thread_ids.insert(thread_key, t);
                    t
                }
            };
            let idle = extras.idle.get(i).copied().unwrap_or(false) && !thread.holds_gil;
            *self.counts.entry((stack, thread_index, thread.holds_gil, idle)).or_insert(0) += 1;
            if let Some(timeline) = &mut self.timeline {
                timeline.push(TimelineSample { time_us, thread: thread_index, stack, gil: thread.holds_gil, idle });
            }
        }
    }

    fn python_frame(&mut self, walker_index: u32, walker: &Walker, raw: &RawFrame) -> u32 {
        let key = (walker_index, walker.codes.generation, raw.code, raw.line);
        if let Some(&id) = self.frame_ids.get(&key) {
            return id;
        }
        let code = walker.codes.get(raw.code);
        let frame = Frame { name: code.name.clone(), filename: code.filename.clone(), line: raw.line, first_line: code.first_line, native: false };
        self.intern(key, frame)
    }

    /// Native frame ids are the process's own (stable for its recording): keyed apart from
    /// code ids by a generation no code cache reaches.
    fn native_frame(&mut self, walker_index: u32, native: &NativeSampler, id: u32) -> u32 {
        let key = (walker_index, u64::MAX, id, 0);
        if let Some(&id) = self.frame_ids.get(&key) {
            return id;
        }
        self.intern(key, native.frames.get(id).clone())
    }

    fn intern(&mut self, key: FrameKey, frame: Frame) -> u32 {
        let next = self.frames.len() as u32;
        let id = *self.frame_by_content.entry(frame.clone()).or_insert(next);
        if id == next {
            self.frames.push(frame);
        }
        self.frame_ids.insert(key, id);
        id
    }

    pub fn distinct_stacks(&self) -> usize {
        self.stacks.len()
    }

    /// Builds the final profile. Process summaries and the top-level fields come from the sampler.
    pub fn finish(self, mut header: Profile, processes: Vec<ProcessSummary>) -> Profile {
        header.entries = sorted_entries(self.counts.into_iter());
        header.frames = self.frames;
        header.stacks = self.stacks.into_iter().map(|s| s.into_vec()).collect();
        header.threads = self.threads;
        header.processes = processes;
        header.timeline = self.timeline;
        header
    }

    /// A profile of the counts gathered since the last drain, with every table interned so
    /// far, then resets the counts (the tables are kept so ids stay stable across drains).
    pub fn drain(&mut self, mut header: Profile, processes: Vec<ProcessSummary>) -> Profile {
        header.entries = sorted_entries(self.counts.drain());
        header.frames = self.frames.clone();
        header.stacks = self.stacks.iter().map(|s| s.to_vec()).collect();
        header.threads = self.threads.clone();
        header.processes = processes;
        header.timeline = self.timeline.as_mut().map(std::mem::take);
        header
    }
}

/// Entries in a deterministic order: most samples first, then by ids.
fn sorted_entries(counts: impl Iterator<Item = (EntryKey, u64)>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = counts.map(|((stack, thread, gil, idle), count)| Entry { stack, thread, count, gil, idle }).collect();
    entries.sort_by(|a, b| b.count.cmp(&a.count).then(a.stack.cmp(&b.stack)).then(a.thread.cmp(&b.thread)).then(a.gil.cmp(&b.gil)));
    entries
}
