//! Folding samples into interned tables as they arrive.

use super::{Entry, Frame, Profile, ProcessSummary, Thread, TimelineSample};
use crate::python::walker::{Sample, Walker};
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
    /// Per thread, the `names_generation` its name was taken at.
    named_at: Vec<u64>,
    counts: HashMap<EntryKey, u64>,
    timeline: Option<Vec<TimelineSample>>,
    stack_buf: Vec<u32>,
}

/// Per-thread facts the sampler adds to a walker's snapshot.
pub struct ThreadExtras<'a> {
    /// Kernel says the thread was not running (state other than R).
    pub idle: &'a [bool],
    /// The thread's name, asked for when a thread is first seen and when `names_generation`
    /// changed since it was last asked.
    pub name_of: &'a dyn Fn(usize) -> Option<String>,
    /// Changes when the names `name_of` gives may have changed (Python's names were read again).
    pub names_generation: u64,
}

impl Aggregator {
    pub fn new(timeline: bool) -> Aggregator {
        Aggregator { timeline: timeline.then(Vec::new), ..Default::default() }
    }

    /// Adds one process's sample. `walker_index` identifies the process's walker.
    pub fn add(&mut self, walker_index: u32, pid: i32, walker: &Walker, sample: &Sample, extras: &ThreadExtras, time_us: u64) {
        for (i, thread) in sample.threads.iter().enumerate() {
            if thread.error.is_some() {
                continue;
            }
            self.stack_buf.clear();
            for raw in sample.frames_of(thread) {
                let key = (walker_index, walker.codes.generation, raw.code, raw.line);
                let id = match self.frame_ids.get(&key) {
                    Some(&id) => id,
                    None => {
                        let code = walker.codes.get(raw.code);
                        let frame = Frame { name: code.name.clone(), filename: code.filename.clone(), line: raw.line, first_line: code.first_line };
                        let next = self.frames.len() as u32;
                        let id = *self.frame_by_content.entry(frame.clone()).or_insert(next);
                        if id == next {
                            self.frames.push(frame);
                        }
                        self.frame_ids.insert(key, id);
                        id
                    }
                };
                self.stack_buf.push(id);
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
                Some(&t) => {
                    if self.named_at[t as usize] != extras.names_generation {
                        self.named_at[t as usize] = extras.names_generation;
                        if let Some(name) = (extras.name_of)(i) {
                            self.threads[t as usize].name = Some(name);
                        }
                    }
                    t
                }
                None => {
                    let t = self.threads.len() as u32;
                    self.threads.push(Thread {
                        pid,
                        tid: thread.native_tid.unwrap_or(0),
                        python_thread_id: thread.python_thread_id,
                        interpreter_id: thread.interpreter_id,
                        name: (extras.name_of)(i),
                    });
                    self.named_at.push(extras.names_generation);
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
