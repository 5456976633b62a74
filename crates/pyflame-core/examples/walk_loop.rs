//! Profiling the walker: `cargo run --release --example walk_loop -- PID SAMPLES`
//! takes SAMPLES samples back to back (no timer, no aggregation) and prints the CPU per sample
//! and the frames of the last one. Run it under `perf record` to see where a sample's time goes.

use pyflame_core::process::memory::ProcessMemory;
use pyflame_core::python::{PythonTarget, Sample, Walker};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pid: i32 = args[1].parse().unwrap();
    let samples: u64 = args.get(2).map_or(100_000, |s| s.parse().unwrap());
    let target = PythonTarget::discover(pid, &Default::default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let mem = ProcessMemory::new(pid);
    let mut walker = Walker::new(target);
    let mut sample = Sample::default();
    let (mut errors, mut frames) = (0u64, 0u64);
    let cpu0 = cpu_time();
    let wall0 = std::time::Instant::now();
    for _ in 0..samples {
        walker.sample(&mem, &mut sample).expect("sample");
        errors += sample.threads.iter().filter(|t| t.error.is_some()).count() as u64;
        frames += sample.frames.len() as u64;
    }
    let cpu = cpu_time() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    for t in &sample.threads {
        let names: Vec<String> = sample.frames_of(t).iter().map(|f| format!("{}:{}", walker.codes.get(f.code).name, f.line)).collect();
        println!("thread {:#x}: {} frames, leaf {:?}", t.tstate, names.len(), names.last());
    }
    eprintln!(
        "samples {samples} errors {errors} frames/sample {:.1} cpu {cpu:.3}s wall {wall:.3}s = {:.2} us cpu/sample, {:.0} samples/s",
        frames as f64 / samples as f64,
        cpu * 1e6 / samples as f64,
        samples as f64 / wall
    );
}

fn cpu_time() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
