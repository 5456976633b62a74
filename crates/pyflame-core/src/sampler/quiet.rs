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
}

impl QuietCheck {
    /// Reads every thread's counters (`tids`: the process's threads, sorted). True when the
    /// last full sample may be counted again; otherwise the caller samples and then calls
    /// `sampled`.
    pub fn unchanged(&mut self, pid: i32, tids: &[i32]) -> bool {
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
    }
}
