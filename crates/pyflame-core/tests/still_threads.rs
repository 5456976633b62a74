//! The agent's one-moment reads (`Walker::sample_asking`): a thread the sampler shows did not
//! run while it was read needs no re-reads, and its stack is the one the checked read gives.

mod support;

use pyflame_core::process::memory::ProcessMemory;
use pyflame_core::python::{PythonTarget, Sample, Walker};
use std::process::Command;
use support::{interpreters, repo_root, spawn_ready};

fn stacks(walker: &Walker, sample: &Sample) -> Vec<(Option<i32>, Vec<String>)> {
    sample
        .threads
        .iter()
        .map(|t| {
            assert!(t.error.is_none(), "{:?}", t.error);
            let frames = sample.frames_of(t).iter().map(|f| format!("{}:{}", walker.codes.get(f.code).name, f.line)).collect();
            (t.native_tid, frames)
        })
        .collect()
}

#[test]
fn a_still_thread_read_once_has_the_stack_of_a_checked_read() {
    let mut checked = 0;
    for python in interpreters() {
        let mut command = Command::new(&python.path);
        command.arg(repo_root().join("__test__/programs/sleeper.py"));
        let sleeper = spawn_ready(command);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let Ok(target) = PythonTarget::discover(sleeper.pid(), &Default::default()) else { continue };
        let mem = ProcessMemory::new(sleeper.pid());
        let mut walker = Walker::new(target);
        let mut reference = Sample::default();
        walker.sample(&mem, &mut reference).expect("checked sample");
        let want = stacks(&walker, &reference);
        // Each thread is asked about once (none holds the GIL while it sleeps), with its tid.
        let mut asked = Vec::new();
        let mut once = Sample::default();
        walker
            .sample_asking(&mem, &mut once, Some(&mut |tid| {
                asked.push(tid);
                true
            }))
            .expect("one-moment sample");
        assert_eq!(stacks(&walker, &once), want, "Python {}", python.version);
        assert!(want.iter().any(|(_, frames)| frames.iter().any(|f| f.starts_with("snooze:"))), "Python {}: {want:?}", python.version);
        let tids: Vec<i32> = want.iter().filter_map(|(tid, _)| *tid).collect();
        assert_eq!(asked, tids, "Python {}", python.version);
        // A thread the sampler cannot vouch for is checked as usual.
        let mut refused = Sample::default();
        walker.sample_asking(&mem, &mut refused, Some(&mut |_| false)).expect("checked sample");
        assert_eq!(stacks(&walker, &refused), want, "Python {}", python.version);
        checked += 1;
    }
    eprintln!("{checked} interpreters checked");
    assert!(checked > 0 || interpreters().is_empty(), "no interpreter could be sampled");
}
