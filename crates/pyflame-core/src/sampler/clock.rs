//! When to take the next sample.
//!
//! By default sampling times form a Poisson process whose mean spacing is the requested
//! interval: each gap is drawn from an exponential distribution. A fixed period would land
//! every sample on the same phase of any loop of the target whose period divides it (an event
//! loop tick, a pacing timer), and report 100 % for whatever runs at that phase. Exponential
//! gaps are memoryless, so a sample's time says nothing about the previous one's and no phase
//! of the target is favoured (ARCHITECTURE.md, "Sampling times").
//!
//! `Schedule::Periodic` keeps the old drift-free ticker (`start + k * interval`) for whoever
//! asks for it explicitly.
//!
//! Deadlines never move because the sampler was slow: when sampling falls behind, the one
//! sample taken is the one owed, and the deadlines that also passed are counted as missed
//! rather than sampled in a burst or pushed later, so the recording keeps its length and
//! samples + missed estimates duration / interval.

use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, Poisson};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest single sleep, so a stop request is seen quickly even at slow rates.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// Below this mean interval (above 20 kHz) the sampler waits by spinning instead of sleeping:
/// a wake-up from sleep costs 15–37 µs of CPU and returns 100+ µs late on a virtual machine
/// (BENCHMARKS.md), so sleeping could not keep such a rate. Spinning costs one core, which is
/// what such a rate asks for.
const SPIN_BELOW_INTERVAL: Duration = Duration::from_micros(50);
/// At spinning rates, a Poisson deadline that passed at most this many mean intervals ago is
/// still sampled (late, in turn) rather than counted missed. A sample takes a good part of a
/// 10 µs interval, so with exponential gaps about half the deadlines fall while the previous
/// sample is being read; skipping them lost ~15 % of 100 kHz on a free core (BENCHMARKS.md,
/// "Sampling rates side by side"). Queued this way, a sampler whose samples take less than the
/// interval keeps the rate, each sample at most 8 intervals late; a longer lag (the sampler
/// descheduled) is still skipped and counted, and the recording keeps its length.
const LATE_INTERVALS: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// Exponentially distributed gaps with the interval as mean (the default).
    #[default]
    Poisson,
    /// Exactly one interval apart; aliases with periodic programs.
    Periodic,
}

pub struct Ticker {
    start: Instant,
    interval: Duration,
    schedule: Schedule,
    /// Periodic: index of the next deadline.
    next_index: u64,
    /// Poisson: the next deadline.
    next: Instant,
    rng: SmallRng,
}

impl Ticker {
    pub fn new(start: Instant, interval: Duration, schedule: Schedule) -> Ticker {
        // Default timer slack (50 µs) would make short intervals run long.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
        }
        let mut rng = SmallRng::from_os_rng();
        let next = start + exponential(&mut rng, interval);
        Ticker { start, interval, schedule, next_index: 1, next, rng }
    }

    /// Whether `wait_next` spins rather than sleeps (rates above 20 kHz).
    pub fn spins(&self) -> bool {
        self.interval < SPIN_BELOW_INTERVAL
    }

    fn periodic_deadline(&self, index: u64) -> Instant {
        self.start + self.interval.saturating_mul(index.min(u32::MAX as u64) as u32)
    }

    /// Moves to the next deadline not yet past `now`, except that a deadline already past is
    /// kept as the one to sample at once. Returns it with the number of other deadlines that
    /// passed (missed).
    fn advance(&mut self, now: Instant) -> (Instant, u64) {
        match self.schedule {
            Schedule::Periodic => {
                let due = self.periodic_deadline(self.next_index);
                if due >= now {
                    self.next_index += 1;
                    return (due, 0);
                }
                // Deadlines in (due, now] are missed; sample now for `due`.
                let behind = now.duration_since(due).as_nanos() / self.interval.as_nanos().max(1);
                let missed = behind.min(u64::MAX as u128 / 2) as u64;
                self.next_index += missed + 1;
                (now, missed)
            }
            Schedule::Poisson => {
                let due = self.next;
                if due >= now {
                    self.next = due + exponential(&mut self.rng, self.interval);
                    return (due, 0);
                }
                if self.spins() && now.duration_since(due) <= self.interval * LATE_INTERVALS {
                    // Passed while the previous sample was read: take it now, keep the schedule.
                    self.next = due + exponential(&mut self.rng, self.interval);
                    return (now, 0);
                }
                // The process is memoryless: the deadlines that fell in (due, now] are a
                // Poisson count, and the next one after now is an exponential gap away.
                let mean = now.duration_since(due).as_secs_f64() / self.interval.as_secs_f64();
                let missed = poisson(&mut self.rng, mean);
                self.next = now + exponential(&mut self.rng, self.interval);
                (now, missed)
            }
        }
    }

    /// Sleeps until the next deadline (or `end`, or a stop). Returns how many deadlines were
    /// missed because sampling fell behind.
    pub fn wait_next(&mut self, stop: &AtomicBool, end: Option<Instant>) -> u64 {
        let (target, missed) = self.advance(Instant::now());
        let target = end.map_or(target, |e| e.min(target));
        loop {
            let now = Instant::now();
            if now >= target || stop.load(Ordering::Relaxed) {
                return missed;
            }
            if self.spins() {
                std::hint::spin_loop();
            } else {
                sleep_for((target - now).min(MAX_SLEEP));
            }
        }
    }
}

fn exponential(rng: &mut SmallRng, mean: Duration) -> Duration {
    let draw: f64 = Exp1.sample(rng);
    // Capped at 20 means (probability e^-20): a pathological gap would look like a hang.
    Duration::from_secs_f64(mean.as_secs_f64() * draw.min(20.0))
}

fn poisson(rng: &mut SmallRng, mean: f64) -> u64 {
    if !(mean > 0.0) {
        return 0;
    }
    // Beyond ~1e15 the count is its mean to within rounding.
    if mean > 1e15 {
        return mean as u64;
    }
    Poisson::new(mean).map(|p| p.sample(rng) as u64).unwrap_or(mean.round() as u64)
}

fn sleep_for(d: Duration) {
    let ts = libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long };
    unsafe {
        libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &ts, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaps between deadlines of a Poisson ticker never sleeping (advance driven by hand).
    fn poisson_gaps(interval: Duration, n: usize) -> Vec<f64> {
        let start = Instant::now();
        let mut ticker = Ticker::new(start, interval, Schedule::Poisson);
        let mut previous = start;
        let mut gaps = Vec::with_capacity(n);
        for _ in 0..n {
            // `now` before the deadline: nothing missed, the deadline itself is returned.
            let (due, missed) = ticker.advance(previous);
            assert_eq!(missed, 0);
            gaps.push(due.duration_since(previous).as_secs_f64());
            previous = due;
        }
        gaps
    }

    #[test]
    fn poisson_gaps_have_the_interval_as_mean_and_spread_like_an_exponential() {
        let interval = Duration::from_millis(10);
        let gaps = poisson_gaps(interval, 200_000);
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Exponential: sd == mean; the standard error of the mean is 0.01/sqrt(200000) ≈ 22 µs.
        assert!((mean - 0.010).abs() < 0.0002, "mean gap {mean}");
        assert!((sd / mean - 1.0).abs() < 0.03, "sd/mean {}", sd / mean);
        // Memoryless: P(gap > interval) = e^-1.
        let longer = gaps.iter().filter(|&&g| g > 0.010).count() as f64 / n;
        assert!((longer - (-1f64).exp()).abs() < 0.01, "P(gap > mean) = {longer}");
    }

    #[test]
    fn poisson_phases_are_uniform_modulo_a_commensurate_period() {
        // The phase of the sampling times modulo 10 ms (the interval itself) must be flat: a
        // periodic ticker puts every sample in one bin.
        let gaps = poisson_gaps(Duration::from_millis(10), 100_000);
        let mut t = 0.0;
        let mut bins = [0u32; 10];
        for g in gaps {
            t += g;
            let phase = (t % 0.010) / 0.010;
            bins[((phase * 10.0) as usize).min(9)] += 1;
        }
        for (i, &b) in bins.iter().enumerate() {
            let share = b as f64 / 100_000.0;
            assert!((share - 0.1).abs() < 0.006, "phase bin {i}: {share}");
        }
    }

    #[test]
    fn falling_behind_counts_missed_deadlines_and_keeps_the_mean_rate() {
        let interval = Duration::from_millis(1);
        for schedule in [Schedule::Poisson, Schedule::Periodic] {
            let start = Instant::now();
            let mut ticker = Ticker::new(start, interval, schedule);
            // A sampler stuck for 5 s: one late sample now, the rest of the ~5000 deadlines missed.
            let now = start + Duration::from_secs(5);
            let (due, missed) = ticker.advance(now);
            assert_eq!(due, now);
            assert!((4700..=5300).contains(&missed), "{schedule:?}: {missed} missed");
            // The next deadline is in the future again, about one interval away.
            let (next, missed_again) = ticker.advance(now);
            assert_eq!(missed_again, 0);
            assert!(next > now && next < now + interval * 30, "{schedule:?}");
        }
    }

    #[test]
    fn only_rates_above_20_khz_spin_and_a_stop_ends_the_spin() {
        let start = Instant::now();
        assert!(!Ticker::new(start, Duration::from_micros(100), Schedule::Poisson).spins());
        let mut fast = Ticker::new(start, Duration::from_micros(10), Schedule::Poisson);
        assert!(fast.spins());
        // A stop request ends the wait even with the next deadline far away.
        fast.next = Instant::now() + Duration::from_secs(3600);
        assert_eq!(fast.wait_next(&AtomicBool::new(true), None), 0);
        // A deadline in the past is sampled at once and the skipped ones counted.
        let mut behind = Ticker::new(start, Duration::from_micros(10), Schedule::Periodic);
        behind.next_index = 1;
        std::thread::sleep(Duration::from_millis(2));
        assert!(behind.wait_next(&AtomicBool::new(false), None) > 0);
    }

    /// Drives a ticker with a synthetic clock in which each sample takes `cost`; returns the
    /// share of deadlines missed.
    fn missed_share(interval: Duration, cost: Duration, samples: u32) -> f64 {
        let start = Instant::now();
        let mut ticker = Ticker::new(start, interval, Schedule::Poisson);
        let (mut now, mut missed) = (start, 0u64);
        for _ in 0..samples {
            let (at, skipped) = ticker.advance(now);
            missed += skipped;
            now = at.max(now) + cost;
        }
        missed as f64 / (missed as f64 + samples as f64)
    }

    #[test]
    fn spinning_rates_queue_deadlines_passed_during_a_sample_instead_of_missing_them() {
        // 100 kHz, a sample taking 6.5 µs (what one costs on this project's VM): every deadline
        // kept but for the rare one more than 8 intervals late (M/D/1 at load 0.65: ~0.01 %).
        let missed = missed_share(Duration::from_micros(10), Duration::from_nanos(6_500), 200_000);
        assert!(missed < 0.01, "missed {missed}");
        // Sleeping rates keep the skip rule: the same ratio at 10 kHz misses ~15 % (a deadline
        // that passed during a read is counted missed, never sampled late).
        let missed = missed_share(Duration::from_micros(100), Duration::from_micros(65), 200_000);
        assert!((0.12..0.18).contains(&missed), "missed {missed}");
        // A sampler slower than the rate cannot queue forever: it falls behind by more than 8
        // intervals, those deadlines are skipped and counted, and about interval/cost are kept.
        let missed = missed_share(Duration::from_micros(10), Duration::from_micros(20), 100_000);
        assert!((0.4..0.6).contains(&missed), "missed {missed}");
    }

    #[test]
    fn periodic_keeps_exact_deadlines() {
        let start = Instant::now();
        let interval = Duration::from_millis(10);
        let mut ticker = Ticker::new(start, interval, Schedule::Periodic);
        for k in 1..5u32 {
            let (due, missed) = ticker.advance(start);
            assert_eq!((due, missed), (start + interval * k, 0));
        }
    }
}
