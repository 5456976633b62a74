//! Core types → JS objects, core errors → JS errors.

use napi_derive::napi;
use pyflame_core::profile as core;

pub fn to_js_error(err: pyflame_core::Error) -> napi::Error {
    napi::Error::from_reason(format!("{}: {}", err.code.as_str(), err.message))
}

#[napi(object)]
pub struct ProfileFrame {
    /// Function name: the qualified name (`Class.method`) where the Python version has one.
    pub name: String,
    /// `co_filename` as the target has it.
    pub filename: String,
    /// Line being executed, 0 when unknown.
    pub line: u32,
    /// `co_firstlineno`: the line the function starts on.
    pub first_line: u32,
    /// Set (true) on native frames (`native: true`): `filename` is the binary's file name and
    /// `name` the function, or `+0x<offset>` in a binary without a symbol for the address.
    pub native: Option<bool>,
}

#[napi(object)]
pub struct ProfileThread {
    /// Process the thread belongs to.
    pub pid: i32,
    /// Kernel thread id as the target sees it (its own PID namespace); 0 when unknown.
    pub tid: i32,
    /// Python's `threading.get_ident()` value, as a decimal string (a 64-bit pthread_t).
    pub python_thread_id: String,
    /// Sub-interpreter id (0 = main interpreter).
    pub interpreter_id: i64,
    /// Thread name when known: Python's (`threading.Thread.name`, e.g. `MainThread`), else
    /// the kernel's (`comm`).
    pub name: Option<String>,
}

#[napi(object)]
pub struct ProfileEntry {
    /// Index into `stacks`.
    pub stack: u32,
    /// Index into `threads`.
    pub thread: u32,
    pub count: f64,
    /// The thread held the GIL in these samples.
    pub gil: bool,
    /// The kernel did not report the thread as running (R) in these samples; without a GIL,
    /// the thread was not on a CPU.
    pub idle: bool,
    /// Without a GIL: the CPU time of these samples' thread that they stand for, in samples
    /// (a thread's total is its CPU time over the mean time between samples). The default
    /// view counts this instead of `count`.
    pub cpu_count: Option<f64>,
}

#[napi(object)]
pub struct TimelineSample {
    /// Microseconds since the recording started.
    pub time_us: f64,
    /// Index into `threads`.
    pub thread: u32,
    pub stack: u32,
    pub gil: bool,
    pub idle: bool,
}

#[napi(object)]
pub struct ProcessSummary {
    pub pid: i32,
    /// Exact version, e.g. `3.12.1`.
    pub python_version: String,
    /// Executable path of the process (`/proc/PID/exe`).
    pub executable: String,
    /// Sampling ticks that reached this process.
    pub ticks: f64,
    /// Ticks where no thread held the GIL: Pyflame's `(idle)`.
    pub gil_idle_ticks: f64,
    /// Ticks whose read failed validation (torn or unreadable stack).
    pub errors: f64,
    /// `errors` by kind, kinds sorted.
    pub error_kinds: Vec<ErrorKindCount>,
    /// Built with `--disable-gil` (3.13t and later).
    pub free_threaded: bool,
    /// Free-threaded and running without a GIL: the default view counts every running thread.
    pub gil_disabled: bool,
    /// One-line warnings about how the process was read, to show once.
    pub notices: Vec<String>,
    /// With `native`: thread samples whose native stack could not be unwound.
    pub native_failures: f64,
}

/// How many sampling errors of one kind (`invalid data: ...`, `unreadable address`).
#[napi(object)]
pub struct ErrorKindCount {
    pub kind: String,
    pub count: f64,
}

fn error_kinds(kinds: std::collections::BTreeMap<String, u64>) -> Vec<ErrorKindCount> {
    kinds.into_iter().map(|(kind, count)| ErrorKindCount { kind, count: count as f64 }).collect()
}

#[napi(object)]
pub struct RawProfile {
    /// The PID that was asked for (the root with `subprocesses`).
    pub pid: i32,
    pub python_version: String,
    /// Unix time in milliseconds when sampling started.
    pub start_time_ms: f64,
    /// Wall time the recording lasted, in seconds.
    pub duration_secs: f64,
    /// Requested (mean) interval between samples, in seconds.
    pub interval_secs: f64,
    /// Sampling ticks taken (each tick samples every thread of every process once).
    pub ticks: f64,
    /// Sampling times skipped because the sampler was still busy with an earlier sample
    /// (ticks + missed estimate duration / interval).
    pub missed: f64,
    /// Ticks with no GIL holder in the root process (Pyflame's `(idle)` count).
    pub gil_idle_ticks: f64,
    /// Ticks that failed validation and were dropped.
    pub errors: f64,
    /// `errors` by kind, kinds sorted.
    pub error_kinds: Vec<ErrorKindCount>,
    /// With `native`: thread samples whose native stack could not be unwound (kept, with a
    /// `(native unwind failed)` frame under their Python frames).
    pub native_failures: f64,
    pub frames: Vec<ProfileFrame>,
    /// Each stack is a list of frame indices, root (outermost) first.
    pub stacks: Vec<Vec<u32>>,
    pub threads: Vec<ProfileThread>,
    pub entries: Vec<ProfileEntry>,
    pub processes: Vec<ProcessSummary>,
    /// Recorded with `subprocesses`: every sample is labelled with its process (`process PID`
    /// root frame), even when only one process was sampled.
    pub subprocesses: Option<bool>,
    /// Every sample with its time; only recorded with `timeline: true` (e.g. `--flamechart`).
    pub timeline: Option<Vec<TimelineSample>>,
    /// Why the recording stopped: `duration`, `stopped` (Ctrl-C/stop()), `target-exited`.
    pub end_reason: String,
}

pub fn frame(f: core::Frame) -> ProfileFrame {
    ProfileFrame { name: f.name, filename: f.filename, line: f.line, first_line: f.first_line, native: f.native.then_some(true) }
}

pub fn profile(p: core::Profile) -> RawProfile {
    RawProfile {
        pid: p.pid,
        python_version: p.python_version,
        start_time_ms: p.start_time_ms,
        duration_secs: p.duration_secs,
        interval_secs: p.interval_secs,
        ticks: p.ticks as f64,
        missed: p.missed as f64,
        gil_idle_ticks: p.gil_idle_ticks as f64,
        errors: p.errors as f64,
        error_kinds: error_kinds(p.error_kinds),
        native_failures: p.native_failures as f64,
        frames: p.frames.into_iter().map(frame).collect(),
        stacks: p.stacks,
        threads: p
            .threads
            .into_iter()
            .map(|t| ProfileThread {
                pid: t.pid,
                tid: t.tid,
                python_thread_id: t.python_thread_id.to_string(),
                interpreter_id: t.interpreter_id,
                name: t.name,
            })
            .collect(),
        entries: p
            .entries
            .into_iter()
            .map(|e| ProfileEntry { stack: e.stack, thread: e.thread, count: e.count as f64, gil: e.gil, idle: e.idle, cpu_count: e.cpu_count.map(|c| c as f64) })
            .collect(),
        processes: p
            .processes
            .into_iter()
            .map(|s| ProcessSummary {
                pid: s.pid,
                python_version: s.python_version,
                executable: s.executable,
                ticks: s.ticks as f64,
                gil_idle_ticks: s.gil_idle_ticks as f64,
                errors: s.errors as f64,
                error_kinds: error_kinds(s.error_kinds),
                free_threaded: s.free_threaded,
                gil_disabled: s.gil_disabled,
                notices: s.notices,
                native_failures: s.native_failures as f64,
            })
            .collect(),
        subprocesses: Some(p.subprocesses),
        timeline: p.timeline.map(|t| {
            t.into_iter()
                .map(|s| TimelineSample { time_us: s.time_us as f64, thread: s.thread, stack: s.stack, gil: s.gil, idle: s.idle })
                .collect()
        }),
        end_reason: p.end_reason.as_str().to_string(),
    }
}

/// Options shared by every entry point that has to find the interpreter.
#[napi(object)]
#[derive(Clone, Default)]
pub struct DiscoverOptions {
    /// Override version detection, e.g. `"3.11"` (for unusual embedders).
    pub python_version: Option<String>,
    /// Ignore the runtime symbols and find the interpreter by scanning (tests the stripped path).
    pub force_scan: Option<bool>,
}

pub fn discover_options(o: &DiscoverOptions) -> napi::Result<pyflame_core::python::DiscoverOptions> {
    let version_override = match &o.python_version {
        None => None,
        Some(text) => Some(parse_version(text).ok_or_else(|| {
            to_js_error(pyflame_core::Error::invalid(format!(
                "unknown Python version {text:?}: give it as X.Y (e.g. 3.11) or Pyflame's ABI form (e.g. 311)"
            )))
        })?),
    };
    Ok(pyflame_core::python::DiscoverOptions { version_override, force_scan: o.force_scan.unwrap_or(false) })
}

/// `3.11`, `3.11.4` or Pyflame's `--abi` spelling `311` / `27`.
fn parse_version(text: &str) -> Option<pyflame_core::python::PythonVersion> {
    use pyflame_core::python::PythonVersion;
    let text = text.trim();
    if let Some(v) = PythonVersion::from_version_string(text) {
        return Some(v);
    }
    if text.len() >= 2 && text.chars().all(|c| c.is_ascii_digit()) {
        let (major, minor) = text.split_at(1);
        let v = PythonVersion::from_version_string(&format!("{major}.{minor}.0"))?;
        return Some(v);
    }
    let (major, minor) = text.split_once('.')?;
    PythonVersion::from_version_string(&format!("{major}.{minor}.0"))
}
