//! Whether a thread is on a CPU at this moment, not merely runnable, and whether it left its
//! CPU at the very moment the sampler took it. The kernel's R state covers running and
//! waiting alike; what tells them apart is that the scheduler counts every switch onto a CPU
//! (`schedstat`'s third field, `sched_info.pcount`) and every switch off it (`sched`'s
//! `nr_switches`, or `status`'s voluntary + nonvoluntary context switches), both at the same
//! context switch: a thread on a CPU has been switched on once more than off. (CPU-time
//! counters cannot say it: `schedstat`'s and a perf task clock's are brought up to date only
//! at ticks and switches, so a read from outside sees a running thread's time stand still.)
//!
//! `sched` (kernels built with CONFIG_SCHED_DEBUG, as distributions ship them) also gives
//! `se.exec_start`, the run-queue clock at the thread's last accounting: for a thread switched
//! off, the moment of the switch, which is the same clock reading as the switch-on of the
//! thread that replaced it. That is how a thread displaced by the sampler itself is known.
//!
//! Needs the kernel's per-thread scheduler statistics (CONFIG_SCHED_INFO, on in distribution
//! kernels; without it `schedstat` reads all zeros and `open` fails).

use super::run_counters::RunCountersFile;
use std::fs::File;
use std::os::unix::fs::FileExt;

pub struct OnCpuFiles {
    schedstat: RunCountersFile,
    /// `sched` when the kernel has it, else `status`.
    switches: File,
    has_sched: bool,
    buf: Vec<u8>,
}

/// Where a thread in R state was when looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    OnCpu,
    /// Waiting for a CPU; switched off it at this run-queue clock (ns; None without `sched`).
    Waiting(Option<u64>),
}

impl OnCpuFiles {
    pub fn open(pid: i32, tid: i32) -> std::io::Result<OnCpuFiles> {
        let schedstat = RunCountersFile::open(pid, tid)?;
        schedstat.read().ok_or_else(|| std::io::Error::other("the kernel keeps no scheduler statistics"))?;
        let (switches, has_sched) = match File::open(format!("/proc/{pid}/task/{tid}/sched")) {
            Ok(file) => (file, true),
            Err(_) => (File::open(format!("/proc/{pid}/task/{tid}/status"))?, false),
        };
        Ok(OnCpuFiles { schedstat, switches, has_sched, buf: vec![0; 4096] })
    }

    /// CPU time the scheduler has charged the thread, in ns (brought up to date at ticks and
    /// switches only).
    pub fn cpu_ns(&self) -> Option<u64> {
        Some(self.schedstat.read()?.0)
    }

    /// Times the thread was switched onto a CPU so far (one file read): unchanged between two
    /// readings, the thread stayed on its CPU, or off it, all the while.
    pub fn switched_on(&self) -> Option<u64> {
        Some(self.schedstat.read()?.1)
    }

    /// Where the thread is, and how many times it was switched onto a CPU so far. None when the
    /// thread is gone or a file reads oddly.
    pub fn look(&mut self) -> Option<(Look, u64)> {
        // Switches on first: a switch between the two reads then reads as "off", never as
        // "on" for a thread that left its CPU.
        let (_, on) = self.schedstat.read()?;
        let n = self.switches.read_at(&mut self.buf, 0).ok()?;
        let text = &self.buf[..n];
        if !self.has_sched {
            return Some((if on > parse_status_switches(text)? { Look::OnCpu } else { Look::Waiting(None) }, on));
        }
        let (off, switched_at) = parse_sched(text)?;
        Some((if on > off { Look::OnCpu } else { Look::Waiting(Some(switched_at)) }, on))
    }
}

/// The calling thread's own view: when it was last put on a CPU, and whether it had to wait
/// for one since its previous look.
pub struct OwnSwitch {
    tid: i32,
    sched: File,
    schedstat: File,
    run_delay: Option<u64>,
    buf: Vec<u8>,
}

impl OwnSwitch {
    /// For the calling thread.
    pub fn open() -> std::io::Result<OwnSwitch> {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let pid = std::process::id();
        Ok(OwnSwitch {
            tid,
            sched: File::open(format!("/proc/{pid}/task/{tid}/sched"))?,
            schedstat: File::open(format!("/proc/{pid}/task/{tid}/schedstat"))?,
            run_delay: None,
            buf: vec![0; 4096],
        })
    }

    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// The run-queue clock at which this thread was put on its CPU, if it got the CPU as soon
    /// as it woke (it waited less than `max_wait_ns` on a run queue since the previous look);
    /// None otherwise. Read first thing after waking, before a tick moves the clock on.
    pub fn switched_on(&mut self, max_wait_ns: u64) -> Option<u64> {
        let n = self.sched.read_at(&mut self.buf, 0).ok()?;
        let (_, at) = parse_sched(&self.buf[..n])?;
        let n = self.schedstat.read_at(&mut self.buf, 0).ok()?;
        let delay: u64 = std::str::from_utf8(&self.buf[..n]).ok()?.split_ascii_whitespace().nth(1)?.parse().ok()?;
        let waited = self.run_delay.replace(delay).map(|before| delay.saturating_sub(before));
        waited.filter(|&w| w <= max_wait_ns).map(|_| at)
    }
}

/// (`nr_switches`, `se.exec_start` in ns) of a `sched` file.
pub fn parse_sched(sched: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(sched).ok()?;
    let value = |name: &str| -> Option<&str> {
        let line = text.lines().find(|l| l.starts_with(name) && l[name.len()..].trim_start().starts_with(':'))?;
        Some(line.split_once(':')?.1.trim())
    };
    let switches = value("nr_switches")?.parse().ok()?;
    // Milliseconds with six decimals: read as whole nanoseconds, exactly.
    let (ms, frac) = value("se.exec_start")?.split_once('.')?;
    let ns = ms.parse::<u64>().ok()? * 1_000_000 + format!("{frac:0<6}").get(..6)?.parse::<u64>().ok()?;
    Some((switches, ns))
}

/// `voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` of a `status` file.
pub fn parse_status_switches(status: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(status).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].trim().parse().ok()
    };
    Some(field("voluntary_ctxt_switches:")? + field("nonvoluntary_ctxt_switches:")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn parses_switches_and_switch_times() {
        let status = b"Name:\tx\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(parse_status_switches(status), Some(15));
        assert_eq!(parse_status_switches(b"Name:\tx\n"), None);
        let sched = b"x (1, #threads: 1)\n---\nse.exec_start                                :      39873568.092476\nse.vruntime    :  1.0\nnr_switches                                  :                    7\nnr_voluntary_switches                        :                    5\n";
        assert_eq!(parse_sched(sched), Some((7, 39_873_568_092_476)));
    }

    #[test]
    fn the_calling_thread_is_on_a_cpu_and_a_sleeping_one_is_not() {
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() };
        let Ok(mut files) = OnCpuFiles::open(std::process::id() as i32, me) else {
            eprintln!("no scheduler statistics here: nothing to check");
            return;
        };
        assert_eq!(files.look().map(|(look, _)| look), Some(Look::OnCpu), "the reading thread runs");
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let sleeper = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // SAFETY: as above.
                tx.send(unsafe { libc::gettid() }).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            })
        };
        let tid = rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut other = OnCpuFiles::open(std::process::id() as i32, tid).unwrap();
        // Asleep nearly all the time: off a CPU in nearly every look.
        let on = (0..50).filter(|_| other.look().map(|(look, _)| look) == Some(Look::OnCpu)).count();
        stop.store(true, Ordering::Relaxed);
        sleeper.join().unwrap();
        assert!(on <= 5, "{on} of 50");
    }
}
