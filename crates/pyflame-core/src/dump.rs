//! One-shot stacks of every thread (`dump`): a consistent snapshot for a hung process.

use crate::error::{Error, Result};
use crate::native::merge::MergedFrame;
use crate::native::NativeSampler;
use crate::process::lock::ProcessLock;
use crate::process::memory::ProcessMemory;
use crate::process::tasks::{self, TaskStat};
use crate::profile::Frame;
use crate::python::locals::{LocalVariable, LocalsReader};
use crate::python::{DiscoverOptions, PythonTarget, Sample, Walker};

#[derive(Debug, Clone)]
pub struct DumpThread {
    pub tid: i32,
    pub python_thread_id: u64,
    pub interpreter_id: i64,
    pub name: Option<String>,
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

pub fn dump(pid: i32, options: &DumpOptions) -> Result<Dump> {
    let target = PythonTarget::discover(pid, &options.discover)?;
    let python_version = target.layout.version.to_string();
    let executable = target.executable.clone();
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
                    "--locals is not supported for Python {python_version} yet (supported: 2.7, 3.6-3.13); dump without --locals"
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
        let mut read = |walker: &mut Walker, sample: &mut Sample, paused: bool| {
            let result = if paused { walker.sample_paused(&mem, sample) } else { walker.sample(&mem, sample) };
            // Locals are read in the same pause as the stacks, so the two describe one moment.
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
                let _paused = l.pause()?;
                let result = read(&mut walker, &mut sample, true);
                if let (Ok(()), Some(native)) = (&result, native.as_mut()) {
                    native.capture(&mem, &sample, &|tid| tid);
                }
                result
            }
            None => read(&mut walker, &mut sample, false),
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
                name: state.and_then(|s| s.2.clone()),
                holds_gil: t.holds_gil,
                idle: state.and_then(|s| s.1).is_some_and(|s| s != b'R') && !t.holds_gil,
                frames,
                error: t.error.map(|e| e.to_string()),
                locals: thread_locals,
                locals_error: if options.locals && t.error.is_none() { locals_error } else { None },
            }
        })
        .collect();
    Ok(Dump { pid, python_version, executable, threads })
}

/// Every thread's locals were read for exactly the frames the walker saw (or none were asked).
fn locals_match(sample: &Sample, locals: &[std::result::Result<Vec<Vec<LocalVariable>>, String>]) -> bool {
    locals.is_empty() || sample.threads.iter().zip(locals).all(|(t, l)| l.as_ref().is_ok_and(|l| l.len() == t.frames.len()))
}
