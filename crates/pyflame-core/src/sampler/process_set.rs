//! The processes being recorded: the root target and, with `--subprocesses`, every Python
//! descendant found while recording. Each has its own walker, thread-state files and
//! (in blocking mode) its own ptrace lock.

use super::{RecordOptions, RecordStats};
use crate::error::{Error, ErrorCode, Result};
use crate::process::lock::ProcessLock;
use crate::process::memory::{ProcessMemory, ReadError};
use crate::process::tasks::{self, TaskStat};
use crate::profile::aggregate::ThreadExtras;
use crate::profile::{Aggregator, Profile, ProcessSummary};
use crate::python::{PythonTarget, Sample, Walker};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the thread list of each process is re-read.
const TASK_REFRESH: Duration = Duration::from_millis(200);
/// The agent's: its windows last seconds, and each re-read costs a directory listing.
const FLEET_TASK_REFRESH: Duration = Duration::from_secs(1);
/// How often `--subprocesses` looks for new children.
const CHILD_REFRESH: Duration = Duration::from_millis(250);

struct Tracked {
    pid: i32,
    index: u32,
    walker: Walker,
    mem: ProcessMemory,
    lock: Option<ProcessLock>,
    stats: HashMap<i32, TaskStat>,
    /// Thread names (`comm`), read when the thread list is refreshed, not per sample.
    names: HashMap<i32, String>,
    /// Per-sample scratch, kept to avoid allocating on every tick.
    idle_buf: Vec<bool>,
    host_tids: Vec<Option<i32>>,
    states_before: HashMap<i32, u8>,
    /// Target-namespace tid → host tid, when the target lives in another PID namespace.
    ns_to_host: HashMap<i32, i32>,
    /// Host tid → tid in the target's namespace, read once per thread (it never changes).
    ns_tids: HashMap<i32, i32>,
    tasks_read_at: Option<std::time::Instant>,
    task_refresh: Duration,
    summary: ProcessSummary,
    alive: bool,
}

impl Tracked {
    fn new(pid: i32, index: u32, options: &RecordOptions) -> Result<Tracked> {
        let target = PythonTarget::discover(pid, &options.discover)?;
        let lock = if options.blocking { Some(ProcessLock::seize(pid)?) } else { None };
        let summary = ProcessSummary {
            pid,
            python_version: target.layout.version.to_string(),
            executable: target.executable.clone(),
            ticks: 0,
            gil_idle_ticks: 0,
            errors: 0,
        };
        let mut tracked = Tracked {
            pid,
            index,
            walker: Walker::new(target),
            mem: ProcessMemory::new(pid),
            lock,
            stats: HashMap::new(),
            names: HashMap::new(),
            idle_buf: Vec::new(),
            host_tids: Vec::new(),
            states_before: HashMap::new(),
            ns_to_host: HashMap::new(),
            ns_tids: HashMap::new(),
            tasks_read_at: None,
            task_refresh: TASK_REFRESH,
            summary,
            alive: true,
        };
        tracked.refresh_tasks();
        Ok(tracked)
    }

    fn refresh_tasks(&mut self) {
        let Ok(tids) = tasks::list_tasks(self.pid) else { return };
        self.stats.retain(|tid, _| tids.binary_search(tid).is_ok());
        self.names.retain(|tid, _| tids.binary_search(tid).is_ok());
        self.ns_tids.retain(|tid, _| tids.binary_search(tid).is_ok());
        self.ns_to_host.clear();
        let mut target_tids = Vec::with_capacity(tids.len());
        for &tid in &tids {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.stats.entry(tid) {
                if let Ok(mut stat) = TaskStat::open(self.pid, tid) {
                    if let Some(name) = stat.comm() {
                        self.names.insert(tid, name);
                    }
                    slot.insert(stat);
                }
            }
            // The innermost NSpid entry is the tid as the target sees it.
            let pid = self.pid;
            let ns_tid = *self
                .ns_tids
                .entry(tid)
                .or_insert_with(|| tasks::namespace_tids(pid, tid).and_then(|ids| ids.last().copied()).unwrap_or(tid));
            if ns_tid != tid {
                self.ns_to_host.insert(ns_tid, tid);
            }
            target_tids.push(ns_tid);
        }
        target_tids.sort_unstable();
        self.walker.known_tids = target_tids;
        self.tasks_read_at = Some(std::time::Instant::now());
    }

    fn host_tid(&self, target_tid: i32) -> i32 {
        self.ns_to_host.get(&target_tid).copied().unwrap_or(target_tid)
    }

    /// One sample of this process. Returns false when the process is gone.
    fn sample(&mut self, sample: &mut Sample, aggregator: &mut Aggregator, time_us: u64, stats: &RecordStats) -> bool {
        if self.tasks_read_at.is_none_or(|t| t.elapsed() >= self.task_refresh) {
            self.refresh_tasks();
        }
        // Thread states are read before pausing: a paused thread would show as traced.
        let blocking = self.lock.is_some();
        self.states_before.clear();
        if blocking {
            for (&tid, stat) in self.stats.iter_mut() {
                if let Some(state) = stat.state() {
                    self.states_before.insert(tid, state);
                }
            }
        }
        let result = match self.lock.as_mut() {
            Some(lock) => match lock.pause() {
                Ok(_paused) => self.walker.sample_paused(&self.mem, sample),
                Err(_) => Err(ReadError::Gone),
            },
            None => self.walker.sample(&self.mem, sample),
        };
        self.summary.ticks += 1;
        match result {
            Ok(()) => {}
            Err(_) if !process_alive(self.pid) => {
                self.summary.ticks -= 1;
                self.alive = false;
                return false;
            }
            Err(_) => {
                self.summary.errors += 1;
                stats.errors.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        self.idle_buf.clear();
        self.host_tids.clear();
        for thread in &sample.threads {
            let host = thread.native_tid.map(|t| self.host_tid(t));
            self.host_tids.push(host);
            if thread.holds_gil {
                // The GIL holder is running Python: no need to ask the kernel.
                self.idle_buf.push(false);
                continue;
            }
            let state = host.and_then(|tid| {
                if blocking {
                    self.states_before.get(&tid).copied()
                } else {
                    self.stats.get_mut(&tid).and_then(|s| s.state())
                }
            });
            // Unknown state counts as running: never hide a stack we could not classify.
            self.idle_buf.push(state.is_some_and(|s| s != b'R'));
        }
        let holder_failed = sample.threads.iter().any(|t| t.error.is_some());
        if holder_failed {
            self.summary.errors += 1;
            stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        if !sample.gil_held && !holder_failed {
            self.summary.gil_idle_ticks += 1;
            if self.index == 0 {
                stats.gil_idle.fetch_add(1, Ordering::Relaxed);
            }
        }
        let (names, host_tids) = (&self.names, &self.host_tids);
        let name_of = |i: usize| host_tids.get(i).copied().flatten().and_then(|tid| names.get(&tid).cloned());
        aggregator.add(self.index, self.pid, &self.walker, sample, &ThreadExtras { idle: &self.idle_buf, name_of: &name_of }, time_us);
        true
    }
}

fn process_alive(pid: i32) -> bool {
    !matches!(tasks::process_state(pid), None | Some(b'Z') | Some(b'X'))
}

pub struct ProcessSet {
    processes: Vec<Tracked>,
    aggregator: Aggregator,
    sample: Sample,
    /// Children that are not (yet) Python, with when to look again.
    not_python: HashMap<i32, Duration>,
    children_read_at: Option<Duration>,
    subprocesses: bool,
    root_pid: i32,
    /// Walker index of the next process: never reused, since caches are keyed by it.
    next_index: u32,
}

/// A process made ready for sampling away from the sampler thread (discovery reads ELF
/// files and may scan memory, longer than many sampling intervals), then handed to a set.
pub struct Attached(Tracked);

// SAFETY: the only part of a `Tracked` that must stay on its thread is the ptrace lock (a
// tracee belongs to the thread that seized it, and its stop timer is aimed at that thread),
// and an `Attached` never holds one: `attach` is non-blocking only.
unsafe impl Send for Attached {}

impl Attached {
    /// Prepares a process for non-blocking sampling (blocking mode must seize the target on
    /// the sampler thread itself, so it cannot be prepared elsewhere).
    pub fn attach(pid: i32, options: &RecordOptions) -> Result<Attached> {
        let options = RecordOptions { blocking: false, ..options.clone() };
        // The index is assigned when the process joins a set.
        let mut tracked = Tracked::new(pid, u32::MAX, &options)?;
        debug_assert!(tracked.lock.is_none());
        tracked.task_refresh = FLEET_TASK_REFRESH;
        Ok(Attached(tracked))
    }

    pub fn python_version(&self) -> &str {
        &self.0.summary.python_version
    }

    pub fn executable(&self) -> &str {
        &self.0.summary.executable
    }
}

impl ProcessSet {
    pub fn attach(options: &RecordOptions) -> Result<ProcessSet> {
        let mut processes = Vec::new();
        match Tracked::new(options.pid, 0, options) {
            Ok(root) => processes.push(root),
            // With --subprocesses the root may be a non-Python launcher or supervisor.
            Err(e) if options.subprocesses && matches!(e.code, ErrorCode::NotPython | ErrorCode::UnsupportedPython) => {}
            Err(e) => return Err(e),
        }
        let mut set = ProcessSet {
            processes,
            aggregator: Aggregator::new(options.timeline),
            sample: Sample::default(),
            not_python: HashMap::new(),
            children_read_at: None,
            subprocesses: options.subprocesses,
            root_pid: options.pid,
            next_index: 1,
        };
        if options.subprocesses {
            set.refresh_children(options, Duration::ZERO);
            if set.processes.is_empty() {
                return Err(Error::not_python(options.pid, "neither it nor any of its child processes runs CPython"));
            }
        }
        Ok(set)
    }

    /// A set with no root that processes join and leave while it records (the agent's).
    pub fn without_root(options: &RecordOptions) -> ProcessSet {
        ProcessSet {
            processes: Vec::new(),
            aggregator: Aggregator::new(options.timeline),
            sample: Sample::default(),
            not_python: HashMap::new(),
            children_read_at: None,
            subprocesses: false,
            root_pid: 0,
            next_index: 1,
        }
    }

    /// Starts sampling a process attached elsewhere (a PID already in the set is ignored).
    pub fn insert(&mut self, attached: Attached) {
        let mut tracked = attached.0;
        if self.processes.iter().any(|p| p.alive && p.pid == tracked.pid) {
            return;
        }
        tracked.index = self.next_index;
        self.next_index += 1;
        self.processes.push(tracked);
    }

    /// Stops sampling a process that still runs (it no longer matches what is followed); it
    /// leaves the set with the next `remove_exited`.
    pub fn retire(&mut self, pid: i32) {
        for p in self.processes.iter_mut().filter(|p| p.pid == pid) {
            p.alive = false;
            p.lock = None;
        }
    }

    /// Forgets the processes that have exited (call after a drain, which carried their last
    /// samples) and returns their PIDs.
    pub fn remove_exited(&mut self) -> Vec<i32> {
        let exited: Vec<i32> = self.processes.iter().filter(|p| !p.alive).map(|p| p.pid).collect();
        self.processes.retain(|p| p.alive);
        exited
    }

    pub fn root_version(&self) -> String {
        self.processes.first().map(|p| p.summary.python_version.clone()).unwrap_or_default()
    }

    /// Samples every live process once. Returns false when nothing is left to sample.
    pub fn sample_all(&mut self, time_us: u64, stats: &RecordStats) -> Result<bool> {
        let mut any_alive = false;
        for tracked in self.processes.iter_mut().filter(|p| p.alive) {
            if tracked.sample(&mut self.sample, &mut self.aggregator, time_us, stats) {
                any_alive = true;
            } else {
                // Release ptrace at once so the exiting process is not held.
                tracked.lock = None;
            }
        }
        stats.processes.store(self.processes.iter().filter(|p| p.alive).count() as u64, Ordering::Relaxed);
        if self.subprocesses {
            // Workers come and go (a supervisor restarts them): record while the root lives.
            return Ok(any_alive || process_alive(self.root_pid));
        }
        Ok(any_alive)
    }

    /// Finds new descendants of the root and starts sampling the Python ones.
    pub fn refresh_children(&mut self, options: &RecordOptions, now: Duration) {
        if self.children_read_at.is_some_and(|t| now.saturating_sub(t) < CHILD_REFRESH) {
            return;
        }
        self.children_read_at = Some(now);
        let known: HashSet<i32> = self.processes.iter().map(|p| p.pid).collect();
        let mut frontier = vec![options.pid];
        let mut seen = HashSet::new();
        while let Some(pid) = frontier.pop() {
            if !seen.insert(pid) {
                continue;
            }
            for child in tasks::children(pid) {
                frontier.push(child);
                if known.contains(&child) || matches!(tasks::process_state(child), Some(b'Z') | Some(b'X') | None) {
                    continue;
                }
                if self.not_python.get(&child).is_some_and(|retry_at| now < *retry_at) {
                    continue;
                }
                match Tracked::new(child, self.next_index, options) {
                    Ok(tracked) => {
                        self.next_index += 1;
                        self.not_python.remove(&child);
                        self.processes.push(tracked);
                    }
                    // A fresh child may still be starting Python (or exec'ing): look again later.
                    Err(_) => {
                        self.not_python.insert(child, now + Duration::from_secs(1));
                    }
                }
            }
        }
    }

    /// The samples gathered since the last drain; per-process counters restart too.
    pub fn drain(&mut self, mut header: Profile) -> Profile {
        let processes: Vec<ProcessSummary> = self.processes.iter().map(|p| p.summary.clone()).collect();
        for p in &mut self.processes {
            p.summary.ticks = 0;
            p.summary.gil_idle_ticks = 0;
            p.summary.errors = 0;
        }
        Self::fill_totals(&mut header, &processes);
        self.aggregator.drain(header, processes)
    }

    fn fill_totals(header: &mut Profile, processes: &[ProcessSummary]) {
        if let Some(root) = processes.iter().find(|p| p.pid == header.pid) {
            header.gil_idle_ticks = root.gil_idle_ticks;
            header.errors = root.errors;
            header.ticks = root.ticks;
        } else {
            header.gil_idle_ticks = processes.iter().map(|p| p.gil_idle_ticks).sum();
            header.errors = processes.iter().map(|p| p.errors).sum();
            header.ticks = processes.iter().map(|p| p.ticks).max().unwrap_or(0);
        }
        if header.python_version.is_empty() {
            header.python_version = processes.first().map(|p| p.python_version.clone()).unwrap_or_default();
        }
    }

    pub fn finish(self, mut header: Profile) -> Profile {
        let processes: Vec<ProcessSummary> = self.processes.iter().map(|p| p.summary.clone()).collect();
        Self::fill_totals(&mut header, &processes);
        self.aggregator.finish(header, processes)
    }
}
