//! The processes being recorded: the root target and, with `--subprocesses`, every Python
//! descendant found while recording. Each has its own walker, thread-state files and
//! (in blocking mode) its own ptrace lock.

use super::async_sampling::AsyncSampling;
use super::on_cpu::OnCpuCheck;
use super::quiet::QuietCheck;
use super::{RecordOptions, RecordStats};
use crate::error::{Error, ErrorCode, Result};
use crate::process::lock::ProcessLock;
use crate::process::memory::{ProcessMemory, ReadError};
use crate::process::on_cpu::OwnSwitch;
use crate::process::tasks::{self, TaskStat};
use crate::profile::aggregate::{EntryKey, ThreadExtras};
use crate::profile::{Aggregator, Profile, ProcessSummary};
use crate::python::free_threaded::{OnCpuBy, Threading};
use crate::python::thread_names::ThreadNames;
use crate::native::NativeSampler;
use crate::python::{PythonTarget, Sample, Walker};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the thread list of each process is re-read.
const TASK_REFRESH: Duration = Duration::from_millis(200);
/// The agent's: its windows last seconds, and each re-read costs a directory listing.
const FLEET_TASK_REFRESH: Duration = Duration::from_secs(1);
/// A sampler that waited longer than this on a run queue before a tick got its CPU when the
/// scheduler chose, not when its timer fired: the thread it replaced is not counted as
/// displaced at that tick (`on_cpu.rs`). A wake-up that preempts at once takes microseconds.
const SAMPLER_MAX_WAIT: Duration = Duration::from_micros(50);
/// How often `--subprocesses` looks for new children.
const CHILD_REFRESH: Duration = Duration::from_millis(250);
/// How often `--subprocesses` looks again while it waits for a first Python process.
const FIRST_CHILD_POLL: Duration = Duration::from_millis(50);

struct Tracked {
    pid: i32,
    index: u32,
    walker: Walker,
    mem: ProcessMemory,
    lock: Option<ProcessLock>,
    /// `--native`: unwinds each thread's C stack inside the pause (needs `lock`).
    native: Option<NativeSampler>,
    stats: HashMap<i32, TaskStat>,
    /// Kernel thread names (`comm`), read when the thread list is refreshed, not per sample.
    names: HashMap<i32, String>,
    /// Python's thread names (`threading`), read when new threads appear and every few seconds
    /// (never when `read_python_names` is off).
    python_names: ThreadNames,
    read_python_names: bool,
    /// Without a GIL: tells the threads on a CPU from those waiting for one (`on_cpu.rs`);
    /// None with a GIL, or when the kernel keeps no scheduler statistics.
    on_cpu: Option<OnCpuCheck>,
    /// Per-sample scratch, kept to avoid allocating on every tick.
    idle_buf: Vec<bool>,
    weigh_buf: Vec<bool>,
    /// Per thread: found on a CPU and still where it was found after its stack was read.
    stayed_buf: Vec<bool>,
    weighed_buf: Vec<(usize, EntryKey)>,
    host_tids: Vec<Option<i32>>,
    states_before: HashMap<i32, u8>,
    /// Threads seen on a CPU (`on_cpu`) next to `states_before`.
    on_cpu_before: HashMap<i32, bool>,
    /// Target-namespace tid → host tid, when the target lives in another PID namespace.
    ns_to_host: HashMap<i32, i32>,
    /// Host tid → tid in the target's namespace, read once per thread (it never changes).
    ns_tids: HashMap<i32, i32>,
    tasks_read_at: Option<std::time::Instant>,
    task_refresh: Duration,
    summary: ProcessSummary,
    alive: bool,
    /// `record --async`: the asyncio reader and its per-sample stacks.
    asyncio: Option<AsyncSampling>,
    /// The agent's: counts the last sample again while no thread has run (`quiet.rs`).
    quiet: Option<QuietCheck>,
    /// Host tids of the process (sorted), from the last thread-list refresh.
    tids: Vec<i32>,
}

impl Tracked {
    fn new(pid: i32, index: u32, options: &RecordOptions) -> Result<Tracked> {
        let target = PythonTarget::discover(pid, &options.discover)?;
        let mem = ProcessMemory::new(pid);
        let threading = Threading::of(&target, &mem);
        let version = target.layout.version.to_string();
        if options.require_gil && threading.gil_disabled {
            return Err(Error::invalid(format!(
                "--gil: process {pid} is free-threaded Python {version} running without a GIL, so no thread holds one; drop --gil (the default then samples every running thread) or use --threads"
            )));
        }
        // Refused before seizing: a version whose tasks cannot be read fails the recording.
        let asyncio = match options.asyncio {
            Some(mode) => Some(AsyncSampling::new(&target, mode)?),
            None => None,
        };
        let lock = if options.blocking || options.native { Some(ProcessLock::seize(pid)?) } else { None };
        let native = options.native.then(|| NativeSampler::new(&target));
        let on_cpu = if threading.gil_disabled { OnCpuCheck::new(pid) } else { None };
        let by = if on_cpu.is_some() { OnCpuBy::SwitchCounts } else { OnCpuBy::RunState };
        let notices = target.layout.notice().into_iter().chain(threading.notice(&version, by)).collect();
        let summary = ProcessSummary {
            pid,
            python_version: version,
            executable: target.executable.clone(),
            ticks: 0,
            gil_idle_ticks: 0,
            errors: 0,
            error_kinds: Default::default(),
            free_threaded: threading.free_threaded,
            gil_disabled: threading.gil_disabled,
            notices,
            native_failures: 0,
        };
        let mut tracked = Tracked {
            pid,
            index,
            python_names: ThreadNames::new(&target, &ProcessMemory::new(pid)),
            read_python_names: options.thread_names,
            walker: Walker::new(target),
            mem,
            lock,
            native,
            stats: HashMap::new(),
            names: HashMap::new(),
            on_cpu,
            idle_buf: Vec::new(),
            weigh_buf: Vec::new(),
            stayed_buf: Vec::new(),
            weighed_buf: Vec::new(),
            host_tids: Vec::new(),
            states_before: HashMap::new(),
            on_cpu_before: HashMap::new(),
            ns_to_host: HashMap::new(),
            ns_tids: HashMap::new(),
            tasks_read_at: None,
            task_refresh: TASK_REFRESH,
            summary,
            alive: true,
            asyncio,
            quiet: None,
            tids: Vec::new(),
        };
        tracked.refresh_tasks(None);
        Ok(tracked)
    }

    /// `aggregator`: where the last samples of threads that are gone get their CPU weights
    /// (None before the first sample, when there are none).
    fn refresh_tasks(&mut self, aggregator: Option<&mut Aggregator>) {
        let Ok(tids) = tasks::list_tasks(self.pid) else { return };
        if let Some(on_cpu) = self.on_cpu.as_mut() {
            match aggregator {
                Some(aggregator) => on_cpu.refresh(&tids, |key, samples| aggregator.add_cpu(key, samples)),
                None => on_cpu.refresh(&tids, |_, _| {}),
            }
        }
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
        self.tids = tids;
        if let Some(quiet) = self.quiet.as_mut() {
            quiet.threads_listed();
        }
        self.tasks_read_at = Some(std::time::Instant::now());
    }

    fn host_tid(&self, target_tid: i32) -> i32 {
        self.ns_to_host.get(&target_tid).copied().unwrap_or(target_tid)
    }

    /// One sample of this process. Returns false when the process is gone.
    /// `sampler_on`: when the sampler thread got its CPU for this tick (`OwnSwitch`).
    fn sample(&mut self, sample: &mut Sample, aggregator: &mut Aggregator, time_us: u64, stats: &RecordStats, sampler_on: Option<u64>) -> bool {
        if let Some(quiet) = self.quiet.as_mut() {
            // Before the thread list is refreshed: while no thread runs, none can start or end,
            // so the list of the last full sample is still the list.
            if quiet.unchanged(self.pid, &self.tids) {
                // Nothing ran: the last sample (all threads idle, no GIL holder) holds.
                self.summary.ticks += 1;
                self.summary.gil_idle_ticks += 1;
                if self.index == 0 {
                    stats.gil_idle.fetch_add(1, Ordering::Relaxed);
                }
                aggregator.repeat(quiet.counted(), time_us);
                return true;
            }
            // Every thread asleep (the gunicorn herd woke them and they went back to wait):
            // unless one sleeps holding the GIL, nobody runs, so the tick is idle whatever the
            // stacks are, and the agent sends only what ran. One small read instead of a walk.
            if self.on_cpu.is_none() && quiet.all_asleep() && self.walker.gil_free_now(&self.mem) {
                self.summary.ticks += 1;
                self.summary.gil_idle_ticks += 1;
                if self.index == 0 {
                    stats.gil_idle.fetch_add(1, Ordering::Relaxed);
                }
                let unread = aggregator.unread_stack();
                aggregator.repeat(quiet.count_unread_idle(unread), time_us);
                return true;
            }
        }
        let threads_changed = self.quiet.as_ref().is_some_and(QuietCheck::threads_may_have_changed);
        if threads_changed || self.tasks_read_at.is_none_or(|t| t.elapsed() >= self.task_refresh) {
            self.refresh_tasks(Some(&mut *aggregator));
        }
        // Thread states are read before pausing: a paused thread would show as traced.
        let blocking = self.lock.is_some();
        // Without a GIL too: who was on a CPU is judged at the tick's instant, when the
        // sampler got its CPU (`on_cpu.rs`), not after the stacks.
        let states_first = blocking || self.on_cpu.is_some();
        self.states_before.clear();
        self.on_cpu_before.clear();
        if states_first {
            // The same read gives the thread count: a thread started or ended since the last
            // listing makes a pause list the threads again (new ones are seized at once);
            // otherwise the pause uses this list and saves listing `/proc/PID/task` per sample.
            let mut count_changed = false;
            for (&tid, stat) in self.stats.iter_mut() {
                if let Some((state, threads)) = stat.state_and_threads() {
                    self.states_before.insert(tid, state);
                    count_changed |= threads.is_some_and(|n| n != self.tids.len());
                    if let (b'R', Some(on_cpu)) = (state, self.on_cpu.as_mut().and_then(|c| c.on_cpu(tid, sampler_on))) {
                        self.on_cpu_before.insert(tid, on_cpu);
                    }
                }
            }
            if count_changed {
                self.refresh_tasks(Some(&mut *aggregator));
                self.states_before.retain(|tid, _| self.tids.binary_search(tid).is_ok());
            }
        }
        // The agent's: a thread off the CPU that has not run since the quiet check read its
        // counters is read at one moment (no re-reads); its state is kept for the idle verdict.
        let (stats_files, quiet, ns_to_host, states) = (&mut self.stats, &self.quiet, &self.ns_to_host, &mut self.states_before);
        let mut still = |tid: i32| -> bool {
            let Some(quiet) = quiet.as_ref() else { return false };
            let host = ns_to_host.get(&tid).copied().unwrap_or(tid);
            // The switch log answers from memory; else the `stat` file and `schedstat`.
            let (state, still) = match quiet.seen_again(host) {
                Some(seen) => seen,
                None => {
                    let Some(state) = stats_files.get_mut(&host).and_then(|s| s.state()) else { return false };
                    (state, state != b'R' && quiet.still_since_read(host))
                }
            };
            states.insert(host, state);
            still
        };
        let mut still: Option<&mut dyn FnMut(i32) -> bool> = if blocking || self.quiet.is_none() { None } else { Some(&mut still) };
        // The tasks are read in the same pause as the stacks (right after them when not pausing).
        let (walker, mem, asyncio, native) = (&mut self.walker, &self.mem, &mut self.asyncio, &mut self.native);
        // `stopped`: the threads a pause really stopped (None when not pausing).
        let mut read = |stopped: Option<Vec<i32>>| {
            if let (None, Some(a)) = (&stopped, asyncio.as_mut()) {
                a.before(mem);
            }
            let result = match stopped {
                Some(stopped) => walker.sample_paused(mem, sample, stopped),
                None => walker.sample_asking(mem, sample, still.take()),
            };
            if let (Ok(()), Some(a)) = (&result, asyncio.as_mut()) {
                a.read(mem, walker, sample);
            }
            result
        };
        let result = match self.lock.as_mut() {
            Some(lock) => match lock.pause_listed(&self.tids) {
                Ok(paused) => {
                    let ns_to_host = &self.ns_to_host;
                    // The walker knows threads by their tid in the target's namespace.
                    let host_to_ns = |host: i32| ns_to_host.iter().find(|(_, &h)| h == host).map_or(host, |(&ns, _)| ns);
                    let mut stopped: Vec<i32> = paused.stopped().into_iter().map(host_to_ns).collect();
                    stopped.sort_unstable();
                    let result = read(Some(stopped));
                    if let (Ok(()), Some(native)) = (&result, native.as_mut()) {
                        native.capture(mem, sample, &|tid| ns_to_host.get(&tid).copied().unwrap_or(tid));
                    }
                    drop(paused);
                    result
                }
                Err(_) => Err(ReadError::Gone),
            },
            None => read(None),
        };
        self.summary.ticks += 1;
        match result {
            Ok(()) => {}
            Err(_) if !process_alive(self.pid) => {
                self.summary.ticks -= 1;
                self.alive = false;
                return false;
            }
            Err(error) => {
                if let Some(quiet) = self.quiet.as_mut() {
                    quiet.reset();
                }
                self.summary.errors += 1;
                *self.summary.error_kinds.entry(error.kind()).or_default() += 1;
                stats.errors.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        self.idle_buf.clear();
        self.weigh_buf.clear();
        self.stayed_buf.clear();
        self.host_tids.clear();
        for thread in &sample.threads {
            let host = thread.native_tid.map(|t| self.host_tid(t));
            self.host_tids.push(host);
            if thread.holds_gil {
                // The GIL holder is running Python: no need to ask the kernel.
                self.idle_buf.push(false);
                self.weigh_buf.push(false);
                self.stayed_buf.push(false);
                continue;
            }
            // Blocking: read before the pause; the agent's: read during the walk (`still`).
            let state = host.and_then(|tid| match self.states_before.get(&tid) {
                Some(&state) => Some(state),
                None if blocking => None,
                None => self.stats.get_mut(&tid).and_then(|s| s.state()),
            });
            // Without a GIL, a thread in R state runs only if it is on a CPU, not waiting for
            // one (`on_cpu.rs`). Unknown counts as running: never hide a stack we could not classify.
            let on_cpu = match (state, host) {
                (Some(b'R'), Some(tid)) if states_first => self.on_cpu_before.get(&tid).copied(),
                (Some(b'R'), Some(tid)) => self.on_cpu.as_mut().and_then(|c| c.on_cpu(tid, sampler_on)),
                _ => None,
            };
            self.idle_buf.push(state.is_some_and(|s| s != b'R') || on_cpu == Some(false));
            // An on-CPU sample stands for its share of the thread's CPU time (`on_cpu.rs`),
            // if the stack read is the one at the look: the thread did not move meanwhile.
            let weighs = |tid: i32| self.on_cpu.as_ref().is_some_and(|c| c.weighs(tid));
            let weigh = on_cpu == Some(true) && host.is_some_and(weighs);
            self.weigh_buf.push(weigh);
            self.stayed_buf.push(weigh && host.is_some_and(|tid| self.on_cpu.as_ref().is_some_and(|c| c.stayed(tid))));
        }
        let failed = sample.threads.iter().find_map(|t| t.error.as_ref());
        let holder_failed = failed.is_some();
        if let Some(error) = failed {
            *self.summary.error_kinds.entry(error.kind()).or_default() += 1;
            self.summary.errors += 1;
            stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        if !sample.gil_held && !holder_failed {
            self.summary.gil_idle_ticks += 1;
            if self.index == 0 {
                stats.gil_idle.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(native) = self.native.as_mut() {
            // Labelled and merged after the threads run again: only the unwind is paused time.
            let failed = native.merge(sample);
            self.summary.native_failures += failed;
            stats.native_failures.fetch_add(failed, Ordering::Relaxed);
        }
        if self.read_python_names {
            self.python_names.refresh(&self.mem, sample.threads.iter().map(|t| t.python_thread_id));
        }
        let (names, host_tids, python_names) = (&self.names, &self.host_tids, &self.python_names);
        // Python's name for the thread, else the kernel's.
        let name_of = |i: usize| {
            let python = sample.threads.get(i).and_then(|t| python_names.get(t.python_thread_id)).map(str::to_string);
            python.or_else(|| host_tids.get(i).copied().flatten().and_then(|tid| names.get(&tid).cloned()))
        };
        let extras = ThreadExtras { idle: &self.idle_buf, weigh: &self.weigh_buf, name_of: &name_of, names_generation: self.python_names.generation };
        match &self.asyncio {
            Some(a) => {
                if a.torn > 0 {
                    self.summary.errors += a.torn;
                    stats.errors.fetch_add(a.torn, Ordering::Relaxed);
                }
                aggregator.add_async(self.index, self.pid, &self.walker, sample, &extras, time_us, &a.stacks)
            }
            None => aggregator.add(self.index, self.pid, &self.walker, sample, self.native.as_ref(), &extras, time_us),
        }
        if let Some(on_cpu) = self.on_cpu.as_mut() {
            self.weighed_buf.clear();
            self.weighed_buf.extend(aggregator.take_to_weigh());
            for &(i, key) in &self.weighed_buf {
                match self.host_tids.get(i).copied().flatten() {
                    Some(tid) if self.stayed_buf.get(i).copied().unwrap_or(false) => on_cpu.seen(tid, key),
                    // Read elsewhere than found: no weight, and out of the default view.
                    _ => aggregator.add_cpu(key, 0.0),
                }
            }
            on_cpu.tick();
            let now = Instant::now();
            if on_cpu.due(now) {
                on_cpu.close(now, false, |key, samples| aggregator.add_cpu(key, samples));
            }
        }
        if let Some(quiet) = self.quiet.as_mut() {
            let all_idle = self.idle_buf.len() == sample.threads.len() && self.idle_buf.iter().all(|&idle| idle);
            let reusable = !sample.threads.is_empty() && all_idle && !sample.gil_held && !holder_failed;
            quiet.sampled(reusable, aggregator.last_counted());
        }
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
    /// The sampler thread's own scheduler files (`sampler_switched_on`).
    own_switch: Option<OwnSwitch>,
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
        if !options.native && options.asyncio.is_none() {
            tracked.quiet = Some(QuietCheck::default());
        }
        Ok(Attached(tracked))
    }

    /// Watches the threads with `schedstat` only, as where perf events are refused.
    pub fn without_switch_logs(mut self) -> Attached {
        if let Some(quiet) = self.0.quiet.as_mut() {
            *quiet = QuietCheck::with_counters_only();
        }
        self
    }

    /// Walks the process on every tick, as `record` does (a reference for the shortcut).
    pub fn walking_every_tick(mut self) -> Attached {
        self.0.quiet = None;
        self
    }

    pub fn python_version(&self) -> &str {
        &self.0.summary.python_version
    }

    pub fn executable(&self) -> &str {
        &self.0.summary.executable
    }
}

impl ProcessSet {
    /// Starts sampling the root, and with `--subprocesses` its Python descendants, waiting up to
    /// `subprocess_wait` for a first Python process to appear (or until `stop` is set).
    pub fn attach(options: &RecordOptions, stop: &AtomicBool) -> Result<ProcessSet> {
        let mut set = ProcessSet {
            processes: Vec::new(),
            aggregator: Aggregator::new(options.timeline),
            sample: Sample::default(),
            not_python: HashMap::new(),
            children_read_at: None,
            subprocesses: options.subprocesses,
            root_pid: options.pid,
            next_index: 1,
            own_switch: None,
        };
        set.attach_root(options)?;
        if !options.subprocesses {
            return Ok(set);
        }
        let started = Instant::now();
        loop {
            set.refresh_children(options, started.elapsed());
            if !set.processes.is_empty() {
                return Ok(set);
            }
            let waited = started.elapsed();
            if waited >= options.subprocess_wait || stop.load(Ordering::Relaxed) || !process_alive(options.pid) {
                return Err(Error::not_python(
                    options.pid,
                    &format!(
                        "neither it nor any of its child processes ran CPython within {} s; if Python starts later, wait longer with --subprocess-wait SECONDS",
                        options.subprocess_wait.as_secs_f64()
                    ),
                ));
            }
            std::thread::sleep(FIRST_CHILD_POLL.min(options.subprocess_wait - waited));
            // While waiting, every process is looked at again on each poll: a launcher that
            // execs Python (or forks a child that does) becomes Python within milliseconds.
            set.children_read_at = None;
            set.not_python.clear();
            set.attach_root(options)?;
        }
    }

    /// Starts sampling the root process; with --subprocesses a root that is not (yet) Python
    /// is fine (a launcher or supervisor).
    fn attach_root(&mut self, options: &RecordOptions) -> Result<()> {
        match Tracked::new(options.pid, self.processes.len() as u32, options) {
            Ok(root) => self.processes.push(root),
            Err(e) if options.subprocesses && matches!(e.code, ErrorCode::NotPython | ErrorCode::UnsupportedPython) => {}
            Err(e) => return Err(e),
        }
        Ok(())
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
            own_switch: None,
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
        let sampler_on = self.sampler_switched_on();
        let mut any_alive = false;
        for tracked in self.processes.iter_mut().filter(|p| p.alive) {
            if tracked.sample(&mut self.sample, &mut self.aggregator, time_us, stats, sampler_on) {
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

    /// When this (sampler) thread was put on its CPU for this tick, if it got it at once;
    /// only asked when a process runs without a GIL (`on_cpu.rs`).
    fn sampler_switched_on(&mut self) -> Option<u64> {
        if !self.processes.iter().any(|p| p.on_cpu.is_some()) {
            return None;
        }
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() };
        if self.own_switch.as_ref().is_none_or(|o| o.tid() != me) {
            self.own_switch = OwnSwitch::open().ok();
        }
        self.own_switch.as_mut()?.switched_on(SAMPLER_MAX_WAIT.as_nanos() as u64)
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

    /// Weighs the on-CPU samples of the open windows (before a drain or the end).
    fn close_windows(&mut self) {
        let (aggregator, now) = (&mut self.aggregator, Instant::now());
        for on_cpu in self.processes.iter_mut().filter_map(|p| p.on_cpu.as_mut()) {
            on_cpu.close(now, true, |key, samples| aggregator.add_cpu(key, samples));
        }
    }

    /// The samples gathered since the last drain; per-process counters restart too.
    pub fn drain(&mut self, mut header: Profile) -> Profile {
        self.close_windows();
        let processes = self.take_summaries();
        Self::fill_totals(&mut header, &processes);
        self.aggregator.drain(header, processes)
    }

    /// The agent's drain: the window since the last one with its own tables (the aggregator
    /// starts empty, so memory stays bounded however long the agent runs). What the quiet
    /// checks would count again named the old tables' ids: each process is walked afresh.
    pub fn drain_window(&mut self, mut header: Profile) -> Profile {
        self.close_windows();
        let processes = self.take_summaries();
        for p in &mut self.processes {
            if let Some(quiet) = p.quiet.as_mut() {
                quiet.reset();
            }
        }
        Self::fill_totals(&mut header, &processes);
        self.aggregator.take_window(header, processes)
    }

    /// Each process's summary since the last drain; the counters restart.
    fn take_summaries(&mut self) -> Vec<ProcessSummary> {
        let processes: Vec<ProcessSummary> = self.processes.iter().map(|p| p.summary.clone()).collect();
        for p in &mut self.processes {
            p.summary.ticks = 0;
            p.summary.gil_idle_ticks = 0;
            p.summary.errors = 0;
            p.summary.error_kinds.clear();
            p.summary.native_failures = 0;
        }
        processes
    }

    fn fill_totals(header: &mut Profile, processes: &[ProcessSummary]) {
        if let Some(root) = processes.iter().find(|p| p.pid == header.pid) {
            header.gil_idle_ticks = root.gil_idle_ticks;
            header.errors = root.errors;
            header.error_kinds = root.error_kinds.clone();
            header.native_failures = root.native_failures;
            header.ticks = root.ticks;
        } else {
            header.gil_idle_ticks = processes.iter().map(|p| p.gil_idle_ticks).sum();
            header.errors = processes.iter().map(|p| p.errors).sum();
            for p in processes {
                for (kind, count) in &p.error_kinds {
                    *header.error_kinds.entry(kind.clone()).or_default() += count;
                }
            }
            header.native_failures = processes.iter().map(|p| p.native_failures).sum();
            header.ticks = processes.iter().map(|p| p.ticks).max().unwrap_or(0);
        }
        if header.python_version.is_empty() {
            header.python_version = processes.first().map(|p| p.python_version.clone()).unwrap_or_default();
        }
    }

    pub fn finish(mut self, mut header: Profile) -> Profile {
        self.close_windows();
        let processes: Vec<ProcessSummary> = self.processes.iter().map(|p| p.summary.clone()).collect();
        Self::fill_totals(&mut header, &processes);
        self.aggregator.finish(header, processes)
    }
}
