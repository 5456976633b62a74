//! How much a thread has run, from `/proc/PID/task/TID/schedstat`: the CPU time the
//! scheduler has charged it and how many times it was put on a CPU. A far cheaper read
//! than `stat` (three numbers, no memory-map walk), which is what lets the agent tell a
//! thread that has not run since its last look from one that has.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// One reading: (CPU time charged in ns, times switched onto a CPU).
pub type RunCounters = (u64, u64);

pub struct RunCountersFile {
    file: File,
}

impl RunCountersFile {
    pub fn open(pid: i32, tid: i32) -> std::io::Result<RunCountersFile> {
        Ok(RunCountersFile { file: File::open(format!("/proc/{pid}/task/{tid}/schedstat"))? })
    }

    /// None when the file cannot be read (the thread ended) or the kernel keeps no counts
    /// (without CONFIG_SCHED_INFO every field reads 0).
    pub fn read(&self) -> Option<RunCounters> {
        let mut buf = [0u8; 96];
        let n = self.file.read_at(&mut buf, 0).ok()?;
        parse_schedstat(&buf[..n])
    }
}

/// `SUM_EXEC_RUNTIME RUN_DELAY PCOUNT`; None for the all-zero line of a kernel keeping no counts.
pub fn parse_schedstat(text: &[u8]) -> Option<RunCounters> {
    let text = std::str::from_utf8(text).ok()?;
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<u64>().ok());
    let runtime = fields.next()??;
    let _run_delay = fields.next()??;
    let switches = fields.next()??;
    if switches == 0 {
        return None;
    }
    Some((runtime, switches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_fields_and_refuses_a_kernel_without_counts() {
        assert_eq!(parse_schedstat(b"254138988 20498133 633\n"), Some((254138988, 633)));
        assert_eq!(parse_schedstat(b"0 0 0\n"), None);
        assert_eq!(parse_schedstat(b"12 3\n"), None);
    }

    #[test]
    fn a_running_thread_counts_up_and_a_sleeping_one_stands_still() {
        let pid = std::process::id() as i32;
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
        let Ok(file) = RunCountersFile::open(pid, tid) else { return };
        let Some(before) = file.read() else { return }; // no CONFIG_SCHED_INFO: nothing to test
        // Sleeping switches the thread off the CPU and back: both counters move.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let after = file.read().unwrap();
        assert!(after.1 > before.1, "{before:?} -> {after:?}");
        // A sleeping thread's counters do not change while it sleeps.
        let (tx, rx) = std::sync::mpsc::channel();
        let sleeper = std::thread::spawn(move || {
            tx.send(unsafe { libc::syscall(libc::SYS_gettid) } as i32).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(400));
        });
        let sleeper_tid = rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let f = RunCountersFile::open(pid, sleeper_tid).unwrap();
        let a = f.read();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(a, f.read());
        sleeper.join().unwrap();
    }
}
