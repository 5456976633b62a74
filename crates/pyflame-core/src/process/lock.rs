//! Blocking mode: pause every thread of the target around a sample, for exact stacks.
//!
//! Threads are seized once (`PTRACE_SEIZE` does not stop them) and, per sample, interrupted,
//! waited for and continued. Detaching happens in `Drop`, and the kernel also detaches and
//! resumes every tracee if this process dies, so a target is never left stopped.
//! ptrace binds tracees to the *thread* that seized them: create, use and drop a
//! `ProcessLock` on one OS thread (the sampler thread).
//!
//! The tracer sleeps in `waitpid` until each stop arrives, woken every few ms by a
//! `StopTimer` to recheck its deadline: polling instead made stops land late, at the target's
//! next system call (see `stop_timer.rs`). Without a timer it polls.
//!
//! The target must not notice us beyond the pause itself:
//! - a signal that arrives while a thread is traced shows up here as a signal-delivery
//!   stop; it is passed on (continuing with it), never swallowed — a SIGTERM sent to the
//!   target during a blocking recording still terminates it;
//! - a thread that a job-control signal (SIGSTOP, SIGTSTP...) stopped stays stopped:
//!   it is not interrupted, nor continued by us;
//! - threads that exit are reaped here (as their tracer we must), so none lingers as a
//!   zombie in the target's thread list.
//!
//! Only SEIZE, INTERRUPT, CONT and DETACH are used: no register or memory writes.

use super::stop_timer::StopTimer;
use super::tasks::{list_tasks, parse_stat_ppid, parse_stat_state};
use crate::error::{from_errno, Result};
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Stops to wait through, per thread and sample, before giving up on that thread: each
/// is a signal passed on to the target, so the bound only matters under a signal storm.
const MAX_SIGNAL_STOPS: usize = 64;

pub struct ProcessLock {
    pid: i32,
    seized: Vec<i32>,
    /// Threads that reported a job-control stop (SIGSTOP, Ctrl-Z) and were left in it: they
    /// report it once, so a later pause finds them by their state instead of waiting.
    job_stopped: Vec<i32>,
    /// Seized threads found to be zombies (a main thread that ended with `pthread_exit`):
    /// they never report a stop, so later pauses do not wait for them again.
    zombies: Vec<i32>,
    /// Bounds the blocking waits for stops; None: poll instead.
    timer: Option<StopTimer>,
}

impl ProcessLock {
    /// Seizes every current thread of `pid`; threads are not stopped yet.
    pub fn seize(pid: i32) -> Result<ProcessLock> {
        refuse_own_child(pid)?;
        let mut lock = ProcessLock { pid, seized: Vec::new(), job_stopped: Vec::new(), zombies: Vec::new(), timer: StopTimer::for_this_thread() };
        lock.seize_new_threads()?;
        Ok(lock)
    }

    fn seize_new_threads(&mut self) -> Result<()> {
        let tids = list_tasks(self.pid).map_err(|e| crate::error::from_io(self.pid, &e, "listing the threads of"))?;
        self.seize_listed(&tids)
    }

    /// Seizes the threads of `tids` (sorted) not seized yet.
    fn seize_listed(&mut self, tids: &[i32]) -> Result<()> {
        // A thread gone from the list was reaped (by `wait_for_stop`) or never ours.
        self.seized.retain(|t| tids.binary_search(t).is_ok());
        self.zombies.retain(|t| tids.binary_search(t).is_ok());
        for &tid in tids {
            if self.seized.contains(&tid) {
                continue;
            }
            match ptrace::seize(Pid::from_raw(tid), ptrace::Options::empty()) {
                Ok(()) => self.seized.push(tid),
                // The thread ended between listing and seizing.
                Err(Errno::ESRCH) => {}
                // Already traced by us (an exec'ing thread took the leader's tid), or a zombie
                // (a main thread that ended with pthread_exit while others run): not ours to stop.
                Err(Errno::EPERM) if !self.seized.is_empty() || is_zombie(self.pid, tid) => {}
                Err(e) => return Err(from_errno(self.pid, e, "pausing (ptrace) the threads of")),
            }
        }
        Ok(())
    }

    /// Stops every thread and returns a guard that resumes them when dropped. A thread that
    /// does not reach its stop within 100 ms is skipped (see `PausedThreads::stopped`).
    pub fn pause(&mut self) -> Result<PausedThreads<'_>> {
        self.pause_waiting(STOP_DEADLINE)
    }

    /// `pause`, waiting up to `deadline` for each thread's stop (a one-shot `dump` can wait
    /// longer than a sample: a thread that is rarely scheduled, e.g. niced on a busy machine,
    /// may take more than 100 ms to stop).
    pub fn pause_waiting(&mut self, deadline: Duration) -> Result<PausedThreads<'_>> {
        self.seize_new_threads()?;
        Ok(self.stop_seized(deadline))
    }

    /// `pause` with the caller's thread list (host tids, sorted) instead of a fresh listing
    /// of `/proc/PID/task`: a sampler that keeps the list up to date (re-listing when the
    /// thread count changes) saves a directory listing per sample. A thread started since the
    /// list was read is not stopped, and reads as running (`PausedThreads::stopped`).
    pub fn pause_listed(&mut self, tids: &[i32]) -> Result<PausedThreads<'_>> {
        self.seize_listed(tids)?;
        Ok(self.stop_seized(STOP_DEADLINE))
    }

    fn stop_seized(&mut self, deadline: Duration) -> PausedThreads<'_> {
        let mut stopped = Vec::with_capacity(self.seized.len());
        let mut frozen = Vec::with_capacity(stopped.len());
        // Still in the job-control stop it reported (else someone continued it meanwhile).
        let pid = self.pid;
        self.job_stopped.retain(|&tid| thread_state(pid, tid) == Some(b't'));
        let mut gone = Vec::new();
        for &tid in &self.seized {
            if self.job_stopped.contains(&tid) {
                frozen.push(tid);
            } else if self.zombies.contains(&tid) {
                continue;
            } else {
                match ptrace::interrupt(Pid::from_raw(tid)) {
                    Ok(()) => stopped.push(tid),
                    // Not (or no longer) our tracee: forget it, so that a new thread that
                    // reuses the tid is seized by the next listing.
                    Err(Errno::ESRCH) => gone.push(tid),
                    Err(_) => {}
                }
            }
        }
        let mut waited = Vec::with_capacity(stopped.len());
        // One arming for all the threads' waits (two syscalls per pause, not per thread).
        let armed = self.timer.as_ref().map(StopTimer::arm);
        for tid in stopped {
            match wait_for_stop(self.pid, tid, armed.is_some(), deadline) {
                Stop::Interrupted => {
                    waited.push(tid);
                    frozen.push(tid);
                }
                // A thread in a job-control stop is stopped anyway, and not ours to continue.
                Stop::JobControl => {
                    frozen.push(tid);
                    self.job_stopped.push(tid);
                }
                Stop::Gone => {}
                Stop::Exited => gone.push(tid),
                // (Or gone entirely: then forget it, as for an exit.)
                Stop::Zombie if thread_state(pid, tid).is_some() => self.zombies.push(tid),
                Stop::Zombie => gone.push(tid),
            }
        }
        drop(armed);
        if !gone.is_empty() {
            self.seized.retain(|t| !gone.contains(t));
        }
        frozen.sort_unstable();
        PausedThreads { stopped: waited, frozen, _lock: self }
    }
}

/// A process may not pause its own child: its child-process handling (Node's libuv reaps
/// children with `waitpid` on SIGCHLD) would consume the ptrace stops meant for us, take
/// them for an exit, and leave the child stopped while we wait. Refuse instead.
fn refuse_own_child(pid: i32) -> Result<()> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).unwrap_or_default();
    if parse_stat_ppid(&stat) == Some(std::process::id() as i32) {
        return Err(crate::error::Error::invalid(format!(
            "blocking mode cannot pause process {pid}: it is a child of this process, whose child handling would take the pauses for exits; sample it without blocking, or start it separately and attach with its PID"
        )));
    }
    Ok(())
}

/// What a thread we interrupted is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// In the stop our `PTRACE_INTERRUPT` asked for: continue it with no signal.
    Interrupted,
    /// In a job-control (group) stop: leave it stopped.
    JobControl,
    /// Not stopped in time, or no longer stoppable: left as it is for this sample.
    Gone,
    /// Exited (and reaped): no longer ours.
    Exited,
    /// A zombie (an ended main thread whose process lives on): it will never stop.
    Zombie,
}

/// How long one thread may take to reach its interrupt stop before it is skipped for this
/// sample (a thread in uninterruptible sleep stops only when it wakes up).
const STOP_DEADLINE: Duration = Duration::from_millis(100);

/// The same when releasing the target at the end: a thread that stopped after we gave up on it
/// would stay stopped until this process exits (it can only be detached stopped), so the end
/// of a recording waits longer for it.
const RELEASE_DEADLINE: Duration = Duration::from_secs(2);

/// Waits until `tid` reports the stop our interrupt asked for. Signal-delivery stops met on
/// the way are passed on to the thread (continued with their signal) and waited past.
/// `sleeping`: an armed `StopTimer` wakes the wait every few ms, so it sleeps in `waitpid`
/// and rechecks when woken; else it polls.
fn wait_for_stop(pid: i32, tid: i32, sleeping: bool, deadline: Duration) -> Stop {
    let thread = Pid::from_raw(tid);
    let mut signal_stops = 0;
    let started = Instant::now();
    let mut polls: u32 = 0;
    let flags = if sleeping { WaitPidFlag::__WALL } else { WaitPidFlag::__WALL | WaitPidFlag::WNOHANG };
    loop {
        match waitpid(thread, Some(flags)) {
            // Not stopped yet (polling), or woken by the timer.
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => {
                polls += 1;
                // A zombie never reports a stop: check once the stop is not immediate.
                if (sleeping || polls == 64) && is_zombie(pid, tid) {
                    return Stop::Zombie;
                }
                if started.elapsed() > deadline {
                    return Stop::Gone;
                }
                if sleeping {
                    continue;
                }
                if polls < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
            // PTRACE_EVENT_STOP: SIGTRAP for an interrupt, a stop signal for a group stop.
            Ok(WaitStatus::PtraceEvent(_, signal, event)) if event == libc::PTRACE_EVENT_STOP => {
                return if is_job_control(signal) { Stop::JobControl } else { Stop::Interrupted };
            }
            Ok(WaitStatus::PtraceEvent(..)) | Ok(WaitStatus::PtraceSyscall(..)) => return Stop::Interrupted,
            // A signal for the target arrived: deliver it, then wait for our interrupt stop.
            Ok(WaitStatus::Stopped(_, signal)) => {
                signal_stops += 1;
                if ptrace::cont(thread, Some(signal)).is_err() || signal_stops >= MAX_SIGNAL_STOPS {
                    // Gone, or receiving signals non-stop: leave it running this time.
                    return Stop::Gone;
                }
            }
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return Stop::Exited,
            Ok(_) => continue,
            Err(_) => return Stop::Gone,
        }
    }
}

fn thread_state(pid: i32, tid: i32) -> Option<u8> {
    std::fs::read(format!("/proc/{pid}/task/{tid}/stat")).ok().and_then(|stat| parse_stat_state(&stat))
}

fn is_zombie(pid: i32, tid: i32) -> bool {
    match std::fs::read(format!("/proc/{pid}/task/{tid}/stat")) {
        Ok(stat) => matches!(parse_stat_state(&stat), Some(b'Z') | Some(b'X')),
        Err(_) => true,
    }
}

fn is_job_control(signal: Signal) -> bool {
    matches!(signal, Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU)
}

/// Threads stopped for one sample; they run again when this is dropped.
pub struct PausedThreads<'a> {
    /// The threads we stopped, to continue.
    stopped: Vec<i32>,
    /// Every thread that is not running: ours, and those in a job-control stop (sorted).
    frozen: Vec<i32>,
    _lock: &'a mut ProcessLock,
}

impl PausedThreads<'_> {
    /// The threads (host tids, sorted) that are really stopped while this guard lives (by us,
    /// or by job control): a thread skipped because it did not stop in time runs on while the
    /// sample is read, and must be read as running.
    pub fn stopped(&self) -> Vec<i32> {
        self.frozen.clone()
    }

    /// `stopped()` as the walker knows threads: by their tid in process `pid`'s PID namespace,
    /// sorted.
    pub fn stopped_in_namespace(&self, pid: i32) -> Vec<i32> {
        let mut stopped: Vec<i32> = self
            .frozen
            .iter()
            .map(|&tid| super::tasks::namespace_tids(pid, tid).and_then(|ids| ids.last().copied()).unwrap_or(tid))
            .collect();
        stopped.sort_unstable();
        stopped
    }
}

impl Drop for PausedThreads<'_> {
    fn drop(&mut self) {
        for &tid in &self.stopped {
            // Our interrupt stop carries no signal (signals met on the way were passed on in
            // `wait_for_stop`), so continuing with none loses nothing.
            let _ = ptrace::cont(Pid::from_raw(tid), None);
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        // The leader last: the kernel reports a leader's exit only after its other threads'.
        let leader = self.pid;
        let order = self.seized.iter().filter(|&&t| t != leader).chain(self.seized.iter().filter(|&&t| t == leader));
        let armed = self.timer.as_ref().map(StopTimer::arm);
        for &tid in order {
            // Detach works only on a stopped tracee, and detaching from a signal-delivery
            // stop would drop the signal: interrupt, wait (passing signals on), then detach.
            // A thread in a job-control stop stays stopped after the detach, as without us.
            // A thread we cannot stop within `RELEASE_DEADLINE` stays traced until this
            // process exits, when the kernel detaches it.
            let thread = Pid::from_raw(tid);
            // A thread left in its job-control stop is in a ptrace stop already: detach it as
            // it is (interrupting it again would never be reported, and the wait time out).
            if self.job_stopped.contains(&tid) && ptrace::detach(thread, None).is_ok() {
                continue;
            }
            if ptrace::interrupt(thread).is_ok() && matches!(wait_for_stop(leader, tid, armed.is_some(), RELEASE_DEADLINE), Stop::Interrupted | Stop::JobControl) {
                let _ = ptrace::detach(thread, None);
            } else if tid == leader && is_zombie(leader, leader) {
                reap_when_the_process_ends(leader);
            }
        }
    }
}

/// A leader that ended while seized (pthread_exit, other threads still running) cannot be
/// detached, and the kernel reports its exit to us, its tracer, once the whole process ends;
/// until we collect that report its parent is not told, and could not reap the process while
/// a long-lived host of this library runs. A thread of ours waits for it (a tracer's other
/// threads may) and lets it go to its parent.
fn reap_when_the_process_ends(leader: i32) {
    let _ = std::thread::Builder::new().name("pyflame-reaper".into()).spawn(move || loop {
        match waitpid(Pid::from_raw(leader), Some(WaitPidFlag::__WALL)) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) | Err(_) => return,
            Ok(_) => continue,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command, Stdio};

    fn state_of(pid: i32) -> u8 {
        let stat = std::fs::read(format!("/proc/{pid}/stat")).unwrap();
        parse_stat_state(&stat).unwrap()
    }

    /// Runs `command` as a grandchild (under `sh`), so that, as in real use, the tracer is
    /// not the target's parent: `sh` reaps it and exits with its status.
    fn grandchild(command: &str) -> (Child, i32) {
        let mut sh = Command::new("sh").args(["-c", &format!("{command} & echo $!; wait $!")]).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(sh.stdout.take().unwrap()).read_line(&mut line).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        (sh, line.trim().parse().unwrap())
    }

    /// Both ways of waiting for a stop: sleeping in `waitpid` under the timer, and polling
    /// (the fallback when no timer can be had).
    const WAITS: [bool; 2] = [false, true];

    fn seize(pid: i32, polling: bool) -> ProcessLock {
        let mut lock = ProcessLock::seize(pid).unwrap();
        assert!(lock.timer.is_some(), "a stop timer on this machine");
        if polling {
            lock.timer = None;
        }
        lock
    }

    fn python_with_threads(body: &str) -> String {
        let python = ["/usr/bin/python3", "python3"].into_iter().find(|p| Command::new(p).arg("-c").arg("0").status().is_ok_and(|s| s.success()));
        match python {
            Some(p) => format!("{p} -c '{body}'"),
            None => "sleep 30".to_string(),
        }
    }

    #[test]
    fn a_signal_sent_during_a_pause_reaches_the_target() {
        // `sleep` dies of SIGTERM; while we pause and resume it, a SIGTERM must not be lost.
        for polling in WAITS {
            let (mut sh, pid) = grandchild("sleep 30");
            let mut lock = seize(pid, polling);
            {
                let _paused = lock.pause().unwrap();
                assert!(matches!(state_of(pid), b't' | b'T'), "paused");
                nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
            }
            // The signal is met at the detach and passed on (not dropped by the detach).
            drop(lock);
            let status = sh.wait().unwrap();
            assert_eq!(status.code(), Some(128 + libc::SIGTERM), "the target died of the SIGTERM sent while it was traced (polling: {polling})");
        }
    }

    #[test]
    fn a_zombie_leader_with_live_threads_does_not_hang_the_pause() {
        // The main thread ends (pthread_exit) while another lives: the kernel reports the
        // leader's exit only once the process ends, so a plain blocking wait on it would never
        // return. Seized before it ended, the leader is waited for and skipped; seized after,
        // it is not seized at all. Either way the live thread is paused and resumed.
        let body = "import ctypes, threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(0.4); ctypes.CDLL(None).pthread_exit(None)";
        let command = python_with_threads(body);
        if !command.contains("ctypes") {
            return; // no Python here to make such a process
        }
        for polling in WAITS {
            let (mut sh, pid) = grandchild(&command);
            let mut seized_before = seize(pid, polling);
            drop(seized_before.pause().unwrap());
            let deadline = Instant::now() + Duration::from_secs(5);
            while state_of(pid) != b'Z' && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(state_of(pid), b'Z', "the leader is a zombie");
            let started = Instant::now();
            {
                let paused = seized_before.pause().unwrap();
                assert_eq!(paused.stopped.len(), 1, "the live thread is paused, the zombie leader skipped (polling: {polling})");
            }
            drop(seized_before);
            let mut seized_after = seize(pid, polling);
            assert_eq!(seized_after.pause().unwrap().stopped.len(), 1, "seized after the leader ended (polling: {polling})");
            drop(seized_after);
            assert!(started.elapsed() < Duration::from_secs(5), "pausing took {:?} (polling: {polling})", started.elapsed());
            nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
            // The leader stayed traced by us: its parent hears of the exit only if we let it go.
            let deadline = Instant::now() + Duration::from_secs(10);
            while sh.try_wait().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(sh.try_wait().unwrap().is_some(), "the parent was told the process ended (polling: {polling})");
        }
    }

    #[test]
    fn a_target_that_dies_while_seized_is_released_without_hanging() {
        // The process dies while seized; its zombie threads must not make pausing or
        // releasing hang (a blocking wait on a zombie group leader never returns).
        let command = python_with_threads("import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)");
        for polling in WAITS {
            let (mut sh, pid) = grandchild(&command);
            let mut lock = seize(pid, polling);
            drop(lock.pause().unwrap());
            nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            let started = Instant::now();
            for _ in 0..10 {
                if let Ok(_paused) = lock.pause() {}
            }
            drop(lock);
            assert!(started.elapsed() < Duration::from_secs(5), "pausing and releasing a dead target took {:?} (polling: {polling})", started.elapsed());
            let status = sh.wait().unwrap();
            assert!(status.code() == Some(128 + libc::SIGKILL) || status.signal().is_some(), "{status:?}");
        }
    }

    #[test]
    fn refuses_to_pause_its_own_child() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let error = ProcessLock::seize(child.id() as i32).err().expect("refused");
        assert!(error.to_string().contains("child of this process"), "{error}");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_panic_in_the_core_leaves_every_thread_running_and_untraced() {
        // The binding turns a core panic into an error (`catching_panics`); the unwinding on
        // the way must resume paused threads and detach, whether the panic comes while the
        // threads are paused or between two pauses.
        let command = python_with_threads("import threading, time; [threading.Thread(target=time.sleep, args=(30,)).start() for _ in range(3)]; time.sleep(30)");
        let (mut sh, pid) = grandchild(&command);
        let task_field = |tid: i32, key: &str| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap_or_default();
            status.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string()).unwrap_or_default()
        };
        for while_paused in [true, false] {
            let mut stopped_before_the_panic = 0;
            let result: Result<()> = crate::error::catching_panics("the test", || {
                let mut lock = ProcessLock::seize(pid)?;
                drop(lock.pause()?);
                let paused = lock.pause()?;
                stopped_before_the_panic = list_tasks(pid).unwrap().iter().filter(|&&t| task_field(t, "State:").starts_with('t')).count();
                if !while_paused {
                    drop(paused);
                }
                panic!("injected");
            });
            assert!(result.is_err_and(|e| e.message.contains("injected")), "the panic became an error");
            assert!(stopped_before_the_panic > 0, "the threads were paused before the panic");
            std::thread::sleep(Duration::from_millis(50));
            let tids = list_tasks(pid).unwrap();
            assert!(!tids.is_empty());
            for tid in tids {
                let state = task_field(tid, "State:");
                assert!(!state.starts_with('t') && !state.starts_with('T'), "thread {tid} left {state} (panic while paused: {while_paused})");
                assert_eq!(task_field(tid, "TracerPid:"), "0", "thread {tid} still traced (panic while paused: {while_paused})");
            }
        }
        nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
        sh.wait().unwrap();
    }

    #[test]
    fn a_paused_list_stops_the_threads_listed_and_the_next_list_seizes_new_ones() {
        // `pause_listed` trusts the caller's list: a thread started since is left running
        // (and not reported stopped) until a list that has it; an ended thread is forgotten.
        let command = python_with_threads("import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(0.5); threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)");
        if !command.contains("threading") {
            return; // no Python here to make such a process
        }
        let (mut sh, pid) = grandchild(&command);
        let deadline = Instant::now() + Duration::from_secs(5);
        while list_tasks(pid).unwrap().len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let old = list_tasks(pid).unwrap();
        assert_eq!(old.len(), 2);
        let mut lock = ProcessLock::seize(pid).unwrap();
        while list_tasks(pid).unwrap().len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let new = list_tasks(pid).unwrap();
        assert_eq!(new.len(), 3);
        let started = *new.iter().find(|t| !old.contains(t)).unwrap();
        {
            let paused = lock.pause_listed(&old).unwrap();
            assert_eq!(paused.stopped(), old, "the listed threads are stopped");
            assert!(!matches!(thread_state(pid, started), Some(b't') | Some(b'T')), "the unlisted thread runs on");
        }
        {
            let paused = lock.pause_listed(&new).unwrap();
            assert_eq!(paused.stopped(), new, "a list that has the new thread seizes and stops it");
            assert_eq!(thread_state(pid, started), Some(b't'));
        }
        drop(lock);
        std::thread::sleep(Duration::from_millis(20));
        for tid in list_tasks(pid).unwrap() {
            assert!(!matches!(thread_state(pid, tid), Some(b't') | Some(b'T')), "thread {tid} left stopped");
        }
        nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
        sh.wait().unwrap();
    }

    #[test]
    fn pausing_and_detaching_leaves_the_target_running() {
        for polling in WAITS {
            let (mut sh, pid) = grandchild("sleep 30");
            let mut lock = seize(pid, polling);
            for _ in 0..100 {
                let _paused = lock.pause().unwrap();
            }
            drop(lock);
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(state_of(pid), b'S', "sleeping again, not stopped (polling: {polling})");
            nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
            sh.wait().unwrap();
        }
    }
}
