//! Benchmark baseline: the sampler's timer alone, reading nothing.
//! `cargo run --release --example timer_floor -- SECONDS INTERVAL [--periodic]` prints the same counter line
//! as the `record` example, so the CPU a process spends just waking up at a given rate can be
//! subtracted from (or shown beside) the CPU per sample of a real recording.

use pyflame_core::sampler::clock::{Schedule, Ticker};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).map_or(1.0, |s| s.parse().unwrap());
    let interval: f64 = args.get(2).map_or(0.001, |s| s.parse().unwrap());
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let schedule = if args.iter().any(|a| a == "--periodic") { Schedule::Periodic } else { Schedule::Poisson };
    let mut ticker = Ticker::new(start, Duration::from_secs_f64(interval), schedule);
    let mut ticks = 0u64;
    let cpu0 = cpu_time();
    loop {
        ticker.wait_next(&stop, Some(end));
        if Instant::now() >= end {
            break;
        }
        ticks += 1;
    }
    let cpu = cpu_time() - cpu0;
    eprintln!("timer only: ticks {ticks} errors 0 duration {:.3}s cpu {cpu:.3}s = {:.1} us/tick", start.elapsed().as_secs_f64(), cpu * 1e6 / ticks.max(1) as f64);
}

fn cpu_time() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
