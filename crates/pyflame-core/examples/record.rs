//! Manual check: `cargo run --release --example record -- PID SECONDS INTERVAL [--threads] [--blocking] [--periodic] [--native]`
//! prints folded stacks (GIL holder view) and the counters.

use pyflame_core::sampler::clock::Schedule;
use pyflame_core::{record, RecordOptions, RecordStats};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pid: i32 = args[1].parse().unwrap();
    let seconds: f64 = args.get(2).map_or(1.0, |s| s.parse().unwrap());
    let interval: f64 = args.get(3).map_or(0.01, |s| s.parse().unwrap());
    let threads = args.iter().any(|a| a == "--threads");
    let options = RecordOptions {
        asyncio: None,
        pid,
        duration: Some(Duration::from_secs_f64(seconds)),
        interval: Duration::from_secs_f64(interval),
        schedule: if args.iter().any(|a| a == "--periodic") { Schedule::Periodic } else { Schedule::Poisson },
        max_samples: None,
        blocking: args.iter().any(|a| a == "--blocking"),
        native: args.iter().any(|a| a == "--native"),
        subprocesses: false,
        subprocess_wait: pyflame_core::DEFAULT_SUBPROCESS_WAIT,
        timeline: false,
        discover: Default::default(),
        require_gil: false,
        thread_names: true,
    };
    let stop = AtomicBool::new(false);
    let stats = RecordStats::default();
    let cpu0 = cpu_time();
    let profile = match record(&options, &stop, &stats) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let cpu = cpu_time() - cpu0;
    let mut lines: std::collections::BTreeMap<String, u64> = Default::default();
    for e in &profile.entries {
        if !threads && !e.gil {
            continue;
        }
        let stack: Vec<String> = profile.stacks[e.stack as usize]
            .iter()
            .map(|&f| {
                let f = &profile.frames[f as usize];
                format!("{}:{}:{}", f.filename, f.name, f.line)
            })
            .collect();
        *lines.entry(stack.join(";")).or_default() += e.count;
    }
    for (k, v) in &lines {
        println!("{k} {v}");
    }
    if !threads && profile.gil_idle_ticks > 0 {
        println!("(idle) {}", profile.gil_idle_ticks);
    }
    eprintln!(
        "version {} ticks {} missed {} errors {} idle {} threads {} duration {:.3}s cpu {:.3}s = {:.1} us/sample",
        profile.python_version,
        profile.ticks,
        profile.missed,
        profile.errors,
        profile.gil_idle_ticks,
        profile.threads.len(),
        profile.duration_secs,
        cpu,
        cpu * 1e6 / profile.ticks.max(1) as f64
    );
}

fn cpu_time() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
