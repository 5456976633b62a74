//! Whether a thread has been put on or taken off a CPU since an earlier look, and where it is
//! now, read from memory the kernel writes: no syscall per look.
//!
//! A perf event on the thread that counts nothing (the software "dummy" event) but logs its
//! context switches (`context_switch`) into a small ring buffer mapped read-only, so the kernel
//! overwrites the oldest records instead of ever stopping. Written backwards
//! (`write_backward`), the newest record starts at the ring's head: the head moves on every
//! switch in or out, and the record there says whether the thread is on a CPU, was preempted
//! (still runnable) or went to sleep.
//!
//! Why not the thread's CPU clock or the process's: the kernel charges a running thread's time
//! at scheduler ticks and switches, so a thread woken within the last tick (up to 4 ms at 250
//! Hz) shows an unchanged clock while it runs. `schedstat`'s count of switches onto a CPU does
//! see it, for one `pread` per thread; this sees it for none.
//!
//! Opening needs what `perf stat -p` needs (ptrace access to the thread and a
//! `perf_event_paranoid` that allows it, or CAP_PERFMON); seccomp profiles of containers often
//! refuse it. The caller falls back to `schedstat` then.

use perf_event_open_sys::bindings::{
    perf_event_attr, perf_event_header, perf_event_mmap_page, PERF_COUNT_SW_DUMMY, PERF_FLAG_FD_CLOEXEC, PERF_RECORD_MISC_SWITCH_OUT,
    PERF_RECORD_MISC_SWITCH_OUT_PREEMPT, PERF_RECORD_SWITCH, PERF_TYPE_SOFTWARE,
};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// Data pages of the ring: one holds 512 switch records (8 bytes each, no sample fields).
const DATA_PAGES: usize = 1;
/// Most logs open at once in this process (a file descriptor and two pages each); threads
/// beyond are watched the old way.
const MAX_OPEN: usize = 4096;
static OPEN: AtomicUsize = AtomicUsize::new(0);
/// Why the first refused log was refused (the agent says so once: it then costs more CPU).
static REFUSAL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Notes a refusal other than "the thread is gone" (only the first is kept).
pub fn note_refusal(error: &std::io::Error) {
    let why = match error.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) => format!("over {MAX_OPEN} threads logged, or no file descriptors left"),
        Some(libc::EACCES) | Some(libc::EPERM) => "perf_event_open was refused (perf_event_paranoid, seccomp or a missing CAP_PERFMON)".to_string(),
        Some(libc::ENOSYS) | Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) => "this kernel has no perf events".to_string(),
        _ => format!("perf_event_open failed: {error}"),
    };
    let _ = REFUSAL.set(why);
}

/// The first refusal noted, if any.
pub fn refusal() -> Option<&'static str> {
    REFUSAL.get().map(String::as_str)
}

/// Where a thread was at its last switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Switched onto a CPU and not off since.
    OnCpu,
    /// Taken off a CPU while still runnable (preempted): state R, waiting for a CPU.
    Preempted,
    /// Taken off a CPU to wait (sleep, I/O, a lock): state S or D.
    Asleep,
    /// No switch logged since the log was opened.
    Unknown,
}

impl Placement {
    pub fn off_cpu(self) -> bool {
        matches!(self, Placement::Preempted | Placement::Asleep)
    }
}

/// One look: the ring's head (equal heads mean no switch in between) and the placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    pub head: u64,
    pub placement: Placement,
}

pub struct SwitchLog {
    _fd: OwnedFd,
    map: *mut libc::c_void,
    len: usize,
    data_offset: usize,
    data_size: usize,
}

// SAFETY: the mapping is owned by the log and only read; moving it to another thread is fine.
unsafe impl Send for SwitchLog {}

impl SwitchLog {
    pub fn open(tid: i32) -> std::io::Result<SwitchLog> {
        if OPEN.fetch_add(1, Ordering::Relaxed) >= MAX_OPEN {
            OPEN.fetch_sub(1, Ordering::Relaxed);
            return Err(std::io::Error::from_raw_os_error(libc::EMFILE));
        }
        let log = SwitchLog::open_counted(tid);
        if log.is_err() {
            OPEN.fetch_sub(1, Ordering::Relaxed);
        }
        log
    }

    fn open_counted(tid: i32) -> std::io::Result<SwitchLog> {
        // SAFETY: an all-zero perf_event_attr is the documented starting point.
        let mut attr: perf_event_attr = unsafe { std::mem::zeroed() };
        attr.size = std::mem::size_of::<perf_event_attr>() as u32;
        attr.type_ = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_DUMMY as u64;
        attr.set_context_switch(1);
        // Also a record when the thread starts another (`only_switches_between`).
        attr.set_task(1);
        attr.set_write_backward(1);
        // Nothing in the kernel is measured; excluding it keeps `perf_event_paranoid` 2 happy.
        attr.set_exclude_kernel(1);
        attr.set_exclude_hv(1);
        // SAFETY: attr is a valid, initialised perf_event_attr for the duration of the call.
        let fd = unsafe { perf_event_open_sys::perf_event_open(&mut attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC as libc::c_ulong) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by the kernel and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let page = page_size();
        let len = page * (1 + DATA_PAGES);
        // Read-only: the kernel then overwrites old records rather than waiting for a reader.
        // SAFETY: mapping a perf fd as documented in perf_event_open(2); checked below.
        let map = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, std::os::fd::AsRawFd::as_raw_fd(&fd), 0) };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let mut log = SwitchLog { _fd: fd, map, len, data_offset: page, data_size: page * DATA_PAGES };
        // Kernels since 4.1 say where the data is; older ones put it right after the first page.
        let (offset, size) = (log.field(std::mem::offset_of!(perf_event_mmap_page, data_offset)), log.field(std::mem::offset_of!(perf_event_mmap_page, data_size)));
        if offset != 0 && size.is_power_of_two() && offset as usize + size as usize <= len {
            log.data_offset = offset as usize;
            log.data_size = size as usize;
        }
        Ok(log)
    }

    fn field(&self, offset: usize) -> u64 {
        // SAFETY: offset is a field of the control page, inside the mapping and 8-byte aligned.
        unsafe { std::ptr::read_volatile((self.map as *const u8).add(offset) as *const u64) }
    }

    /// The head and the newest record, consistent with each other (None if the thread kept
    /// switching under three tries, which a caller treats as "it ran").
    pub fn look(&self) -> Option<Look> {
        let head_at = std::mem::offset_of!(perf_event_mmap_page, data_head);
        for _ in 0..3 {
            let head = self.field(head_at);
            // The kernel publishes the head after writing the record it points at.
            fence(Ordering::Acquire);
            if head == 0 {
                return Some(Look { head, placement: Placement::Unknown });
            }
            let at = self.data_offset + (head as usize & (self.data_size - 1));
            // SAFETY: records are 8-byte aligned and `at` is inside the data area.
            let header: perf_event_header = unsafe { std::ptr::read_volatile((self.map as *const u8).add(at) as *const perf_event_header) };
            fence(Ordering::Acquire);
            if self.field(head_at) != head {
                continue;
            }
            return Some(Look { head, placement: placement_of(&header) });
        }
        None
    }
}

impl SwitchLog {
    /// Whether every record from `newer` (a later look's head) back to `older` (an earlier
    /// one) is a context switch: false when the thread started or ended a thread meanwhile
    /// (a task record), or when the span is over half the ring (old records may be gone).
    pub fn only_switches_between(&self, newer: u64, older: u64) -> bool {
        let span = older.wrapping_sub(newer);
        if span > (self.data_size / 2) as u64 {
            return false;
        }
        let mut at = newer;
        while at != older {
            let offset = self.data_offset + (at as usize & (self.data_size - 1));
            // SAFETY: records are 8-byte aligned and `offset` is inside the data area.
            let header: perf_event_header = unsafe { std::ptr::read_volatile((self.map as *const u8).add(offset) as *const perf_event_header) };
            if header.type_ != PERF_RECORD_SWITCH || header.size == 0 || older.wrapping_sub(at) < header.size as u64 {
                return false;
            }
            at = at.wrapping_add(header.size as u64);
        }
        true
    }
}

fn placement_of(header: &perf_event_header) -> Placement {
    if header.type_ != PERF_RECORD_SWITCH {
        // A lost-records notice or anything else: say nothing about where the thread is.
        return Placement::Unknown;
    }
    let misc = header.misc as u32;
    match (misc & PERF_RECORD_MISC_SWITCH_OUT != 0, misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT != 0) {
        (false, _) => Placement::OnCpu,
        (true, true) => Placement::Preempted,
        (true, false) => Placement::Asleep,
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

impl Drop for SwitchLog {
    fn drop(&mut self) {
        // SAFETY: map/len are the mapping made in `open`, unmapped once.
        unsafe { libc::munmap(self.map, self.len) };
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn gettid() -> i32 {
        unsafe { libc::syscall(libc::SYS_gettid) as i32 }
    }

    #[test]
    fn a_sleeping_thread_stands_still_and_a_woken_one_is_seen_at_once() {
        // A thread that sleeps until told, then spins: the log must show it asleep and
        // unchanged while it sleeps, and changed while it spins (before any scheduler tick).
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            go_rx.recv().unwrap();
            let end = Instant::now() + Duration::from_millis(300);
            while Instant::now() < end {
                std::hint::spin_loop();
            }
        });
        let tid = tid_rx.recv().unwrap();
        let log = match SwitchLog::open(tid) {
            Ok(log) => log,
            Err(e) => {
                eprintln!("note: perf_event_open refused here ({e}); the caller falls back to schedstat");
                let _ = go_tx.send(());
                worker.join().unwrap();
                return;
            }
        };
        std::thread::sleep(Duration::from_millis(50));
        let before = log.look().expect("a look");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(log.look(), Some(before), "a thread blocked in recv() logs no switch");
        go_tx.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_millis(200);
        let mut seen = before;
        while Instant::now() < deadline {
            seen = log.look().expect("a look");
            if seen.head != before.head {
                break;
            }
        }
        assert_ne!(seen.head, before.head, "the wake-up is logged while the thread still runs");
        // (An exiting thread logs no last switch out: its events are closed before it.)
        worker.join().unwrap();
    }

    #[test]
    fn starting_a_thread_is_seen_between_two_looks() {
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<bool>();
        let parent = std::thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            while let Ok(spawn) = go_rx.recv() {
                if spawn {
                    std::thread::spawn(|| ()).join().unwrap();
                } else {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        let log = match SwitchLog::open(tid_rx.recv().unwrap()) {
            Ok(log) => log,
            Err(e) => {
                eprintln!("note: perf_event_open refused here ({e})");
                drop(go_tx);
                parent.join().unwrap();
                return;
            }
        };
        std::thread::sleep(Duration::from_millis(20));
        let a = log.look().unwrap();
        go_tx.send(false).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let b = log.look().unwrap();
        assert_ne!(a.head, b.head);
        assert!(log.only_switches_between(b.head, a.head), "a sleep logs switches only");
        go_tx.send(true).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let c = log.look().unwrap();
        assert!(!log.only_switches_between(c.head, b.head), "starting a thread is seen");
        drop(go_tx);
        parent.join().unwrap();
    }

    #[test]
    fn a_refusal_is_explained_and_the_first_one_kept() {
        note_refusal(&std::io::Error::from_raw_os_error(libc::EACCES));
        note_refusal(&std::io::Error::from_raw_os_error(libc::ENOSYS));
        assert_eq!(refusal(), Some("perf_event_open was refused (perf_event_paranoid, seccomp or a missing CAP_PERFMON)"));
    }

    #[test]
    fn records_name_the_placement() {
        let record = |misc: u32| perf_event_header { type_: PERF_RECORD_SWITCH, misc: misc as u16, size: 8 };
        assert_eq!(placement_of(&record(0)), Placement::OnCpu);
        assert_eq!(placement_of(&record(PERF_RECORD_MISC_SWITCH_OUT)), Placement::Asleep);
        assert_eq!(placement_of(&record(PERF_RECORD_MISC_SWITCH_OUT | PERF_RECORD_MISC_SWITCH_OUT_PREEMPT)), Placement::Preempted);
        assert_eq!(placement_of(&perf_event_header { type_: 2, misc: 0, size: 16 }), Placement::Unknown);
    }
}
