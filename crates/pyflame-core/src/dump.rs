//! One-shot stacks of every thread (`dump`): a consistent snapshot for a hung process.

use crate::error::{Error, Result};
use crate::native::merge::MergedFrame;
use crate::native::NativeSampler;
use crate::process::lock::ProcessLock;
use crate::process::memory::ProcessMemory;
use crate::process::tasks::{self, TaskStat};
use crate::profile::Frame;
use crate::python::free_threaded::Threading;
use crate::python::locals::{LocalVariable, LocalsReader};
use crate::python::thread_names::ThreadNames;
use crate::python::{DiscoverOptions, PythonTarget, Sample, Walker};

#[derive(Debug, Clone)]
pub struct DumpThread {
    pub tid: i32,
    pub python_thread_id: u64,
    pub interpreter_id: i64,
    /// Python's name for the thread (`threading`), else the kernel's.
    pub name: Option<String>,
    /// The kernel's name for the thread (`comm`).
    pub kernel_name: Option<String>,
    pub holds_gil: bool,
    pub idle: bool,
    /// Leaf (innermost) first, as tracebacks are read from the top in `dump`.
    pub frames: Vec<Frame>,
    /// Set when this thread's stack could not be read.
    pub error: Option<String>,
    /// With `locals`: each frame's local variables, in the order of `frames`.
    pub locals: Option<Vec<Vec<LocalVariable>>>,
    /// With `locals`: why this thread's locals could not be read.
    pub locals_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Dump {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    /// Built with `--disable-gil`.
    pub free_threaded: bool,
    /// Free-threaded and running without its GIL.
    pub gil_disabled: bool,
    /// One-line warnings about how the process was read (e.g. a Python newer than this build).
    pub notices: Vec<String>,
    pub threads: Vec<DumpThread>,
}

#[derive(Debug, Clone, Default)]
pub struct DumpOptions {
    /// Pause the threads while reading (default for dump: a consistent snapshot).
    pub blocking: bool,
    pub discover: DiscoverOptions,
    /// Also read each frame's local variables (in the same paused moment as the stacks).
    pub locals: bool,
    /// Also unwind each thread's native stack and merge it in (pauses the target).
    pub native: bool,
}

/// Attempts at a snapshot in which every thread's stack validates.
const ATTEMPTS: usize = 5;
/// How long a dump waits for each thread to stop: longer than a recording's sample may, since
/// a thread that is rarely scheduled (niced, on a busy machine) takes long to reach its stop,
/// and one that is not stopped must be read as running.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

pub fn dump(pid: i32, options: &DumpOptions) -> Result<Dump> {
    let target = PythonTarget::discover(pid, &options.discover)?;
    let python_version = target.layout.version.to_string();
    let executable = target.executable.clone();
    let threading = Threading::of(&target, &ProcessMemory::new(pid));
    let notices: Vec<String> = target.layout.notice().into_iter().collect();
    let mut python_names = ThreadNames::new(&target, &ProcessMemory::new(pid));
    let mut native = options.native.then(|| NativeSampler::new(&target));
    let mut walker = Walker::new(target);
    walker.known_tids = tasks::list_tasks(pid).unwrap_or_default();
    let mem = ProcessMemory::new(pid);
    let states: Vec<(i32, Option<u8>, Option<String>)> = walker
        .known_tids
        .iter()
        .map(|&tid| match TaskStat::open(pid, tid) {
            Ok(mut s) => (tid, s.state(), s.comm()),
            Err(_) => (tid, None, None),
        })
        .collect();
    let mut locals_reader = if options.locals {
        match LocalsReader::new(walker.target.layout, walker.target.code_type) {
            Some(reader) => Some(reader),
            None => {
                return Err(Error::unsupported(format!(
                    "--locals has no table for Python {python_version} (it reads 2.7, 3.6-3.13 built in, and 3.13+ from their debug offsets); dump without --locals"
                )))
            }
        }
    } else {
        None
    };
    // Seized only once everything that can refuse the dump has been checked.
    let mut lock = if options.blocking || options.native { Some(ProcessLock::seize(pid)?) } else { None };
    let mut sample = Sample::default();
    let mut locals: Vec<std::result::Result<Vec<Vec<LocalVariable>>, String>> = Vec::new();
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let mut read = |walker: &mut Walker, sample: &mut Sample, stopped: Option<Vec<i32>>| {
            let result = match stopped {
                Some(stopped) => walker.sample_paused(&mem, sample, stopped),
                None => walker.sample(&mem, sample),
            };
            // Names and locals are read in the same pause as the stacks: one moment.
            if result.is_ok() {
                python_names.read_now(&mem);
            }
            locals.clear();
            if let (Ok(()), Some(reader)) = (&result, locals_reader.as_mut()) {
                for t in &sample.threads {
                    locals.push(reader.thread_locals(&mem, t.tstate).map_err(|e| e.to_string()));
                }
            }
            result
        };
        let result = match lock.as_mut() {
            Some(l) => {
                let paused = l.pause_waiting(STOP_WAIT)?;
                let result = read(&mut walker, &mut sample, Some(paused.stopped_in_namespace(pid)));
                if let (Ok(()), Some(native)) = (&result, native.as_mut()) {
                    native.capture(&mem, &sample, &|tid| tid);
                }
                result
            }
            None => read(&mut walker, &mut sample, None),
        };
        match result {
            // Without pausing, a stack can move between the two reads: that is torn too.
            Ok(()) if sample.threads.iter().all(|t| t.error.is_none()) && locals_match(&sample, &locals) => {
                last_error = None;
                break;
            }
            Ok(()) => last_error = sample.threads.iter().find_map(|t| t.error).map(|e| e.to_string()),
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    drop(lock);
    if let Some(native) = native.as_mut() {
        native.merge(&sample);
    }
    if sample.threads.is_empty() {
        if let Some(e) = last_error {
            return Err(Error::read_failed(format!("could not read the stacks of process {pid}: {e}")));
        }
    }
    let threads = sample
        .threads
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let frame_count = t.frames.len();
            let (mut thread_locals, locals_error) = match locals.get(i) {
                None => (None, None),
                Some(Ok(l)) if l.len() == frame_count => (Some(l.clone()), None),
                Some(Ok(l)) => (None, Some(format!("{} frames with locals for {} frames (the stack moved)", l.len(), frame_count))),
                Some(Err(e)) => (None, Some(e.clone())),
            };
            let state = t.native_tid.and_then(|tid| states.iter().find(|s| s.0 == tid));
            let python_frame = |f: &crate::python::RawFrame| {
                let code = walker.codes.get(f.code);
                Frame { name: code.name.clone(), filename: code.filename.clone(), line: f.line, first_line: code.first_line, native: false }
            };
            let frames: Vec<Frame> = match native.as_ref() {
                Some(native) => {
                    let merged = native.thread_frames(i);
                    // Locals stay aligned with frames: native frames have none.
                    if let Some(by_python_frame) = thread_locals.take() {
                        let mut python_locals = by_python_frame.into_iter().rev();
                        thread_locals = Some(merged.iter().map(|f| if matches!(f, MergedFrame::Python(_)) { python_locals.next().unwrap_or_default() } else { Vec::new() }).collect::<Vec<_>>().into_iter().rev().collect());
                    }
                    merged
                        .iter()
                        .rev()
                        .map(|f| match f {
                            MergedFrame::Python(raw) => python_frame(raw),
                            MergedFrame::Native(id) => native.frames.get(*id).clone(),
                        })
                        .collect()
                }
                None => sample.frames_of(t).iter().rev().map(python_frame).collect(),
            };
            DumpThread {
                tid: t.native_tid.unwrap_or(0),
                python_thread_id: t.python_thread_id,
                interpreter_id: t.interpreter_id,
                name: python_names.get(t.python_thread_id).map(str::to_string).or_else(|| state.and_then(|s| s.2.clone())),
                kernel_name: state.and_then(|s| s.2.clone()),
                holds_gil: t.holds_gil,
                idle: state.and_then(|s| s.1).is_some_and(|s| s != b'R') && !t.holds_gil,
                frames,
                error: t.error.map(|e| e.to_string()),
                locals: thread_locals,
                locals_error: if options.locals && t.error.is_none() { locals_error } else { None },
            }
        })
        .collect();
    Ok(Dump { pid, python_version, executable, free_threaded: threading.free_threaded, gil_disabled: threading.gil_disabled, notices, threads })
}

/// Every thread's locals were read for exactly the frames the walker saw (or none were asked).
fn locals_match(sample: &Sample, locals: &[std::result::Result<Vec<Vec<LocalVariable>>, String>]) -> bool {
    locals.is_empty() || sample.threads.iter().zip(locals).all(|(t, l)| l.as_ref().is_ok_and(|l| l.len() == t.frames.len()))
}
