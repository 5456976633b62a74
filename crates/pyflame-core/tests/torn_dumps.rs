//! A `dump` of a live, busy thread is never "stack unreadable": hundreds of dumps of a program
//! that recurses and unwinds without pause, on every interpreter present.
//!
//! Before each dump the program is stopped with SIGSTOP at whatever instruction it is at, and
//! continued after: so all of one dump's attempts see the same moment, as they do when a
//! thread is rarely scheduled (niced, on a busy machine) and makes no progress between them.
//! A thread caught half-way through pushing or popping a frame then stays caught; before the
//! fix, the walker refused such a stack in every attempt (about one 3.9 dump in a hundred).

mod support;

use pyflame_core::dump::{dump, DumpOptions};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dumps_per_interpreter() -> usize {
    std::env::var("TORN_DUMPS").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

/// The recursing program, started by a shell so that this process is not its parent (a
/// process may not pause its own child). Returns the shell and the program's PID.
fn spawn_recursing(python: &std::path::Path) -> (support::Spawned, i32) {
    let script = support::repo_root().join("__test__/programs/deep_recursion.py");
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$1" & echo "pid $!"; wait"#)
        .arg(python)
        .arg(script)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut reader = BufReader::new(shell.stdout.take().unwrap());
    let (mut pid, mut line) = (0, String::new());
    while reader.read_line(&mut line).expect("read") > 0 {
        if let Some(p) = line.trim().strip_prefix("pid ") {
            pid = p.parse().unwrap();
        }
        if line.starts_with("ready") {
            break;
        }
        line.clear();
    }
    std::mem::forget(reader);
    assert!(pid > 0, "{}: no pid", python.display());
    (support::Spawned { child: shell }, pid)
}

/// Sends `signal` and, for SIGSTOP, waits until the kernel shows the process stopped.
fn signal(pid: i32, signal: i32) {
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill {pid}");
    if signal == libc::SIGSTOP {
        let deadline = Instant::now() + Duration::from_secs(10);
        while pyflame_core::process::tasks::process_state(pid) != Some(b'T') {
            assert!(Instant::now() < deadline, "process {pid} did not stop: {:?}", pyflame_core::process::tasks::process_state(pid).map(char::from));
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

#[test]
fn hundreds_of_dumps_of_a_recursing_program_read_every_stack_on_every_interpreter() {
    let n = dumps_per_interpreter();
    let mut failures = Vec::new();
    // TORN_ONLY=3.9 runs the interpreters whose label contains it.
    let only = std::env::var("TORN_ONLY").unwrap_or_default();
    for py in support::interpreters().into_iter().chain(support::newest_interpreters().into_iter().map(|(py, _, _)| py)).filter(|p| p.label.contains(&only)) {
        let (_shell, pid) = spawn_recursing(&py.path);
        let options = DumpOptions { blocking: true, ..Default::default() };
        let started = Instant::now();
        let mut unreadable = 0;
        for i in 0..n {
            // Let it run a varying while (0.2-3 ms), then freeze it wherever it is.
            std::thread::sleep(Duration::from_micros(200 + (i as u64 * 7919) % 2800));
            signal(pid, libc::SIGSTOP);
            let result = dump(pid, &options);
            signal(pid, libc::SIGCONT);
            let result = result.unwrap_or_else(|e| panic!("{}: dump {i}: {e}", py.label));
            assert_eq!(result.threads.len(), 1, "{}", py.label);
            let thread = &result.threads[0];
            match &thread.error {
                Some(error) => {
                    unreadable += 1;
                    eprintln!("{}: dump {i}: {error}", py.label);
                }
                None => {
                    let names: Vec<&str> = thread.frames.iter().map(|f| f.name.as_str()).collect();
                    assert_eq!(names.last(), Some(&"<module>"), "{}: the stack is whole: {names:?}", py.label);
                }
            }
        }
        eprintln!("{}: {unreadable} unreadable in {n} dumps ({:.1} s)", py.label, started.elapsed().as_secs_f64());
        if unreadable > 0 {
            failures.push(format!("{}: {unreadable} of {n}", py.label));
        }
        signal(pid, libc::SIGKILL);
    }
    assert!(failures.is_empty(), "stacks unreadable: {failures:?}");
}
