//! The recording loop: a timer on the calling thread samples the target (and optionally its
//! child processes) at randomized times whose mean spacing is the interval (`clock.rs`) and
//! folds every sample into an `Aggregator`.

pub mod async_sampling;
pub mod clock;
pub mod fleet;
pub mod on_cpu;
pub mod process_set;
pub mod quiet;

use crate::error::{Error, Result};
use crate::profile::{EndReason, Profile};
use crate::python::DiscoverOptions;
use process_set::ProcessSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Default of `RecordOptions::subprocess_wait` (`--subprocess-wait`).
pub const DEFAULT_SUBPROCESS_WAIT: Duration = Duration::from_secs(2);
const MAX_SUBPROCESS_WAIT: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub pid: i32,
    /// `None`: until stopped or until the target exits.
    pub duration: Option<Duration>,
    /// Mean time between samples (exact with `Schedule::Periodic`).
    pub interval: Duration,
    pub schedule: clock::Schedule,
    /// Take exactly this many samples then stop (`-s 0` in Pyflame means one sample).
    pub max_samples: Option<u64>,
    /// Pause the target's threads around each sample for exact stacks.
    pub blocking: bool,
    /// Also unwind each thread's native stack and merge it with the Python one (pauses the
    /// target like `blocking`).
    pub native: bool,
    /// Also sample child processes (and theirs), found while recording.
    pub subprocesses: bool,
    /// With `subprocesses`: how long to wait for a first Python process (the root or a
    /// descendant) before failing with `ERR_NOT_PYTHON` (a launcher may start it a moment later).
    pub subprocess_wait: Duration,
    /// Keep every sample with its timestamp (for flame charts and traces).
    pub timeline: bool,
    pub discover: DiscoverOptions,
    /// The caller shows only GIL holders (`--gil`): refuse a target that runs without a GIL.
    pub require_gil: bool,
    /// `record --async`: stacks of asyncio tasks instead of threads (None: plain threads).
    pub asyncio: Option<AsyncMode>,
    /// Read Python's thread names (`threading`) to name threads; otherwise threads carry the
    /// kernel's name only. The agent reads them only when its windows label threads: a read
    /// walks each `Thread` object's attributes, tens of remote reads per process every 5 s.
    pub thread_names: bool,
}

/// What `record --async` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncMode {
    /// The running task of each thread, under the tasks awaiting it.
    Running,
    /// Also every waiting task, once per sample (`--async-wall`: where tasks sit waiting).
    Wall,
}

impl RecordOptions {
    pub fn validate(&self) -> Result<()> {
        if self.interval.is_zero() {
            return Err(Error::invalid("the interval between samples must be more than 0 seconds (e.g. -r 0.01 for 100 samples a second)"));
        }
        if self.interval > Duration::from_secs(3600) {
            return Err(Error::invalid("the interval between samples must be at most an hour"));
        }
        if self.subprocess_wait > MAX_SUBPROCESS_WAIT {
            return Err(Error::invalid("the wait for a Python subprocess must be at most an hour (--subprocess-wait SECONDS)"));
        }
        Ok(())
    }
}

/// Live counters a caller can poll while a recording runs (progress display).
#[derive(Debug, Default)]
pub struct RecordStats {
    pub ticks: AtomicU64,
    pub errors: AtomicU64,
    /// `--native`: thread samples whose native stack could not be unwound.
    pub native_failures: AtomicU64,
    pub gil_idle: AtomicU64,
    /// Sampling times that passed while the sampler was still busy, skipped (not taken late).
    pub missed: AtomicU64,
    pub processes: AtomicU64,
    /// Set by a consumer that wants the samples gathered so far (`top`, streaming use);
    /// the sampler answers after its next tick through `drained`.
    pub drain_requested: AtomicBool,
    pub drained: Mutex<Option<Profile>>,
    pub drained_ready: Condvar,
    /// Set when the recording has ended (no more drains will be answered).
    pub finished: AtomicBool,
}

impl RecordStats {
    /// Asks the running recording for the samples since the last drain and waits for them.
    /// Returns `None` when the recording ended first or `timeout` passed.
    pub fn request_drain(&self, timeout: Duration) -> Option<Profile> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.drained.lock().unwrap_or_else(|e| e.into_inner());
        *slot = None;
        self.drain_requested.store(true, Ordering::SeqCst);
        while slot.is_none() && !self.finished.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            slot = self.drained_ready.wait_timeout(slot, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        slot.take()
    }
}

/// Records until the duration passes, `stop` is set, or the target exits.
pub fn record(options: &RecordOptions, stop: &AtomicBool, stats: &RecordStats) -> Result<Profile> {
    let result = record_until_done(options, stop, stats);
    stats.finished.store(true, Ordering::SeqCst);
    let _guard = stats.drained.lock();
    stats.drained_ready.notify_all();
    result
}

fn header(options: &RecordOptions, python_version: &str, start_time_ms: f64, start: Instant, end_reason: EndReason, missed: u64) -> Profile {
    Profile {
        pid: options.pid,
        python_version: python_version.to_string(),
        start_time_ms,
        duration_secs: start.elapsed().as_secs_f64(),
        interval_secs: options.interval.as_secs_f64(),
        ticks: 0,
        missed,
        gil_idle_ticks: 0,
        errors: 0,
        error_kinds: Default::default(),
        native_failures: 0,
        frames: Vec::new(),
        stacks: Vec::new(),
        threads: Vec::new(),
        entries: Vec::new(),
        processes: Vec::new(),
        subprocesses: options.subprocesses,
        timeline: None,
        end_reason,
    }
}

fn record_until_done(options: &RecordOptions, stop: &AtomicBool, stats: &RecordStats) -> Result<Profile> {
    options.validate()?;
    let mut set = ProcessSet::attach(options, stop)?;
    let python_version = set.root_version();
    let start = Instant::now();
    let start_time_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let mut clock = clock::Ticker::new(start, options.interval, options.schedule);
    let mut end_reason = EndReason::Duration;
    let mut taken: u64 = 0;
    // Missed sampling times, in all and up to the last drain (a drained profile holds its own).
    let mut missed_total: u64 = 0;
    let mut missed_drained: u64 = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            end_reason = EndReason::Stopped;
            break;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(start);
        let time_us = elapsed.as_micros() as u64;
        if !set.sample_all(time_us, stats)? {
            end_reason = EndReason::TargetExited;
            break;
        }
        taken += 1;
        stats.ticks.store(taken, Ordering::Relaxed);
        if stats.drain_requested.swap(false, Ordering::SeqCst) {
            let partial = set.drain(header(options, &python_version, start_time_ms, start, EndReason::Duration, missed_total - missed_drained));
            missed_drained = missed_total;
            let mut slot = stats.drained.lock().unwrap_or_else(|e| e.into_inner());
            *slot = Some(partial);
            stats.drained_ready.notify_all();
        }
        if options.max_samples.is_some_and(|max| taken >= max) {
            break;
        }
        if options.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        if options.subprocesses {
            set.refresh_children(options, elapsed);
        }
        let missed = clock.wait_next(stop, options.duration.map(|d| start + d));
        if missed > 0 {
            missed_total += missed;
            stats.missed.fetch_add(missed, Ordering::Relaxed);
        }
        if options.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
    }
    Ok(set.finish(header(options, &python_version, start_time_ms, start, end_reason, missed_total - missed_drained)))
}
