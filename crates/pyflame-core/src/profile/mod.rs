//! The aggregated result of a recording: interned frames and stacks plus counts.
//! Memory grows with the number of *distinct* stacks, never with the number of samples
//! (except the opt-in timeline).

pub mod aggregate;

pub use aggregate::Aggregator;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    pub name: String,
    pub filename: String,
    pub line: u32,
    pub first_line: u32,
    /// A native (C/C++/Rust) frame from `--native`: `filename` is the binary's file name and
    /// `name` the symbol, or `+0x<offset>` when the binary has none for the address.
    pub native: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub pid: i32,
    /// Kernel tid as the target sees it; 0 when unknown.
    pub tid: i32,
    pub python_thread_id: u64,
    pub interpreter_id: i64,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub stack: u32,
    pub thread: u32,
    pub count: u64,
    pub gil: bool,
    pub idle: bool,
    /// Without a GIL, the samples that entry's CPU time is worth (`sampler/on_cpu.rs`): what
    /// the default view counts instead of `count`. None with a GIL (or no CPU weight).
    pub cpu_count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineSample {
    pub time_us: u64,
    pub thread: u32,
    pub stack: u32,
    pub gil: bool,
    pub idle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSummary {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    pub ticks: u64,
    pub gil_idle_ticks: u64,
    pub errors: u64,
    /// `errors` by kind (`invalid data: ...`, `unreadable address`), kinds sorted.
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    /// Built with `--disable-gil`.
    pub free_threaded: bool,
    /// Free-threaded and running without its GIL when the recording started: there is no GIL
    /// holder, so the default view counts every running thread.
    pub gil_disabled: bool,
    /// One-line warnings about how this process was read (e.g. a Python newer than this build).
    pub notices: Vec<String>,
    /// `--native`: thread samples whose native stack could not be unwound (they keep their
    /// Python frames, under a `(native unwind failed)` frame).
    pub native_failures: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The requested duration (or sample count) was reached.
    Duration,
    /// Stopped from outside (Ctrl-C, `stop()`).
    Stopped,
    /// The target process exited.
    TargetExited,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Duration => "duration",
            EndReason::Stopped => "stopped",
            EndReason::TargetExited => "target-exited",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub pid: i32,
    pub python_version: String,
    pub start_time_ms: f64,
    pub duration_secs: f64,
    pub interval_secs: f64,
    pub ticks: u64,
    /// Sampling times skipped because the sampler was still busy with an earlier sample.
    pub missed: u64,
    pub gil_idle_ticks: u64,
    pub errors: u64,
    /// `errors` by kind, over the processes that count in `errors`.
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    /// `--native`: see `ProcessSummary::native_failures`.
    pub native_failures: u64,
    pub frames: Vec<Frame>,
    /// Root first.
    pub stacks: Vec<Vec<u32>>,
    pub threads: Vec<Thread>,
    pub entries: Vec<Entry>,
    pub processes: Vec<ProcessSummary>,
    /// Recorded with `--subprocesses`: every sample is labelled with its process, even when
    /// only one was sampled.
    pub subprocesses: bool,
    pub timeline: Option<Vec<TimelineSample>>,
    pub end_reason: EndReason,
}
