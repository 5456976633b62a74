//! Shared by the live tests: the interpreters installed here, a spawned known program, and
//! the assertions every interpreter must pass on it.

#![allow(dead_code)]

use pyflame_core::python::{PythonTarget, Sample, Walker};
use pyflame_core::process::memory::ProcessMemory;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Interpreter {
    pub label: String,
    pub path: PathBuf,
    /// `X.Y.Z` as the interpreter reports it.
    pub version: String,
}

/// pyenv's versions and `/usr/bin/python3.*`; absent ones are skipped with a printed note.
pub fn interpreters() -> Vec<Interpreter> {
    let mut found = Vec::new();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let mut candidates: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir(Path::new(&home).join(".pyenv/versions")) {
        let mut names: Vec<String> = dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort_by_key(|n| n.split('.').map(|p| p.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>());
        for name in names {
            candidates.push((format!("pyenv-{name}"), Path::new(&home).join(".pyenv/versions").join(&name).join("bin/python")));
        }
    }
    if let Ok(dir) = std::fs::read_dir("/usr/bin") {
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("python3.") && n[8..].chars().all(|c| c.is_ascii_digit()))
            .collect();
        names.sort();
        for name in names {
            candidates.push((format!("system-{name}"), Path::new("/usr/bin").join(name)));
        }
    }
    for (label, path) in candidates {
        match reported_version(&path) {
            Some(version) => found.push(Interpreter { label, path, version }),
            None => eprintln!("note: skipping {} ({}): not runnable", label, path.display()),
        }
    }
    if found.is_empty() {
        eprintln!("note: no Python interpreter found on this machine; live tests check nothing");
    }
    found
}

/// The launchers of scripts/pythons/fetch.sh (`$PYFLAME_TS_CACHE/pythons/bin`, default
/// /var/cache/pyflame-ts): Debian unstable's 3.14 and 3.15 (release, debug, non-PIE; run
/// chrooted) and free-threaded 3.13t. Each as (label, build, free-threaded); absent ones are
/// named on stderr (CI on this machine kind fetches them, so there they all run).
pub fn newest_interpreters() -> Vec<(Interpreter, &'static str, bool)> {
    let cache = std::env::var("PYFLAME_TS_CACHE").unwrap_or_else(|_| "/var/cache/pyflame-ts".into());
    let bin = Path::new(&cache).join("pythons/bin");
    let shapes = [
        ("python3.14", "", "Debian unstable static stripped (chroot)", false),
        ("python3.14d", "-debug", "Debian unstable debug build, unstripped (chroot)", false),
        ("python3.14-nopie", "-nopie", "Debian unstable non-PIE static stripped (chroot)", false),
        ("python3.15", "", "Debian unstable static stripped (chroot)", false),
        ("python3.15d", "-debug", "Debian unstable debug build, unstripped (chroot)", false),
        ("python3.15-nopie", "-nopie", "Debian unstable non-PIE static stripped (chroot)", false),
        ("python3.13t", "t", "free-threaded (--disable-gil) built from Debian stable source", true),
    ];
    let mut found = Vec::new();
    for (name, suffix, build, free_threaded) in shapes {
        let path = bin.join(name);
        match path.exists().then(|| reported_version(&path)).flatten() {
            Some(version) => {
                let origin = if free_threaded { "source" } else { "sid" };
                found.push((Interpreter { label: format!("{origin}-{version}{suffix}"), path, version }, build, free_threaded));
            }
            None => eprintln!("note: skipping {name}: not in {} (scripts/pythons/fetch.sh could not fetch or build it here)", bin.display()),
        }
    }
    found
}

pub fn reported_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args(["-c", "import sys; sys.stdout.write('%d.%d.%d' % sys.version_info[:3])"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn known_program() -> PathBuf {
    repo_root().join("__test__/programs/matrix_known.py")
}

/// A spawned program, SIGKILLed on drop (so a failing assertion never leaks it).
pub struct Spawned {
    pub child: Child,
}

impl Spawned {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and waits for its `ready` line.
pub fn spawn_ready(mut command: Command) -> Spawned {
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    // A test that has just written an executable can see ETXTBSY (26): another test thread's
    // fork holds the write descriptor open until that child execs. Wait it out.
    let mut tries = 0;
    let mut child = loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.expect("spawn"),
        }
    };
    let stdout = child.stdout.take().unwrap();
    let spawned = Spawned { child };
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("read stdout");
        assert!(n > 0, "program exited before printing ready");
        if line.starts_with("ready") {
            break;
        }
    }
    // Keep the pipe open: the program must not get SIGPIPE.
    std::mem::forget(reader);
    spawned
}

pub fn spawn_known(python: &Path) -> Spawned {
    let mut command = Command::new(python);
    command.arg(known_program());
    spawn_ready(command)
}

/// One thread of a sample, decoded: (function, file, line) root first.
#[derive(Debug, Clone)]
pub struct DecodedThread {
    pub holds_gil: bool,
    pub interpreter_id: i64,
    pub frames: Vec<(String, String, u32)>,
}

pub fn decode(walker: &Walker, sample: &Sample) -> Vec<DecodedThread> {
    sample
        .threads
        .iter()
        .filter(|t| t.error.is_none())
        .map(|t| DecodedThread {
            holds_gil: t.holds_gil,
            interpreter_id: t.interpreter_id,
            frames: sample
                .frames_of(t)
                .iter()
                .map(|f| {
                    let c = walker.codes.get(f.code);
                    (c.name.clone(), c.filename.clone(), f.line)
                })
                .collect(),
        })
        .collect()
}

/// What the known program must look like, measured over `samples` samples.
#[derive(Debug, Default, Clone)]
pub struct KnownCheck {
    pub samples: usize,
    pub max_threads: usize,
    pub spin_seen: usize,
    pub nap_seen: usize,
    pub spin_holds_gil: usize,
    pub nap_holds_gil: usize,
    /// Threads of interpreters other than the main one (id, stack root first), every sample.
    pub other_interpreters: Vec<(i64, Vec<(String, String, u32)>)>,
    /// Kernel tid (as the target sees it) of the spinning thread, when known.
    pub spin_native_tid: Option<i32>,
}

fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Samples the known program and checks names, files and lines; panics with a clear message.
pub fn check_known_program(target: PythonTarget, label: &str, samples: usize) -> KnownCheck {
    let mem = ProcessMemory::new(target.pid);
    let mut walker = Walker::new(target);
    let mut sample = Sample::default();
    let mut check = KnownCheck::default();
    let file = known_program();
    let file = file.to_string_lossy();
    for _ in 0..samples {
        if walker.sample(&mem, &mut sample).is_err() {
            continue;
        }
        check.samples += 1;
        let threads = decode(&walker, &sample);
        let main_interpreter = threads.iter().filter(|t| t.interpreter_id == 0).count();
        check.max_threads = check.max_threads.max(main_interpreter);
        for (t, raw) in threads.iter().zip(sample.threads.iter().filter(|t| t.error.is_none())) {
            if t.interpreter_id != 0 {
                check.other_interpreters.push((t.interpreter_id, t.frames.clone()));
                continue;
            }
            if t.frames.last().map(|f| short(&f.0)) == Some("spin") {
                check.spin_native_tid = raw.native_tid;
            }
            let names: Vec<&str> = t.frames.iter().map(|f| short(&f.0)).collect();
            if names.last() == Some(&"spin") {
                let n = t.frames.len();
                assert!(n >= 3, "{label}: spin stack too short: {:?}", t.frames);
                let (spin, outer, main) = (&t.frames[n - 1], &t.frames[n - 2], &t.frames[n - 3]);
                assert!(spin.1.ends_with("matrix_known.py") && spin.1.contains(&*file) || spin.1.ends_with("matrix_known.py"), "{label}: file {}", spin.1);
                assert!(spin.2 == 15 || spin.2 == 16, "{label}: spin line {}", spin.2);
                assert_eq!((short(&outer.0), outer.2), ("outer", 20), "{label}: {:?}", t.frames);
                assert_eq!((short(&main.0), main.2), ("main", 29), "{label}: {:?}", t.frames);
                assert_eq!(short(&t.frames[0].0), "<module>", "{label}: root {:?}", t.frames);
                check.spin_seen += 1;
                if t.holds_gil {
                    check.spin_holds_gil += 1;
                }
            }
            if names.last() == Some(&"nap") {
                let nap = t.frames.last().unwrap();
                assert_eq!(nap.2, 10, "{label}: nap line {:?}", t.frames);
                assert!(nap.1.ends_with("matrix_known.py"), "{label}: nap file {}", nap.1);
                check.nap_seen += 1;
                if t.holds_gil {
                    check.nap_holds_gil += 1;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(check.samples * 2 >= samples, "{label}: only {} of {samples} samples read", check.samples);
    assert!(check.spin_seen * 10 >= check.samples * 9, "{label}: spin seen in {} of {} samples", check.spin_seen, check.samples);
    assert!(check.nap_seen * 10 >= check.samples * 9, "{label}: nap seen in {} of {} samples", check.nap_seen, check.samples);
    assert_eq!(check.max_threads, 2, "{label}: thread count of the main interpreter");
    check
}

/// One verified cell of the support matrix, written to `__test__/.tmp/support-matrix/` (one
/// file per row so parallel tests never interleave); `tools/support-matrix.mjs` renders them.
pub struct MatrixRow<'a> {
    pub id: &'a str,
    pub version: &'a str,
    /// e.g. `pyenv shared`, `Debian static stripped`, `3.14 default`, `3.13t free-threaded`.
    pub build: &'a str,
    /// e.g. `plain process`, `force_scan (as if stripped)`.
    pub shape: &'a str,
    /// `live` or `synthetic`.
    pub verified: &'a str,
    pub discovery: &'a str,
    pub version_source: &'a str,
    pub gil: &'a str,
    pub threads: usize,
    pub test: &'a str,
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn write_matrix_row(row: &MatrixRow) {
    let dir = repo_root().join("__test__/.tmp/support-matrix");
    std::fs::create_dir_all(&dir).expect("matrix dir");
    let json = format!(
        "{{\"id\":{},\"version\":{},\"build\":{},\"shape\":{},\"verified\":{},\"discovery\":{},\"versionSource\":{},\"gil\":{},\"threads\":{},\"checks\":[\"function names\",\"files\",\"line numbers\",\"thread count\",\"GIL holder\"],\"test\":{}}}\n",
        json_str(row.id),
        json_str(row.version),
        json_str(row.build),
        json_str(row.shape),
        json_str(row.verified),
        json_str(row.discovery),
        json_str(row.version_source),
        json_str(row.gil),
        row.threads,
        json_str(row.test)
    );
    let file: String = row.id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    std::fs::write(dir.join(format!("rust-{file}.json")), json).expect("write matrix row");
}

/// `pyenv shared` / `Debian static stripped` / ... from where the interpreter lives.
pub fn build_kind(py: &Interpreter) -> String {
    let real = std::fs::canonicalize(&py.path).unwrap_or(py.path.clone());
    let ldd = Command::new("ldd").arg(&real).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let shared = ldd.contains("libpython");
    let stripped = Command::new("file").arg(&real).output().map(|o| String::from_utf8_lossy(&o.stdout).contains(", stripped")).unwrap_or(false);
    let origin = if py.label.starts_with("pyenv") { "pyenv" } else if Path::new("/etc/debian_version").exists() { "Debian" } else { "system" };
    format!("{origin} {}{}", if shared { "shared (libpython)" } else { "static" }, if stripped { " stripped" } else { "" })
}
