//! A drift-free periodic timer: deadlines are `start + k * interval`, and each wait sleeps
//! for what is left until the deadline (the clock is read again after every wake-up), so
//! late wake-ups do not accumulate. A tick that falls behind skips the missed deadlines
//! instead of sampling in a burst.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest single sleep, so a stop request is seen quickly even at slow rates.
const MAX_SLEEP: Duration = Duration::from_millis(50);

pub struct Ticker {
    start: Instant,
    interval: Duration,
    next_index: u64,
}

impl Ticker {
    pub fn new(start: Instant, interval: Duration) -> Ticker {
        // Default timer slack (50 µs) would make short intervals run long.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
        }
        Ticker { start, interval, next_index: 1 }
    }

    fn deadline(&self, index: u64) -> Instant {
        self.start + self.interval.saturating_mul(index.min(u32::MAX as u64) as u32)
    }

    /// Sleeps until the next deadline (or `end`, or a stop). Returns how many deadlines were
    /// skipped because sampling fell behind.
    pub fn wait_next(&mut self, stop: &AtomicBool, end: Option<Instant>) -> u64 {
        let now = Instant::now();
        let mut skipped = 0;
        while self.deadline(self.next_index) < now {
            self.next_index += 1;
            skipped += 1;
        }
        // The deadline just passed is the one we sample at; the next one is not skipped.
        if skipped > 0 {
            skipped -= 1;
            self.next_index -= 1;
        }
        let target = self.deadline(self.next_index);
        self.next_index += 1;
        let target = end.map_or(target, |e| e.min(target));
        loop {
            let now = Instant::now();
            if now >= target || stop.load(Ordering::Relaxed) {
                return skipped;
            }
            sleep_for((target - now).min(MAX_SLEEP));
        }
    }
}

fn sleep_for(d: Duration) {
    let ts = libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long };
    unsafe {
        libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &ts, std::ptr::null_mut());
    }
}
