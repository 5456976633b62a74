//! Costs of the agent's per-sample probes: `cargo run --release --example probe_costs -- PID`
use pyflame_core::process::memory::ProcessMemory;
use pyflame_core::process::run_counters::RunCountersFile;
use pyflame_core::process::tasks::TaskStat;
use pyflame_core::python::{PythonTarget, Sample, Walker};
use std::time::Instant;

fn cpu_time() -> f64 {
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
fn time<F: FnMut()>(name: &str, n: u64, mut f: F) {
    let c0 = cpu_time();
    let w = Instant::now();
    for _ in 0..n { f(); }
    println!("{name:40} {:.2} us cpu, {:.2} us wall", (cpu_time() - c0) * 1e6 / n as f64, w.elapsed().as_secs_f64() * 1e6 / n as f64);
}
fn main() {
    let pid: i32 = std::env::args().nth(1).unwrap().parse().unwrap();
    let n = 20000;
    let target = PythonTarget::discover(pid, &Default::default()).unwrap();
    let mem = ProcessMemory::new(pid);
    let mut walker = Walker::new(target);
    let mut sample = Sample::default();
    time("walker.sample", n, || walker.sample(&mem, &mut sample).unwrap());
    let rc = RunCountersFile::open(pid, pid).unwrap();
    time("schedstat pread", n, || { rc.read().unwrap(); });
    let mut st = TaskStat::open(pid, pid).unwrap();
    time("stat pread (state)", n, || { st.state().unwrap(); });
    let clock = ((!(pid as libc::clockid_t)) << 3) | 2; // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    time("clock_gettime(process sched clock)", n, || { let mut ts: libc::timespec = unsafe { std::mem::zeroed() }; assert_eq!(unsafe { libc::clock_gettime(clock, &mut ts) }, 0); });
    let mut buf = [0u8; 64];
    time("process_vm_readv 64 B", n, || { use pyflame_core::process::memory::RemoteMemory; mem.read(walker_addr(&walker), &mut buf).unwrap(); });
    time("list_tasks", n / 10, || { pyflame_core::process::tasks::list_tasks(pid).unwrap(); });
}
fn walker_addr(w: &Walker) -> u64 { w.target.interp_head_ptr }
