//! Without a GIL, the default view counts the threads that were on a CPU at each sample, and
//! how much CPU time each one used.
//!
//! The kernel's R state is not "on a CPU": it also holds threads waiting on a run queue for
//! one. On a machine with more runnable threads than cores, counting R threads gives each its
//! run-queue time instead of its CPU time, and misplaces it inside the thread: a waiting
//! thread sits where it was preempted, and preemption comes when the scheduler notices an
//! expired time slice, at a tick or at the thread's next system call, so long calls and the
//! code right after system calls collect the waits. (3.13t threads timing their own work with
//! `time.thread_time`, 2 and 4 of them on 2 busy cores: their heavy/light splits were 10–17 pp
//! off with R samples, whatever CPU-time weights the samples got.)
//!
//! So two sources, each used for what it gets right:
//! - Where a thread spends its CPU time: the samples that found it on a CPU at the sampling
//!   instant (`process/on_cpu.rs`): on one now (switched on once more than off), or switched
//!   off at the very clock reading the sampler was switched on, the sampler having got its CPU
//!   as soon as its timer woke it (it displaced that thread). Those instants are the timer's,
//!   unrelated to the thread's code, so such samples are spread like its CPU time. Counting
//!   the displaced matters on few cores: the sampler runs on one of them when it looks, so
//!   without them a thread sharing the sampler's core is almost never seen (4 s in a row for
//!   one of two threads on 2 busy cores). R samples that found a thread waiting count as
//!   `(idle)`, like a sleeping thread's.
//!   Such a sample counts only if the thread stayed put until its stack was read (`stayed`:
//!   its switch-on count unchanged since the look), so the stack is the one at the look.
//! - How much CPU time: the scheduler's count (`schedstat`). Samples alone would get it wrong
//!   where the sampler itself waits for a CPU (it then sees only the other cores).
//!
//! Per thread, a window's CPU time divided by the mean time between this process's samples in
//! the window is the number of samples a sampler with a CPU of its own would have found it
//! running; that number is shared equally by the thread's on-CPU samples of the window
//! (`Entry::cpu_count`, rounded to whole samples at the end with each thread's total kept).
//! Windows last `WINDOW`; a thread's CPU time waits until it has `MIN_SEEN` on-CPU samples (or
//! a drain or the end), so that a few samples never carry much time each. The scheduler
//! charges a running thread's time at ticks (4 ms at 250 Hz) and switches, so a window's
//! count may lag by a tick, which the next window gets. The `--threads` view keeps counting
//! every sample once (a waiting thread's as idle).
//!
//! The price: on a busy machine few samples find a thread on a CPU (it is seldom on one), so a
//! split inside a thread needs a longer recording for a given precision; and each look reads
//! two more small files per R thread (sleeping threads cost nothing more).

use crate::process::on_cpu::{Look, OnCpuFiles};
use crate::profile::aggregate::EntryKey;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_millis(200);
/// A thread's CPU time is shared out once it has this many on-CPU samples (or at a drain or
/// the end): a few samples carrying a lot of CPU time each would make a noisy split.
pub const MIN_SEEN: usize = 200;

struct ThreadWindow {
    files: Option<OnCpuFiles>,
    /// Charged CPU ns at the window's start.
    cpu_ns: Option<u64>,
    /// Entries of the window's samples that found the thread on a CPU.
    seen: Vec<EntryKey>,
    /// Samples' worth of CPU time not given to a sample yet.
    credit: f64,
    /// Switches onto a CPU counted at the last look (`on_cpu`), to tell whether the thread
    /// stayed put while its stack was read (`stayed`).
    looked_on: Option<u64>,
}

/// One process's threads: who is on a CPU, and the CPU weights of their samples.
pub struct OnCpuCheck {
    pid: i32,
    threads: HashMap<i32, ThreadWindow>,
    started: Instant,
    /// Samples of the process in the current window.
    ticks: u32,
}

impl OnCpuCheck {
    /// None when the kernel keeps no per-thread scheduler statistics (R state is then all
    /// there is).
    pub fn new(pid: i32) -> Option<OnCpuCheck> {
        OnCpuFiles::open(pid, pid).ok()?;
        Some(OnCpuCheck { pid, threads: HashMap::new(), started: Instant::now(), ticks: 0 })
    }

    /// Opens the files of new threads; threads that are gone are forgotten (tids are reused),
    /// their last on-CPU samples weighed with the CPU time known so far (`add`).
    pub fn refresh(&mut self, tids: &[i32], mut add: impl FnMut(EntryKey, f64)) {
        self.threads.retain(|tid, w| {
            let alive = tids.binary_search(tid).is_ok();
            if !alive && !w.seen.is_empty() {
                let each = 1.0 + w.credit / w.seen.len() as f64;
                w.seen.drain(..).for_each(|key| add(key, each));
            }
            alive
        });
        for &tid in tids {
            let pid = self.pid;
            self.threads.entry(tid).or_insert_with(|| {
                let files = OnCpuFiles::open(pid, tid).ok();
                let cpu_ns = files.as_ref().and_then(|f| f.cpu_ns());
                ThreadWindow { files, cpu_ns, seen: Vec::new(), credit: 0.0, looked_on: None }
            });
        }
    }

    /// Whether a thread in R state was on a CPU at the sampling instant: on one now, or
    /// switched off at `sampler_on`, the moment the sampler, woken without waiting, took its
    /// CPU (None: unknown, e.g. its files could not be opened).
    pub fn on_cpu(&mut self, tid: i32, sampler_on: Option<u64>) -> Option<bool> {
        let w = self.threads.get_mut(&tid)?;
        w.looked_on = None;
        let (look, on) = w.files.as_mut()?.look()?;
        w.looked_on = Some(on);
        Some(match look {
            Look::OnCpu => true,
            Look::Waiting(off_at) => off_at.is_some() && off_at == sampler_on,
        })
    }

    /// Whether a thread found on a CPU by `on_cpu` stayed where it was until now (after its
    /// stack was read): not switched onto a CPU again since. A thread that left its CPU and
    /// came back, or a displaced one that got a CPU again, was read somewhere else than where
    /// it was found: such a stack tells nothing about the sampling instant.
    pub fn stayed(&self, tid: i32) -> bool {
        let Some(w) = self.threads.get(&tid) else { return false };
        let now = w.files.as_ref().and_then(|f| f.switched_on());
        now.is_some() && now == w.looked_on
    }

    /// Whether the thread's on-CPU samples can be weighed (its CPU time is known).
    pub fn weighs(&self, tid: i32) -> bool {
        self.threads.get(&tid).is_some_and(|w| w.cpu_ns.is_some())
    }

    /// One sample of the process was taken, whatever its threads' states.
    pub fn tick(&mut self) {
        self.ticks += 1;
    }

    /// A sample found the thread on a CPU and was counted under `key`.
    pub fn seen(&mut self, tid: i32, key: EntryKey) {
        if let Some(w) = self.threads.get_mut(&tid) {
            w.seen.push(key);
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        now.duration_since(self.started) >= WINDOW
    }

    /// Ends the window: gives each thread's on-CPU samples their share of its CPU time, once
    /// there are `MIN_SEEN` of them, or in any case when `last` (a drain or the end).
    pub fn close(&mut self, now: Instant, last: bool, mut add: impl FnMut(EntryKey, f64)) {
        let interval_ns = now.duration_since(self.started).as_nanos() as f64 / self.ticks.max(1) as f64;
        for w in self.threads.values_mut() {
            let cpu_now = w.files.as_ref().and_then(|f| f.cpu_ns());
            weigh_window(w, cpu_now, interval_ns, if last { 1 } else { MIN_SEEN }, &mut add);
        }
        self.started = now;
        self.ticks = 0;
    }
}

fn weigh_window(w: &mut ThreadWindow, cpu_now: Option<u64>, interval_ns: f64, min_seen: usize, add: &mut impl FnMut(EntryKey, f64)) {
    let (Some(before), Some(after)) = (w.cpu_ns, cpu_now) else {
        // CPU time unknown (thread gone between looks): each on-CPU sample counts once.
        w.seen.drain(..).for_each(|key| add(key, 1.0));
        w.cpu_ns = w.cpu_ns.or(cpu_now);
        return;
    };
    w.cpu_ns = Some(after);
    w.credit += after.saturating_sub(before) as f64 / interval_ns;
    if w.seen.is_empty() || w.seen.len() < min_seen {
        return;
    }
    let each = w.credit / w.seen.len() as f64;
    w.seen.drain(..).for_each(|key| add(key, each));
    w.credit = 0.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(cpu_ns: u64) -> ThreadWindow {
        ThreadWindow { files: None, cpu_ns: Some(cpu_ns), seen: Vec::new(), credit: 0.0, looked_on: None }
    }

    fn key(stack: u32) -> EntryKey {
        (stack, 0, false, false)
    }

    #[test]
    fn a_window_shares_its_cpu_time_among_its_on_cpu_samples() {
        let mut w = window(1_000_000);
        w.seen.extend([key(1), key(1), key(2), key(3)]);
        let mut got: HashMap<EntryKey, f64> = HashMap::new();
        // 60 ms of CPU at 1 ms between samples: 60 samples' worth, 15 each.
        weigh_window(&mut w, Some(61_000_000), 1_000_000.0, 1, &mut |k, x| *got.entry(k).or_default() += x);
        assert_eq!(got[&key(1)], 30.0);
        assert_eq!(got[&key(2)], 15.0);
        assert_eq!(got[&key(3)], 15.0);
        assert!(w.seen.is_empty() && w.credit == 0.0);
    }

    #[test]
    fn cpu_time_of_a_window_without_on_cpu_samples_goes_to_the_next() {
        let mut w = window(0);
        let mut got = Vec::new();
        weigh_window(&mut w, Some(20_000_000), 1_000_000.0, 1, &mut |k, x| got.push((k, x)));
        assert!(got.is_empty());
        w.seen.push(key(5));
        weigh_window(&mut w, Some(30_000_000), 1_000_000.0, 1, &mut |k, x| got.push((k, x)));
        assert_eq!(got, vec![(key(5), 30.0)]);
    }

    #[test]
    fn cpu_time_waits_for_enough_samples() {
        let mut w = window(0);
        let mut got = Vec::new();
        w.seen.extend([key(1), key(2)]);
        weigh_window(&mut w, Some(10_000_000), 1_000_000.0, 3, &mut |k, x| got.push((k, x)));
        assert!(got.is_empty());
        w.seen.push(key(3));
        weigh_window(&mut w, Some(12_000_000), 1_000_000.0, 3, &mut |k, x| got.push((k, x)));
        assert_eq!(got, vec![(key(1), 4.0), (key(2), 4.0), (key(3), 4.0)]);
    }

    #[test]
    fn unknown_cpu_time_counts_each_sample_once() {
        let mut w = window(0);
        w.seen.push(key(2));
        let mut got = Vec::new();
        weigh_window(&mut w, None, 1_000_000.0, 1, &mut |k, x| got.push((k, x)));
        assert_eq!(got, vec![(key(2), 1.0)]);
    }
}
