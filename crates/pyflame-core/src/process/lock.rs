//! Blocking mode: pause every thread of the target around a sample, for exact stacks.
//!
//! Threads are seized once (`PTRACE_SEIZE` does not stop them) and, per sample, interrupted,
//! waited for and continued. Detaching happens in `Drop`, and the kernel also detaches and
//! resumes every tracee if this process dies, so a target is never left stopped.
//! ptrace binds tracees to the *thread* that seized them: create, use and drop a
//! `ProcessLock` on one OS thread (the sampler thread).

use super::tasks::list_tasks;
use crate::error::{from_errno, Result};
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

pub struct ProcessLock {
    pid: i32,
    seized: Vec<i32>,
}

impl ProcessLock {
    /// Seizes every current thread of `pid`; threads are not stopped yet.
    pub fn seize(pid: i32) -> Result<ProcessLock> {
        let mut lock = ProcessLock { pid, seized: Vec::new() };
        lock.seize_new_threads()?;
        Ok(lock)
    }

    fn seize_new_threads(&mut self) -> Result<()> {
        let tids = list_tasks(self.pid).map_err(|e| crate::error::from_io(self.pid, &e, "listing the threads of"))?;
        self.seized.retain(|t| tids.binary_search(t).is_ok());
        for tid in tids {
            if self.seized.contains(&tid) {
                continue;
            }
            match ptrace::seize(Pid::from_raw(tid), ptrace::Options::empty()) {
                Ok(()) => self.seized.push(tid),
                // The thread ended between listing and seizing.
                Err(Errno::ESRCH) => {}
                Err(e) => return Err(from_errno(self.pid, e, "pausing (ptrace) the threads of")),
            }
        }
        Ok(())
    }

    /// Stops every thread and returns a guard that resumes them when dropped.
    pub fn pause(&mut self) -> Result<PausedThreads<'_>> {
        self.seize_new_threads()?;
        let mut stopped = Vec::with_capacity(self.seized.len());
        for &tid in &self.seized {
            if ptrace::interrupt(Pid::from_raw(tid)).is_ok() {
                stopped.push(tid);
            }
        }
        let mut waited = Vec::with_capacity(stopped.len());
        for tid in stopped {
            if wait_for_stop(tid) {
                waited.push(tid);
            }
        }
        Ok(PausedThreads { stopped: waited, _lock: self })
    }
}

/// Waits until `tid` reports a ptrace stop. Returns false if it exited.
fn wait_for_stop(tid: i32) -> bool {
    loop {
        match waitpid(Pid::from_raw(tid), Some(WaitPidFlag::__WALL)) {
            Ok(WaitStatus::PtraceEvent(..)) | Ok(WaitStatus::Stopped(..)) | Ok(WaitStatus::PtraceSyscall(..)) => {
                return true
            }
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return false,
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

/// Threads stopped for one sample; they run again when this is dropped.
pub struct PausedThreads<'a> {
    stopped: Vec<i32>,
    _lock: &'a mut ProcessLock,
}

impl Drop for PausedThreads<'_> {
    fn drop(&mut self) {
        for &tid in &self.stopped {
            // A stop for a signal (not our interrupt) would swallow the signal if continued
            // with 0; the seize/interrupt stop carries none, so 0 is right here.
            let _ = ptrace::cont(Pid::from_raw(tid), None);
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        for &tid in &self.seized {
            // Detach works only on a stopped tracee: interrupt first, then detach.
            let pid = Pid::from_raw(tid);
            if ptrace::detach(pid, None).is_err() && ptrace::interrupt(pid).is_ok() && wait_for_stop(tid) {
                let _ = ptrace::detach(pid, None);
            }
        }
    }
}
