//! Thread names as Python knows them, read from a live process on every installed interpreter.

mod support;

use pyflame_core::process::memory::ProcessMemory;
use pyflame_core::python::thread_names::ThreadNames;
use pyflame_core::python::{DiscoverOptions, PythonTarget, Sample, Walker};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Starts the named-threads program and returns it with Python's idents by name.
fn spawn_named(python: &std::path::Path) -> (support::Spawned, HashMap<String, u64>) {
    let mut command = Command::new(python);
    command.arg(support::repo_root().join("__test__/programs/named_threads.py")).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command.spawn().expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let spawned = support::Spawned { child };
    let mut line = String::new();
    reader.read_line(&mut line).expect("ready line");
    std::mem::forget(reader);
    let idents = line
        .trim()
        .strip_prefix("ready ")
        .expect("ready line")
        .split(' ')
        .map(|pair| {
            let (name, ident) = pair.split_once('=').unwrap();
            (name.to_string(), ident.parse::<i64>().unwrap() as u64)
        })
        .collect();
    (spawned, idents)
}

/// The newest interpreters fetched by scripts/pythons/fetch.sh (Debian unstable's, run in a
/// chroot by a launcher), when present.
fn newest_interpreters() -> Vec<support::Interpreter> {
    let dir = std::path::Path::new("/var/cache/pyflame-ts/pythons/bin");
    ["python3.14", "python3.14d", "python3.14-nopie", "python3.15", "python3.15d", "python3.15-nopie"]
        .iter()
        .filter_map(|name| {
            let path = dir.join(name);
            let version = support::reported_version(&path)?;
            Some(support::Interpreter { label: format!("newest-{name}"), path, version })
        })
        .collect()
}

#[test]
fn threads_named_in_python_are_read_with_those_names_on_every_interpreter() {
    for py in support::interpreters().into_iter().chain(newest_interpreters()) {
        let (target_process, idents) = spawn_named(&py.path);
        let pid = target_process.pid();
        let target = PythonTarget::discover(pid, &DiscoverOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", py.label));
        let mem = ProcessMemory::new(pid);
        let mut names = ThreadNames::new(&target, &mem);
        let mut walker = Walker::new(target);
        let mut sample = Sample::default();
        walker.sample(&mem, &mut sample).unwrap();
        let sampled: Vec<u64> = sample.threads.iter().map(|t| t.python_thread_id).collect();
        assert!(names.refresh(&mem, sampled.iter().copied()), "{}: the first refresh reads", py.label);
        for (name, ident) in &idents {
            assert!(sampled.contains(ident), "{}: thread {name} ({ident:#x}) is among the sampled threads {sampled:x?}", py.label);
            assert_eq!(names.get(*ident), Some(name.as_str()), "{}: ident {ident:#x}", py.label);
        }
        for expected in ["MainThread", "worker-a", "worker-b", "renamed-c"] {
            assert!(idents.contains_key(expected), "{}: the program reports {expected}", py.label);
        }
        // Nothing new and not old: no read.
        assert!(!names.refresh(&mem, sampled.iter().copied()), "{}: a refresh with no new thread does not read", py.label);
        // An ident Python does not know gets no name (the caller falls back to the kernel's).
        assert_eq!(names.get(12345), None);
        eprintln!("{}: {} threads named", py.label, idents.len());
    }
}
