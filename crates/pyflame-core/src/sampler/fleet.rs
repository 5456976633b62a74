//! The agent's recording: one sampler thread for a set of processes that changes while it
//! runs. Processes are attached on other threads and join between ticks; one that exits
//! leaves the set after the drain that carries its last samples. Each drain is a window with
//! its own tables (memory stays one window's however long it runs), whose header says when it
//! started and how long it lasted, so a window sent late still lands at the time it was
//! recorded. It records until stopped, even with nothing to sample.
//!
//! One thread for every target matters for cost: a wake-up costs this kind of VM 15-27 us,
//! so twenty recordings with a thread each would pay twenty wake-ups per tick.

use super::process_set::{Attached, ProcessSet};
use super::{clock, RecordOptions, RecordStats};
use crate::error::Result;
use crate::profile::{EndReason, Profile};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use crate::python::DiscoverOptions;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What other threads hand to a running fleet recording, and what it hands back.
#[derive(Default)]
pub struct FleetControl {
    pub stop: AtomicBool,
    pub stats: RecordStats,
    joining: Mutex<Vec<Attached>>,
    leaving: Mutex<Vec<i32>>,
    exited: Mutex<Vec<i32>>,
}

impl FleetControl {
    /// Queues an attached process; it is sampled from the next tick.
    pub fn join(&self, attached: Attached) {
        lock(&self.joining).push(attached);
    }

    /// Stops sampling a PID that still runs; its samples so far stay in the next window.
    pub fn leave(&self, pid: i32) {
        lock(&self.leaving).push(pid);
    }

    /// PIDs that exited and left the set since the last call (after their last window).
    pub fn take_exited(&self) -> Vec<i32> {
        std::mem::take(&mut *lock(&self.exited))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// The header of a window that began at `start` (unix ms `start_ms`) and ends now.
fn window_header(options: &RecordOptions, start_ms: f64, start: Instant, end_reason: EndReason) -> Profile {
    Profile {
        pid: 0,
        python_version: String::new(),
        start_time_ms: start_ms,
        duration_secs: start.elapsed().as_secs_f64(),
        interval_secs: options.interval.as_secs_f64(),
        ticks: 0,
        missed: 0,
        gil_idle_ticks: 0,
        errors: 0,
        error_kinds: Default::default(),
        native_failures: 0,
        subprocesses: false,
        frames: Vec::new(),
        stacks: Vec::new(),
        threads: Vec::new(),
        entries: Vec::new(),
        processes: Vec::new(),
        timeline: None,
        end_reason,
    }
}

/// The options of a fleet recording: no root process, no end, never pausing the targets
/// (every process attached later is read the same way). Python's thread names are read (a
/// caller that does not show them turns `thread_names` off).
pub fn fleet_options(interval: Duration, discover: DiscoverOptions) -> RecordOptions {
    RecordOptions {
        pid: 0,
        duration: None,
        interval,
        schedule: clock::Schedule::Poisson,
        max_samples: None,
        blocking: false,
        native: false,
        subprocesses: false,
        subprocess_wait: Duration::ZERO,
        timeline: false,
        discover,
        require_gil: false,
        asyncio: None,
        thread_names: true,
    }
}

/// Records until `control.stop`; each drain request is answered with the window since the
/// previous one, and the returned profile is the last window.
pub fn record_fleet(options: &RecordOptions, control: &FleetControl) -> Result<Profile> {
    let result = record_until_stopped(options, control);
    control.stats.finished.store(true, Ordering::SeqCst);
    let _guard = control.stats.drained.lock();
    control.stats.drained_ready.notify_all();
    result
}

fn record_until_stopped(options: &RecordOptions, control: &FleetControl) -> Result<Profile> {
    options.validate()?;
    let stats = &control.stats;
    let mut set = ProcessSet::without_root(options);
    let start = Instant::now();
    let mut clock = clock::Ticker::new(start, options.interval, options.schedule);
    let mut window_start = start;
    let mut window_start_ms = unix_ms();
    let mut taken: u64 = 0;
    while !control.stop.load(Ordering::Relaxed) {
        for attached in std::mem::take(&mut *lock(&control.joining)) {
            set.insert(attached);
        }
        for pid in std::mem::take(&mut *lock(&control.leaving)) {
            set.retire(pid);
        }
        let time_us = start.elapsed().as_micros() as u64;
        set.sample_all(time_us, stats)?;
        taken += 1;
        stats.ticks.store(taken, Ordering::Relaxed);
        if stats.drain_requested.swap(false, Ordering::SeqCst) {
            let window = set.drain_window(window_header(options, window_start_ms, window_start, EndReason::Duration));
            lock(&control.exited).extend(set.remove_exited());
            window_start = Instant::now();
            window_start_ms = unix_ms();
            *lock(&stats.drained) = Some(window);
            stats.drained_ready.notify_all();
        }
        let missed = clock.wait_next(&control.stop, None);
        if missed > 0 {
            stats.missed.fetch_add(missed, Ordering::Relaxed);
        }
    }
    let last = set.finish(window_header(options, window_start_ms, window_start, EndReason::Stopped));
    Ok(last)
}
