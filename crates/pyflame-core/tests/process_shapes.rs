//! Process shapes production users run, live: a virtualenv's symlinked python, a renamed
//! executable (version from memory, not the name), Python embedded in a C host (built here
//! against each libpython), sub-interpreters started by that host, and a process in other
//! mount and PID namespaces profiled from outside through /proc/PID/root. Each shape runs
//! the known program and passes the same checks as the plain interpreter. Shapes that need
//! something absent here (a compiler, headers, unshare) are skipped with a printed note.

mod support;

use pyflame_core::python::{DiscoverOptions, PythonTarget};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{build_kind, check_known_program, interpreters, known_program, repo_root, spawn_ready, write_matrix_row, Interpreter, MatrixRow};

fn discover(pid: i32, options: &DiscoverOptions) -> PythonTarget {
    let mut last = None;
    for _ in 0..40 {
        match PythonTarget::discover(pid, options) {
            Ok(t) => return t,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("discover {pid}: {}", last.unwrap());
}

/// A fresh directory under `__test__/.tmp`, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = repo_root().join("__test__/.tmp").join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn minor_of(py: &Interpreter) -> (u32, u32) {
    let mut p = py.version.split('.').map(|x| x.parse::<u32>().unwrap());
    (p.next().unwrap(), p.next().unwrap())
}

fn row(id: &str, py: &Interpreter, build: &str, shape: &str, target: &PythonTarget, check: &support::KnownCheck) {
    write_matrix_row(&MatrixRow {
        id,
        version: &py.version,
        build,
        shape,
        verified: "live",
        discovery: target.interp_source,
        version_source: target.version_source,
        gil: &format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen),
        threads: check.max_threads,
        test: "cargo test -p pyflame-core --test process_shapes",
    });
}

#[test]
fn virtualenv_symlinked_python() {
    for py in interpreters().into_iter().filter(|p| minor_of(p) >= (3, 6)) {
        let dir = TempDir::new(&format!("venv-{}", py.label));
        let venv = dir.0.join("venv");
        let made = Command::new(&py.path).args(["-m", "venv", "--without-pip"]).arg(&venv).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("note: {}: python -m venv unavailable, skipped", py.label);
            continue;
        }
        let python = venv.join("bin/python");
        assert!(std::fs::symlink_metadata(&python).unwrap().file_type().is_symlink(), "{}: venv python is a symlink", py.label);
        let mut command = Command::new(&python);
        command.arg(known_program());
        let program = spawn_ready(command);
        let target = discover(program.pid(), &DiscoverOptions::default());
        assert_eq!(target.layout.version.to_string(), py.version, "{}", py.label);
        let check = check_known_program(target.clone(), &format!("{} venv", py.label), 30);
        row(&format!("{}-venv", py.label), &py, &build_kind(&py), "virtualenv (symlinked python)", &target, &check);
    }
}

#[test]
fn renamed_executable_version_comes_from_memory() {
    for py in interpreters() {
        let dir = TempDir::new(&format!("renamed-{}", py.label));
        let real = std::fs::canonicalize(&py.path).unwrap();
        let renamed = dir.0.join("myservice");
        std::fs::copy(&real, &renamed).unwrap();
        let mut command = Command::new(&renamed);
        command.arg(known_program());
        // A copied pyenv binary finds its stdlib through PYTHONHOME (its RUNPATH finds libpython).
        if py.label.starts_with("pyenv") {
            command.env("PYTHONHOME", real.parent().unwrap().parent().unwrap());
        }
        let program = spawn_ready(command);
        let target = discover(program.pid(), &DiscoverOptions::default());
        assert!(target.executable.ends_with("/myservice"), "{}: {}", py.label, target.executable);
        assert_eq!(target.layout.version.to_string(), py.version, "{}: exact version", py.label);
        assert_ne!(target.version_source, "file name", "{}: the name says nothing", py.label);
        let check = check_known_program(target.clone(), &format!("{} renamed", py.label), 30);
        row(&format!("{}-renamed", py.label), &py, &build_kind(&py), "renamed executable (myservice)", &target, &check);
    }
}

/// Builds `embed/host.c` against `py`'s libpython; None (with a note) when that cannot be done.
fn build_host(py: &Interpreter, dir: &Path) -> Option<PathBuf> {
    let bin = py.path.parent()?;
    let (major, minor) = minor_of(py);
    let config = bin.join(format!("python{major}.{minor}-config"));
    if !config.exists() {
        eprintln!("note: {}: no {} (headers), embedded host skipped", py.label, config.display());
        return None;
    }
    let flags = |args: &[&str]| -> Option<Vec<String>> {
        let out = Command::new(&config).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect())
    };
    let mut link = flags(&["--ldflags", "--embed"]).or_else(|| flags(&["--ldflags"]))?;
    if !link.iter().any(|f| f.starts_with("-lpython")) {
        link.push(format!("-lpython{major}.{minor}"));
    }
    let prefix = flags(&["--prefix"])?.join("");
    let host = dir.join("host");
    let status = Command::new("cc")
        .arg(repo_root().join("__test__/programs/embed/host.c"))
        .args(flags(&["--cflags"])?)
        .args(&link)
        .arg(format!("-Wl,-rpath,{prefix}/lib"))
        .arg("-o")
        .arg(&host)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("note: {}: cc could not build the embedded host, skipped", py.label);
        return None;
    }
    Some(host)
}

#[test]
fn embedded_interpreter_and_sub_interpreters() {
    for py in interpreters().into_iter().filter(|p| minor_of(p) >= (3, 6)) {
        let dir = TempDir::new(&format!("embed-{}", py.label));
        let Some(host) = build_host(&py, &dir.0) else { continue };

        let mut command = Command::new(&host);
        command.arg(known_program());
        let program = spawn_ready(command);
        let target = discover(program.pid(), &DiscoverOptions::default());
        assert!(target.executable.ends_with("/host"), "{}", target.executable);
        assert_eq!(target.layout.version.to_string(), py.version, "{}", py.label);
        let check = check_known_program(target.clone(), &format!("{} embedded", py.label), 30);
        assert!(check.other_interpreters.is_empty());
        let build = embedded_build_kind(&py, &target);
        row(&format!("{}-embedded", py.label), &py, &build, "embedded interpreter (C host linking libpython)", &target, &check);
        drop(program);
        if minor_of(&py) < (3, 7) {
            eprintln!("note: {}: interpreters have no id before 3.7, sub-interpreter labelling not checked", py.label);
            continue;
        }

        let mut command = Command::new(&host);
        command.arg(known_program()).arg("--subinterpreter");
        let program = spawn_ready(command);
        let target = discover(program.pid(), &DiscoverOptions::default());
        let check = check_known_program(target.clone(), &format!("{} sub-interpreter", py.label), 30);
        let sub_worker: Vec<&(i64, Vec<(String, String, u32)>)> =
            check.other_interpreters.iter().filter(|(_, frames)| frames.last().is_some_and(|f| f.0 == "sub_worker")).collect();
        assert!(sub_worker.len() * 10 >= check.samples * 9, "{}: sub_worker seen in {} of {} samples: {:?}", py.label, sub_worker.len(), check.samples, check.other_interpreters.first());
        for (id, frames) in sub_worker {
            assert!(*id >= 1, "{}: the sub-interpreter is labelled by its own id, got {id}", py.label);
            assert_eq!(frames.last().unwrap().2, 4, "{}: sub_worker line", py.label);
            assert_eq!(frames.last().unwrap().1, "<string>", "{}", py.label);
        }
        write_matrix_row(&MatrixRow {
            id: &format!("{}-subinterpreters", py.label),
            version: &py.version,
            build: &embedded_build_kind(&py, &target),
            shape: "sub-interpreters (C host, Py_NewInterpreter; stacks labelled by interpreter id)",
            verified: "live",
            discovery: target.interp_source,
            version_source: target.version_source,
            gil: &format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen),
            threads: check.max_threads + 1,
            test: "cargo test -p pyflame-core --test process_shapes",
        });
    }
}

/// The build the host linked: the libpython it mapped (Debian's differs from its static python3).
fn embedded_build_kind(py: &Interpreter, target: &PythonTarget) -> String {
    if py.label.starts_with("pyenv") {
        return build_kind(py);
    }
    let stripped = Command::new("file")
        .args(["-L", &target.runtime_binary])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(", stripped"))
        .unwrap_or(false);
    format!("Debian shared (libpython){}", if stripped { " stripped" } else { "" })
}

/// The PID, seen from here, of the only child of `parent`.
fn only_child(parent: i32) -> Option<i32> {
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")) {
            if let Some(child) = text.split_whitespace().next().and_then(|c| c.parse().ok()) {
                return Some(child);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

#[test]
fn process_in_other_mount_and_pid_namespaces() {
    if Command::new("unshare").args(["-m", "-p", "-f", "--mount-proc", "true"]).status().map_or(true, |s| !s.success()) {
        eprintln!("note: unshare -m -p unavailable here, namespace test skipped");
        return;
    }
    for py in interpreters() {
        let dir = TempDir::new(&format!("ns-{}", py.label));
        // Inside the namespace a tmpfs hides this (empty here) directory: the interpreter, its
        // libpython and the program exist only there, so files must be opened via /proc/PID/root.
        let mount_point = dir.0.join("private");
        std::fs::create_dir_all(&mount_point).unwrap();
        let real = std::fs::canonicalize(&py.path).unwrap();
        let lib_dir = real.parent().unwrap().parent().unwrap().join("lib");
        let (major, minor) = minor_of(&py);
        let abi = if (major, minor) < (3, 8) && major == 3 { "m" } else { "" };
        let lib = lib_dir.join(format!("libpython{major}.{minor}{abi}.so.1.0"));
        let home = real.parent().unwrap().parent().unwrap();
        let m = mount_point.display();
        let mut script = format!("mount -t tmpfs none {m} && cp {} {m}/python && cp {} {m}/matrix_known.py", real.display(), known_program().display());
        let mut env = String::new();
        if lib.exists() {
            script += &format!(" && mkdir {m}/lib && cp {} {m}/lib/", lib.display());
            env = format!("LD_LIBRARY_PATH={m}/lib PYTHONHOME={} ", home.display());
        }
        script += &format!(" && exec env {env}{m}/python {m}/matrix_known.py");
        let mut command = Command::new("unshare");
        command.args(["-m", "-p", "-f", "--kill-child", "--mount-proc", "sh", "-c", &script]);
        let program = spawn_ready(command);
        let pid = only_child(program.pid()).expect("python inside the namespace");
        let target = discover(pid, &DiscoverOptions::default());
        assert_eq!(target.layout.version.to_string(), py.version, "{}", py.label);
        assert!(target.executable.starts_with(&*mount_point.to_string_lossy()), "{}: {}", py.label, target.executable);
        assert!(!Path::new(&target.executable).exists(), "{}: the executable is not visible from here", py.label);
        if lib.exists() {
            assert!(target.runtime_binary.starts_with(&*mount_point.to_string_lossy()), "{}: libpython from the namespace: {}", py.label, target.runtime_binary);
        }
        let check = check_known_program(target.clone(), &format!("{} namespaces", py.label), 30);
        if minor_of(&py) >= (3, 11) {
            // 3.11+ store the kernel tid in the thread state, as the target sees it.
            assert_eq!(check.spin_native_tid, Some(1), "{}: the main thread is PID 1 as the target sees it", py.label);
        }
        row(
            &format!("{}-namespaces", py.label),
            &py,
            &build_kind(&py),
            "other mount + PID namespace (unshare; files via /proc/PID/root)",
            &target,
            &check,
        );
    }
}
