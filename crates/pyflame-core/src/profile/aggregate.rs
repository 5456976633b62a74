//! Folding samples into interned tables as they arrive.

use super::{Entry, Frame, Profile, ProcessSummary, Thread, TimelineSample};
use crate::python::asyncio::logical::StackItem;
use crate::native::merge::MergedFrame;
use crate::native::NativeSampler;
use crate::python::walker::{RawFrame, Sample, Walker};
// FxHash: keys are small integers and interned ids, SipHash's DoS resistance buys nothing here.
use rustc_hash::FxHashMap as HashMap;

/// Key of an interned frame before its strings are copied: which walker (process), that
/// walker's code-cache generation, the code id and the line.
type FrameKey = (u32, u64, u32, u32);
/// (stack, thread, holds the GIL, idle): what one thread of one sample counts under.
pub type EntryKey = (u32, u32, bool, bool);

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
    /// What the last `add` counted, for `repeat`.
    last_counted: Vec<EntryKey>,
    /// Without a GIL: the CPU time each entry stands for, in samples (`add_cpu`).
    cpu: HashMap<EntryKey, f64>,
    /// Samples of the last `add` that wait for a CPU weight: (thread's position, key).
    to_weigh: Vec<(usize, EntryKey)>,
}

/// The file name of the frames that head a task's part of an async stack; writers label
/// such a frame by the task's name alone.
pub const TASK_FILENAME: &str = "<task>";

/// One sample's async view (`record --async`): per thread (by position), the logical stack of
/// the task it runs, if any; and the stacks of waiting tasks (`--async-wall`).
#[derive(Debug, Default)]
pub struct AsyncStacks {
    pub running: Vec<ThreadAsync>,
    pub waiting: Vec<(Option<usize>, Vec<StackItem>)>,
}

/// What one thread of a sample counts as under `record --async`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadAsync {
    /// No task running: the thread's own stack.
    Plain,
    /// The logical stack of the task it runs, root first.
    Task(Vec<StackItem>),
    /// The task and the stack disagreed (read while the loop switched tasks): not counted.
    Torn,
}

/// Per-thread facts the sampler adds to a walker's snapshot.
pub struct ThreadExtras<'a> {
    /// Kernel says the thread was not running (state other than R), or without a GIL that it
    /// was not on a CPU.
    pub idle: &'a [bool],
    /// Without a GIL: the thread was on a CPU; the sampler gives the sample a CPU weight later
    /// (`sampler/on_cpu.rs`; see `take_to_weigh`).
    pub weigh: &'a [bool],
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

    /// Adds one process's sample. `walker_index` identifies the process's walker; `native`,
    /// with `--native`, holds the sample's merged native+Python stacks.
    pub fn add(&mut self, walker_index: u32, pid: i32, walker: &Walker, sample: &Sample, native: Option<&NativeSampler>, extras: &ThreadExtras, time_us: u64) {
        self.add_with(walker_index, pid, walker, sample, native, extras, time_us, None);
    }

    /// Adds one process's sample as `record --async` sees it: a thread running an asyncio task
    /// counts under its logical stack (`logical[i]`, root first) instead of its own, and each
    /// waiting task (`--async-wall`) counts once under the thread whose list holds it, as idle.
    pub fn add_async(&mut self, walker_index: u32, pid: i32, walker: &Walker, sample: &Sample, extras: &ThreadExtras, time_us: u64, logical: &AsyncStacks) {
        self.add_with(walker_index, pid, walker, sample, None, extras, time_us, Some(logical));
    }

    #[allow(clippy::too_many_arguments)]
    fn add_with(&mut self, walker_index: u32, pid: i32, walker: &Walker, sample: &Sample, native: Option<&NativeSampler>, extras: &ThreadExtras, time_us: u64, logical: Option<&AsyncStacks>) {
        self.last_counted.clear();
        self.to_weigh.clear();
        for (i, thread) in sample.threads.iter().enumerate() {
            if thread.error.is_some() {
                continue;
            }
            self.stack_buf.clear();
            match (logical.and_then(|l| l.running.get(i)), native) {
                (Some(ThreadAsync::Torn), _) => continue,
                (Some(ThreadAsync::Task(items)), _) => self.push_items(walker_index, walker, items),
                (_, Some(native)) => {
                    for frame in native.thread_frames(i) {
                        let id = match frame {
                            MergedFrame::Python(raw) => self.python_frame(walker_index, walker, raw),
                            MergedFrame::Native(id) => self.native_frame(walker_index, native, *id),
                        };
                        self.stack_buf.push(id);
                    }
                }
                _ => {
                    for raw in sample.frames_of(thread) {
                        let id = self.python_frame(walker_index, walker, raw);
                        self.stack_buf.push(id);
                    }
                }
            }
            let stack = self.intern_stack();
            let thread_index = self.thread_index(pid, sample, i, extras);
            let idle = extras.idle.get(i).copied().unwrap_or(false) && !thread.holds_gil;
            self.count(stack, thread_index, thread.holds_gil, idle, time_us);
            if extras.weigh.get(i).copied().unwrap_or(false) {
                self.to_weigh.push((i, (stack, thread_index, thread.holds_gil, idle)));
            }
        }
        let Some(logical) = logical else { return };
        for (thread, items) in &logical.waiting {
            let i = thread.filter(|&t| t < sample.threads.len()).unwrap_or(0);
            if sample.threads.is_empty() {
                break;
            }
            self.stack_buf.clear();
            self.push_items(walker_index, walker, items);
            let stack = self.intern_stack();
            let thread_index = self.thread_index(pid, sample, i, extras);
            self.count(stack, thread_index, false, true, time_us);
        }
    }

    fn push_items(&mut self, walker_index: u32, walker: &Walker, items: &[StackItem]) {
        for item in items {
            let id = match item {
                StackItem::Frame(raw) => self.python_frame(walker_index, walker, raw),
                StackItem::Task(name) => self.content_frame(Frame { name: name.clone(), filename: TASK_FILENAME.to_string(), line: 0, first_line: 0, native: false }),
            };
            self.stack_buf.push(id);
        }
    }

    fn content_frame(&mut self, frame: Frame) -> u32 {
        if let Some(&id) = self.frame_by_content.get(&frame) {
            return id;
        }
        let id = self.frames.len() as u32;
        self.frames.push(frame.clone());
        self.frame_by_content.insert(frame, id);
        id
    }

    /// The id of the stack with no frames: a thread whose stack was not read (the agent's
    /// unread idle ticks, `sampler/quiet.rs`).
    pub fn unread_stack(&mut self) -> u32 {
        self.stack_buf.clear();
        self.intern_stack()
    }

    fn intern_stack(&mut self) -> u32 {
        match self.stack_ids.get(self.stack_buf.as_slice()) {
            Some(&id) => id,
            None => {
                let id = self.stacks.len() as u32;
                let boxed: Box<[u32]> = self.stack_buf.clone().into_boxed_slice();
                self.stacks.push(boxed.clone());
                self.stack_ids.insert(boxed, id);
                id
            }
        }
    }

    fn thread_index(&mut self, pid: i32, sample: &Sample, i: usize, extras: &ThreadExtras) -> u32 {
        let thread = &sample.threads[i];
        let thread_key = (pid, thread.tstate, thread.python_thread_id);
        match self.thread_ids.get(&thread_key) {
            Some(&t) => {
                // Python's names were read again: a renamed thread shows its latest name.
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
        }
    }

    /// What the last `add` counted (ids stay valid across drains).
    pub fn last_counted(&self) -> &[EntryKey] {
        &self.last_counted
    }

    /// Counts a sample equal to an earlier one again, from what that one counted.
    pub fn repeat(&mut self, counted: &[EntryKey], time_us: u64) {
        self.last_counted.clear();
        for &(stack, thread, gil, idle) in counted {
            self.count(stack, thread, gil, idle, time_us);
        }
    }

    /// The samples of the last `add` that wait for a CPU weight, by thread position.
    pub fn take_to_weigh(&mut self) -> std::vec::Drain<'_, (usize, EntryKey)> {
        self.to_weigh.drain(..)
    }

    /// Adds CPU time, in samples, to an entry counted earlier.
    pub fn add_cpu(&mut self, key: EntryKey, samples: f64) {
        *self.cpu.entry(key).or_insert(0.0) += samples;
    }

    fn count(&mut self, stack: u32, thread: u32, gil: bool, idle: bool, time_us: u64) {
        self.last_counted.push((stack, thread, gil, idle));
        *self.counts.entry((stack, thread, gil, idle)).or_insert(0) += 1;
        if let Some(timeline) = &mut self.timeline {
            timeline.push(TimelineSample { time_us, thread, stack, gil, idle });
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
        let cpu = whole_samples(self.cpu);
        header.entries = sorted_entries(self.counts.into_iter(), &cpu);
        header.frames = self.frames;
        header.stacks = self.stacks.into_iter().map(|s| s.into_vec()).collect();
        header.threads = self.threads;
        header.processes = processes;
        header.timeline = self.timeline;
        header
    }

    /// The counts gathered since the last call, with only the frames, stacks and threads they
    /// use, and starts again with empty tables: a long recording's memory stays one window's,
    /// and a window carries no tables of processes long gone. Ids restart, so what was kept
    /// from an earlier `add` (`last_counted`) no longer applies.
    pub fn take_window(&mut self, header: Profile, processes: Vec<ProcessSummary>) -> Profile {
        let fresh = Aggregator::new(self.timeline.is_some());
        std::mem::replace(self, fresh).finish(header, processes)
    }

    /// A profile of the counts gathered since the last drain, with every table interned so
    /// far, then resets the counts (the tables are kept so ids stay stable across drains).
    pub fn drain(&mut self, mut header: Profile, processes: Vec<ProcessSummary>) -> Profile {
        let cpu = whole_samples(std::mem::take(&mut self.cpu));
        header.entries = sorted_entries(self.counts.drain(), &cpu);
        header.frames = self.frames.clone();
        header.stacks = self.stacks.iter().map(|s| s.to_vec()).collect();
        header.threads = self.threads.clone();
        header.processes = processes;
        header.timeline = self.timeline.as_mut().map(std::mem::take);
        header
    }
}

/// CPU weights rounded to whole samples, each thread's total kept (its sum rounded): largest
/// remainders first, ties by key so the result does not depend on hash order.
fn whole_samples(cpu: HashMap<EntryKey, f64>) -> HashMap<EntryKey, u64> {
    let mut by_thread: HashMap<u32, Vec<(EntryKey, f64)>> = HashMap::default();
    for (key, samples) in cpu {
        by_thread.entry(key.1).or_default().push((key, samples.max(0.0)));
    }
    let mut out = HashMap::default();
    for (_, mut weights) in by_thread {
        let total = weights.iter().map(|(_, w)| w).sum::<f64>().round() as u64;
        let floor: u64 = weights.iter().map(|(_, w)| w.floor() as u64).sum();
        weights.sort_by(|a, b| (b.1 - b.1.floor()).total_cmp(&(a.1 - a.1.floor())).then(a.0.cmp(&b.0)));
        let mut extra = total.saturating_sub(floor);
        for (key, w) in weights {
            let mut n = w.floor() as u64;
            if extra > 0 {
                n += 1;
                extra -= 1;
            }
            // Kept at 0 too: such an entry's samples stand for no CPU time (the default view
            // leaves them out) rather than for one sample each.
            out.insert(key, n);
        }
    }
    out
}

/// Entries in a deterministic order: most samples first, then by ids.
fn sorted_entries(counts: impl Iterator<Item = (EntryKey, u64)>, cpu: &HashMap<EntryKey, u64>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = counts
        .map(|(key, count)| {
            let (stack, thread, gil, idle) = key;
            Entry { stack, thread, count, gil, idle, cpu_count: cpu.get(&key).copied() }
        })
        .collect();
    entries.sort_by(|a, b| b.count.cmp(&a.count).then(a.stack.cmp(&b.stack)).then(a.thread.cmp(&b.thread)).then(a.gil.cmp(&b.gil)));
    entries
}
