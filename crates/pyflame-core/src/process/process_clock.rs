//! A process's CPU clock read from outside: the CPU time of all its threads, live and
//! ended, in one `clock_gettime` (no text to format or parse, unlike `schedstat`). The kernel
//! lets any process read another's process clock (thread clocks only within one's own
//! thread group), so this can tell "no thread of PID has run" but not which thread ran.
//!
//! The value includes the time of a thread on a CPU right now only while the target has no
//! process CPU timer armed (setitimer ITIMER_PROF/ITIMER_VIRTUAL, a CPU-clock timer_create,
//! RLIMIT_CPU): with one armed the kernel answers from its per-tick running total, which a
//! thread woken within the last tick has not moved yet. Callers that take "unchanged" to
//! mean "did not run" must ask `may_have_cpu_timer` first.

use nix::time::{clock_getcpuclockid, ClockId};
use nix::unistd::Pid;

pub struct ProcessClock {
    clock: ClockId,
}

impl ProcessClock {
    pub fn open(pid: i32) -> Option<ProcessClock> {
        clock_getcpuclockid(Pid::from_raw(pid)).ok().map(|clock| ProcessClock { clock })
    }

    /// CPU time used so far in ns; None when the process is gone.
    pub fn read(&self) -> Option<u64> {
        let t = self.clock.now().ok()?;
        Some(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
    }
}

/// Whether a process may have a process CPU timer armed, which makes its clock lag a
/// running thread (see above). ITIMER_PROF/ITIMER_VIRTUAL kill a process whose
/// SIGPROF/SIGVTALRM is left at its default, so a live one with such a timer catches,
/// ignores or blocks that signal; RLIMIT_CPU shows in `limits`; CPU-clock `timer_create`
/// timers in `timers`. The three files are kept open and read with one pread each.
pub struct CpuTimerCheck {
    files: Option<[std::fs::File; 3]>,
    buf: Vec<u8>,
}

impl CpuTimerCheck {
    pub fn open(pid: i32) -> CpuTimerCheck {
        let open = |name: &str| std::fs::File::open(format!("/proc/{pid}/{name}"));
        let files = (|| Some([open("status").ok()?, open("limits").ok()?, open("timers").ok()?]))();
        CpuTimerCheck { files, buf: vec![0; 8192] }
    }

    /// True when any of the three cannot be read.
    pub fn may_have_cpu_timer(&mut self) -> bool {
        use std::os::unix::fs::FileExt;
        let Some(files) = &self.files else { return true };
        let mut texts = [String::new(), String::new(), String::new()];
        for (file, text) in files.iter().zip(texts.iter_mut()) {
            let Ok(n) = file.read_at(&mut self.buf, 0) else { return true };
            if n == self.buf.len() {
                return true; // larger than ever seen: do not judge on part of it
            }
            *text = String::from_utf8_lossy(&self.buf[..n]).into_owned();
        }
        let [status, limits, timers] = texts;
        const SIGVTALRM_SIGPROF: u64 = (1 << (26 - 1)) | (1 << (27 - 1));
        let mut masks = 0;
        for line in status.lines() {
            for name in ["SigBlk:", "SigIgn:", "SigCgt:"] {
                if let Some(hex) = line.strip_prefix(name) {
                    let Ok(mask) = u64::from_str_radix(hex.trim(), 16) else { return true };
                    masks += 1;
                    if mask & SIGVTALRM_SIGPROF != 0 {
                        return true;
                    }
                }
            }
        }
        if masks != 3 {
            return true;
        }
        match limits.lines().find(|l| l.starts_with("Max cpu time")) {
            Some(line) if line.split_ascii_whitespace().nth(3) == Some("unlimited") => {}
            _ => return true,
        }
        // CLOCK_PROCESS_CPUTIME_ID is 2; a negative id is another PID's CPU clock.
        timers.lines().filter_map(|l| l.strip_prefix("ClockID:")).any(|id| {
            let id: i64 = id.trim().parse().unwrap_or(-1);
            id == 2 || id < 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_with_itimer_prof_is_seen_to_have_a_cpu_timer() {
        use std::io::BufRead;
        let script = "import signal,sys,time\nprint('plain', flush=True)\ntime.sleep(0.5)\nsignal.signal(signal.SIGPROF, lambda *a: None)\nsignal.setitimer(signal.ITIMER_PROF, 0.01, 0.01)\nprint('armed', flush=True)\ntime.sleep(5)\n";
        let Ok(mut child) = std::process::Command::new("python3").arg("-c").arg(script).stdout(std::process::Stdio::piped()).spawn() else { return };
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "plain");
        let mut check = CpuTimerCheck::open(child.id() as i32);
        let before = check.may_have_cpu_timer();
        assert_eq!(lines.next().unwrap().unwrap(), "armed");
        let after = check.may_have_cpu_timer();
        child.kill().unwrap();
        let _ = child.wait();
        assert!(!before, "a Python without a CPU timer");
        assert!(after, "a Python with ITIMER_PROF");
    }

    #[test]
    fn another_process_clock_moves_while_it_runs_and_stands_while_it_sleeps() {
        let mut busy = std::process::Command::new("sh").arg("-c").arg("while :; do :; done").spawn().unwrap();
        let mut idle = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (b, i) = (ProcessClock::open(busy.id() as i32).unwrap(), ProcessClock::open(idle.id() as i32).unwrap());
        let (b0, i0) = (b.read().unwrap(), i.read().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (b1, i1) = (b.read().unwrap(), i.read().unwrap());
        busy.kill().unwrap();
        idle.kill().unwrap();
        let _ = (busy.wait(), idle.wait());
        assert!(b1 > b0, "{b0} -> {b1}");
        assert_eq!(i0, i1);
    }
}
