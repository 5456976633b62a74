//! The agent's shortcut for a process that has not run since its last sample (a gunicorn
//! worker blocked in accept/select): nothing in its memory can have changed, so its stacks,
//! GIL holder and idle verdicts are the last sample's, counted again without a walk.
//!
//! "Has not run" is read from each thread's scheduler counters (`run_counters.rs`): CPU time
//! and switches onto a CPU. A thread on a CPU may show unchanged counters between two
//! looks (the time is charged at ticks and switches), so the shortcut only applies when the
//! last full sample found every thread off the CPU, read in this order: counters, then the
//! stacks, then each thread's state. A thread off the CPU at its state read whose counters
//! have not moved since the earlier counter read was off the CPU all along (leaving the CPU
//! would have charged time; coming back would count a switch), so the walk saw the stacks
//! that still hold.
//!
//! Cheaper first: one read of the process's CPU clock (`process_clock.rs`). Unchanged since
//! the read before the last full sample means no thread ran at all since then, the same
//! verdict as every thread's counters unchanged, for one syscall instead of one `schedstat`
//! per thread. Not used while the process may have a CPU timer armed (its clock then lags
//! a thread on the CPU); a changed clock falls back to the per-thread counters, which the
//! walk needs anyway for its still threads.

use crate::process::process_clock::{CpuTimerCheck, ProcessClock};
use crate::process::run_counters::{RunCounters, RunCountersFile};
use crate::profile::aggregate::EntryKey;
use std::collections::HashMap;

#[derive(Default)]
pub struct QuietCheck {
    files: HashMap<i32, RunCountersFile>,
    /// Counters of every thread (by tid, sorted) read just before the last full sample.
    baseline: Vec<(i32, RunCounters)>,
    /// The last full sample found every thread off the CPU, without the GIL and read cleanly.
    reusable: bool,
    /// This tick's reading, kept as the next baseline when a full sample follows.
    now: Vec<(i32, RunCounters)>,
    /// What the last full sample counted, when `reusable`.
    counted: Vec<EntryKey>,
    /// The process's CPU clock: one read per tick says "no thread ran" (`process_clock.rs`).
    clock: Option<ProcessClock>,
    timer_check: Option<CpuTimerCheck>,
    clock_opened: bool,
    /// No process CPU timer seen armed (then the clock counts a running thread), and when
    /// that was last looked at (again each second: a timer can be armed later).
    clock_trusted: bool,
    trust_checked_at: Option<std::time::Instant>,
    /// The clock read with `baseline` and with `now`.
    clock_baseline: Option<u64>,
    clock_now: Option<u64>,
}

impl QuietCheck {
    /// Reads every thread's counters (`tids`: the process's threads, sorted). True when the
    /// last full sample may be counted again; otherwise the caller samples and then calls
    /// `sampled`.
    pub fn unchanged(&mut self, pid: i32, tids: &[i32]) -> bool {
        if !self.clock_opened {
            self.clock_opened = true;
            self.clock = ProcessClock::open(pid);
            self.timer_check = Some(CpuTimerCheck::open(pid));
        }
        if self.trust_checked_at.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1)) {
            self.trust_checked_at = Some(std::time::Instant::now());
            let trusted = !self.timer_check.as_mut().is_none_or(CpuTimerCheck::may_have_cpu_timer);
            if trusted != self.clock_trusted {
                self.clock_trusted = trusted;
                self.clock_baseline = None;
            }
        }
        self.clock_now = if self.clock_trusted { self.clock.as_ref().and_then(ProcessClock::read) } else { None };
        if self.reusable && self.clock_now.is_some() && self.clock_now == self.clock_baseline {
            // No thread used any CPU since the counters before the last full sample.
            return true;
        }
        self.files.retain(|tid, _| tids.binary_search(tid).is_ok());
        self.now.clear();
        let mut complete = true;
        for &tid in tids {
            let file = match self.files.entry(tid) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => match RunCountersFile::open(pid, tid) {
                    Ok(f) => e.insert(f),
                    Err(_) => {
                        complete = false;
                        continue;
                    }
                },
            };
            match file.read() {
                Some(c) => self.now.push((tid, c)),
                None => complete = false,
            }
        }
        if !complete {
            // A thread we cannot read: never take the shortcut on partial knowledge.
            self.now.clear();
        }
        self.reusable && !self.now.is_empty() && self.now == self.baseline
    }

    /// Whether thread `tid` has not run since this tick's `unchanged` read its counters (read
    /// again now). With the thread found off the CPU in between (its state, read by the
    /// caller), it was off the CPU all along, so what was read of it meanwhile is one moment.
    pub fn still_since_read(&self, tid: i32) -> bool {
        let Ok(i) = self.now.binary_search_by_key(&tid, |&(t, _)| t) else { return false };
        self.files.get(&tid).and_then(RunCountersFile::read) == Some(self.now[i].1)
    }

    /// After a full sample that counted `counted`: whether it may be counted again while
    /// nothing runs (every thread off the CPU, none holding the GIL, no read error), against
    /// this tick's counters.
    pub fn sampled(&mut self, reusable: bool, counted: &[EntryKey]) {
        std::mem::swap(&mut self.baseline, &mut self.now);
        self.clock_baseline = self.clock_now;
        self.reusable = reusable && !self.baseline.is_empty();
        self.counted.clear();
        if self.reusable {
            self.counted.extend_from_slice(counted);
        }
    }

    /// What the last full sample counted (to count again when `unchanged`).
    pub fn counted(&self) -> &[EntryKey] {
        &self.counted
    }

    /// Forget the last sample (e.g. the thread list changed under it).
    pub fn reset(&mut self) {
        self.reusable = false;
        self.baseline.clear();
        self.clock_baseline = None;
    }
}
