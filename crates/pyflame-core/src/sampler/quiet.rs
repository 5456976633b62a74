//! The agent's shortcut for a process that has not run since its last sample (a gunicorn
//! worker blocked in accept/select): nothing in its memory can have changed, so its stacks,
//! GIL holder and idle verdicts are the last sample's, counted again without a walk.
//!
//! "Has not run" is asked of each thread's switch log (`process/switch_log.rs`: a memory read,
//! moved by every switch onto or off a CPU) or, where perf events are refused, of its
//! scheduler counters (`run_counters.rs`: one `pread`; CPU time and switches onto a CPU). The
//! shortcut only applies when the last full sample found every thread off the CPU, read in
//! this order: the readings, then the stacks, then each thread's state. A thread off the CPU
//! at its state read whose reading has not moved since the earlier one was off the CPU all
//! along (leaving the CPU moves both, coming back moves both), so the walk saw the stacks
//! that still hold, and they hold for as long as the reading stays.
//!
//! Not the process's CPU clock, though it is one syscall for all threads: the kernel charges a
//! running thread's time only at scheduler ticks and switches, so a worker woken within the
//! last tick (up to 4 ms at 250 Hz) reads as unchanged while it runs. Used that way it hid
//! about half of the running samples of 2 ms bursts (`tests/fleet.rs`).

use crate::process::run_counters::{RunCounters, RunCountersFile};
use crate::process::switch_log::{Look, Placement, SwitchLog};
use crate::profile::aggregate::EntryKey;

/// How a thread's runs are watched.
enum Watch {
    Switches(SwitchLog),
    Counters(RunCountersFile),
}

/// One reading of a thread's watch: equal readings mean it did not run in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    Switches(Look),
    Counters(RunCounters),
}

impl Reading {
    /// Switches onto a CPU so far, counted from when the watch was opened (a switch log
    /// holds one 8-byte record per switch in and per switch out, written backwards).
    fn switches_in(&self) -> u64 {
        match self {
            Reading::Switches(look) => look.head.wrapping_neg() / 16,
            Reading::Counters((_, switches)) => *switches,
        }
    }
}

/// A thread switched onto a CPU more often than this per second is watched with `schedstat`
/// instead: logging costs the target about 1.5 us per switch on this kind of VM (two threads
/// ping-ponging through pipes ran 1.32x slower with their switches logged), and a thread that
/// runs between most ticks is walked on most ticks anyway, so its log would save nothing.
const BUSY_SWITCHES_PER_SEC: u64 = 200;
/// ... and is logged again once it has calmed down below this.
const CALM_SWITCHES_PER_SEC: u64 = 50;
/// How often each thread's pace is judged.
const PACE_WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

impl Watch {
    /// `switch_logs` is cleared when the kernel refuses one for a reason other than the
    /// thread being gone (permissions, seccomp, no perf events, the agent's limit).
    fn open(pid: i32, tid: i32, switch_logs: &mut bool) -> std::io::Result<Watch> {
        if *switch_logs {
            match SwitchLog::open(tid) {
                Ok(log) => return Ok(Watch::Switches(log)),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(e),
                Err(e) => {
                    crate::process::switch_log::note_refusal(&e);
                    *switch_logs = false;
                }
            }
        }
        RunCountersFile::open(pid, tid).map(Watch::Counters)
    }

    fn read(&self) -> Option<Reading> {
        match self {
            Watch::Switches(log) => log.look().map(Reading::Switches),
            Watch::Counters(file) => file.read().map(Reading::Counters),
        }
    }
}

/// One thread's watch, with what judging it needs between looks.
struct Watched {
    tid: i32,
    watch: Watch,
    /// Its switches onto a CPU when the current pace window began (None: not yet read).
    pace_start: Option<u64>,
    /// Its switch log's head at the previous look.
    last_head: Option<u64>,
}

pub struct QuietCheck {
    /// Every thread's watch, sorted by tid (the process's thread list, kept in step with it).
    watches: Vec<Watched>,
    pace_window_start: Option<std::time::Instant>,
    /// A switch log showed a thread started or ended (or lost its older records) since the
    /// thread list was last read: the list may be stale until `threads_listed`.
    threads_may_have_changed: bool,
    /// The threads (aggregator ids) of the last full sample, and the tids it was taken with.
    sampled_threads: Vec<u32>,
    sampled_tids: Vec<i32>,
    /// Switch logs are tried for new threads until the kernel refuses one.
    switch_logs: bool,
    /// Readings of every thread (by tid, sorted) taken just before the last full sample.
    baseline: Vec<(i32, Reading)>,
    /// The last full sample found every thread off the CPU, without the GIL and read cleanly.
    reusable: bool,
    /// This tick's readings, kept as the next baseline when a full sample follows.
    now: Vec<(i32, Reading)>,
    /// What the last full sample counted, when `reusable`.
    counted: Vec<EntryKey>,
}

impl Default for QuietCheck {
    fn default() -> QuietCheck {
        QuietCheck { watches: Vec::new(), pace_window_start: None, threads_may_have_changed: false, sampled_threads: Vec::new(), sampled_tids: Vec::new(), switch_logs: true, baseline: Vec::new(), reusable: false, now: Vec::new(), counted: Vec::new() }
    }
}

impl QuietCheck {
    /// A check that never opens switch logs (the `schedstat` fallback on its own).
    pub fn with_counters_only() -> QuietCheck {
        QuietCheck { switch_logs: false, ..QuietCheck::default() }
    }

    /// Reads every thread's watch (`tids`: the process's threads, sorted). True when the last
    /// full sample may be counted again; otherwise the caller samples and then calls `sampled`.
    pub fn unchanged(&mut self, pid: i32, tids: &[i32]) -> bool {
        if self.watches.len() != tids.len() || self.watches.iter().zip(tids).any(|(watched, tid)| watched.tid != *tid) {
            self.rewatch(pid, tids);
        }
        self.now.clear();
        let mut complete = self.watches.len() == tids.len();
        for watched in &mut self.watches {
            let Some(reading) = watched.watch.read() else {
                complete = false;
                continue;
            };
            // A thread started or ended since the previous look (a task record among the
            // switches) may leave the thread list stale.
            if let (Watch::Switches(log), Reading::Switches(look)) = (&watched.watch, &reading) {
                if watched.last_head.is_some_and(|before| before != look.head && !log.only_switches_between(look.head, before)) {
                    self.threads_may_have_changed = true;
                }
                watched.last_head = Some(look.head);
            }
            self.now.push((watched.tid, reading));
        }
        if complete && self.pace_window_start.is_none_or(|t| t.elapsed() >= PACE_WINDOW) && self.judge_pace(pid) {
            // A thread changed how it is watched: its reading is not comparable this tick.
            complete = false;
        }
        if !complete {
            // A thread we cannot read: never take the shortcut on partial knowledge.
            self.now.clear();
        }
        self.reusable && !self.now.is_empty() && self.now == self.baseline
    }

    /// The thread list was read again (`tasks::list_tasks`).
    pub fn threads_listed(&mut self) {
        self.threads_may_have_changed = false;
    }

    /// A thread may have started or ended since the thread list was read.
    pub fn threads_may_have_changed(&self) -> bool {
        self.threads_may_have_changed
    }

    /// After `unchanged` said no: whether every thread is asleep now by its switch log (not
    /// on a CPU, not waiting for one) with the same threads as the last full sample. Then no
    /// thread runs unless one sleeps holding the GIL, which the caller reads; if none does,
    /// the tick is idle for every thread whatever their stacks (`count_unread_idle`).
    pub fn all_asleep(&self) -> bool {
        !self.threads_may_have_changed
            && !self.now.is_empty()
            && !self.sampled_threads.is_empty()
            && self.now.len() == self.sampled_tids.len()
            && self.now.iter().zip(&self.sampled_tids).all(|((tid, reading), sampled)| {
                tid == sampled && matches!(reading, Reading::Switches(Look { placement: Placement::Asleep, .. }))
            })
    }

    /// The keys of an unread idle tick: each thread of the last full sample, idle, with the
    /// frameless stack `unread` (the agent sends only what ran, so idle stacks are never
    /// shown). They become the last sample: counted again while nothing switches.
    pub fn count_unread_idle(&mut self, unread: u32) -> &[EntryKey] {
        let keys: Vec<EntryKey> = self.sampled_threads.iter().map(|&thread| (unread, thread, false, true)).collect();
        std::mem::swap(&mut self.baseline, &mut self.now);
        self.reusable = true;
        self.counted = keys;
        &self.counted
    }

    /// Once per window: a logged thread that switches often is watched by `schedstat` from now
    /// on, and one watched so because it was busy is logged again once calm. True if any
    /// watch changed. Reads `now` (this tick's readings, one per watch).
    fn judge_pace(&mut self, pid: i32) -> bool {
        let elapsed = self.pace_window_start.map(|t| t.elapsed().as_secs_f64());
        self.pace_window_start = Some(std::time::Instant::now());
        let mut changed = false;
        for (watched, (_, reading)) in self.watches.iter_mut().zip(&self.now) {
            let so_far = reading.switches_in();
            let per_sec = match (elapsed, watched.pace_start) {
                (Some(secs), Some(start)) if secs > 0.0 => so_far.saturating_sub(start) as f64 / secs,
                _ => {
                    watched.pace_start = Some(so_far);
                    continue;
                }
            };
            let tid = watched.tid;
            let replacement = match watched.watch {
                Watch::Switches(_) if per_sec > BUSY_SWITCHES_PER_SEC as f64 => RunCountersFile::open(pid, tid).ok().map(Watch::Counters),
                Watch::Counters(_) if self.switch_logs && per_sec < CALM_SWITCHES_PER_SEC as f64 => SwitchLog::open(tid).ok().map(Watch::Switches),
                _ => None,
            };
            match replacement {
                Some(new) => {
                    // Counted afresh from the new watch's next reading.
                    *watched = Watched { tid, watch: new, pace_start: None, last_head: None };
                    changed = true;
                }
                None => watched.pace_start = Some(so_far),
            }
        }
        changed
    }

    /// Follows a new thread list: watches of threads still there are kept, new ones opened
    /// (a thread that cannot be watched is left out, which makes the list incomplete).
    fn rewatch(&mut self, pid: i32, tids: &[i32]) {
        let mut old = std::mem::take(&mut self.watches).into_iter().peekable();
        for &tid in tids {
            while old.next_if(|watched| watched.tid < tid).is_some() {}
            if let Some(kept) = old.next_if(|watched| watched.tid == tid) {
                self.watches.push(kept);
            } else if let Ok(watch) = Watch::open(pid, tid, &mut self.switch_logs) {
                self.watches.push(Watched { tid, watch, pace_start: None, last_head: None });
            }
        }
    }

    fn watch(&self, tid: i32) -> Option<&Watch> {
        let i = self.watches.binary_search_by_key(&tid, |watched| watched.tid).ok()?;
        Some(&self.watches[i].watch)
    }

    /// Thread `tid` now, read from its switch log: its state (`S` asleep, `R` on a CPU or
    /// waiting for one) and whether it has not run since this tick's `unchanged` (off the CPU
    /// and no switch since, so what was read of it meanwhile is one moment). None when the
    /// thread has no switch log or it has logged nothing yet: the caller reads `stat`.
    pub fn seen_again(&self, tid: i32) -> Option<(u8, bool)> {
        let Some(Watch::Switches(log)) = self.watch(tid) else { return None };
        let look = log.look()?;
        let state = match look.placement {
            Placement::Unknown => return None,
            Placement::Asleep => b'S',
            Placement::OnCpu | Placement::Preempted => b'R',
        };
        Some((state, look.placement.off_cpu() && self.reading_before(tid) == Some(Reading::Switches(look))))
    }

    fn reading_before(&self, tid: i32) -> Option<Reading> {
        let i = self.now.binary_search_by_key(&tid, |&(t, _)| t).ok()?;
        Some(self.now[i].1)
    }

    /// Whether thread `tid` has not run since this tick's `unchanged` read it (read again now).
    /// With the thread found off the CPU in between (its state, read by the caller), it was off
    /// the CPU all along, so what was read of it meanwhile is one moment.
    pub fn still_since_read(&self, tid: i32) -> bool {
        let Some(before) = self.reading_before(tid) else { return false };
        self.watch(tid).and_then(Watch::read) == Some(before)
    }

    /// After a full sample that counted `counted`: whether it may be counted again while
    /// nothing runs (every thread off the CPU, none holding the GIL, no read error), against
    /// this tick's readings.
    pub fn sampled(&mut self, reusable: bool, counted: &[EntryKey]) {
        self.sampled_threads.clear();
        self.sampled_threads.extend(counted.iter().map(|&(_, thread, _, _)| thread));
        self.sampled_threads.sort_unstable();
        self.sampled_threads.dedup();
        self.sampled_tids.clear();
        self.sampled_tids.extend(self.now.iter().map(|&(tid, _)| tid));
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
        self.sampled_threads.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn thread_with(work: impl Fn() + Send + 'static) -> (i32, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                tx.send(unsafe { libc::syscall(libc::SYS_gettid) } as i32).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    work();
                }
            })
        };
        (rx.recv().unwrap(), stop, handle)
    }

    #[test]
    fn a_thread_that_switches_often_is_watched_with_schedstat_and_a_calm_one_stays_logged() {
        let pid = std::process::id() as i32;
        // ~1000 switches a second, and ~10.
        let (busy, stop_busy, busy_thread) = thread_with(|| std::thread::sleep(Duration::from_micros(500)));
        let (calm, stop_calm, calm_thread) = thread_with(|| std::thread::sleep(Duration::from_millis(100)));
        let mut tids = vec![busy, calm];
        tids.sort_unstable();
        let mut check = QuietCheck::default();
        let end = Instant::now() + Duration::from_millis(2300);
        while Instant::now() < end {
            check.unchanged(pid, &tids);
            std::thread::sleep(Duration::from_millis(10));
        }
        let logged = |tid: i32| matches!(check.watch(tid), Some(Watch::Switches(_)));
        let switch_logs_work = check.switch_logs;
        stop_busy.store(true, Ordering::Relaxed);
        stop_calm.store(true, Ordering::Relaxed);
        busy_thread.join().unwrap();
        calm_thread.join().unwrap();
        if !switch_logs_work {
            eprintln!("note: perf events refused here; every thread is watched with schedstat");
            return;
        }
        assert!(!logged(busy), "a thread switching ~1000 times a second is not logged");
        assert!(logged(calm), "a thread switching ~10 times a second is logged");
    }
}
