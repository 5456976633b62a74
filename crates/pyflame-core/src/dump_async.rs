//! `dump --async`: every asyncio task of a process at one moment, with its coroutine stack,
//! what it awaits and which tasks await it.

use crate::dump::DumpOptions;
use crate::error::{Error, Result};
use crate::process::lock::ProcessLock;
use crate::process::memory::ProcessMemory;
use crate::process::tasks;
use crate::profile::Frame;
use crate::python::asyncio::{AsyncReader, Awaited};
use crate::python::{PythonTarget, Sample, Walker};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct AsyncDumpTask {
    /// Address of the task object: its identity in `awaited_by` and `awaits_task`.
    pub id: u64,
    pub name: String,
    /// Kernel tid of the thread running it now; None when it is waiting.
    pub running_tid: Option<i32>,
    /// Outermost coroutine first.
    pub frames: Vec<Frame>,
    /// The task it awaits, when it awaits a task.
    pub awaits_task: Option<u64>,
    /// The type of what it awaits otherwise (`_asyncio.Future`, `_GatheringFuture`, ...).
    pub awaits_object: Option<String>,
    pub awaited_by: Vec<u64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AsyncDump {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    /// False when the process has not imported asyncio (then `tasks` is empty).
    pub asyncio_loaded: bool,
    pub tasks: Vec<AsyncDumpTask>,
    /// Where the dump's time went (bench/async-dump.mjs splits a whole command with it).
    pub times: AsyncDumpTimes,
}

/// Wall time of each phase of one `dump_async`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncDumpTimes {
    /// Finding the interpreter: maps, ELF symbols, the runtime and its version.
    pub discover: Duration,
    /// Finding asyncio's layout (3.14+: its debug section; 3.11–3.13: the task sets).
    pub open: Duration,
    /// Seizing every thread with ptrace (blocking mode).
    pub seize: Duration,
    /// Pausing, walking the threads and reading every task, then naming the frames.
    pub walk: Duration,
}

const ATTEMPTS: usize = 5;

pub fn dump_async(pid: i32, options: &DumpOptions) -> Result<AsyncDump> {
    let mut times = AsyncDumpTimes::default();
    let mut phase = Instant::now();
    let mut lap = || {
        let now = Instant::now();
        now - std::mem::replace(&mut phase, now)
    };
    let target = PythonTarget::discover(pid, &options.discover)?;
    times.discover = lap();
    let mem = ProcessMemory::new(pid);
    let python_version = target.layout.version.to_string();
    let executable = target.executable.clone();
    let opened = AsyncReader::open(&target, &mem)?;
    times.open = lap();
    let Some(mut reader) = opened else {
        return Ok(AsyncDump { pid, python_version, executable, asyncio_loaded: false, tasks: Vec::new(), times });
    };
    let mut walker = Walker::new(target);
    walker.known_tids = tasks::list_tasks(pid).unwrap_or_default();
    let mut lock = if options.blocking { Some(ProcessLock::seize(pid)?) } else { None };
    times.seize = lap();
    let paused = lock.is_some();
    let mut sample = Sample::default();
    let mut last_error = String::new();
    let mut found = None;
    for attempt in 0..ATTEMPTS {
        reader.next_sample(attempt as u64 + 1);
        let pause = match lock.as_mut() {
            Some(l) => Some(l.pause()?),
            None => None,
        };
        let walked = match &pause {
            Some(p) => walker.sample_paused(&mem, &mut sample, p.stopped_in_namespace(pid)),
            None => walker.sample(&mem, &mut sample),
        };
        if let Err(e) = walked {
            last_error = e.to_string();
            continue;
        }
        if let Some(e) = sample.threads.iter().find_map(|t| t.error) {
            last_error = e.to_string();
            continue;
        }
        match reader.snapshot(&mem, &mut walker.codes, &walker.target, &sample) {
            // Without pausing, a task may change while read: retry that moment.
            Ok(tasks) if tasks.iter().any(|t| t.error.is_some()) && attempt + 1 < ATTEMPTS && !paused => {
                last_error = tasks.iter().find_map(|t| t.error).map(|e| e.to_string()).unwrap_or_default();
            }
            Ok(tasks) => {
                found = Some(tasks);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    drop(lock);
    let tasks = found.ok_or_else(|| Error::read_failed(format!("could not read the asyncio tasks of process {pid}: {last_error}")))?;
    let frame = |f: &crate::python::RawFrame| {
        let code = walker.codes.get(f.code);
        Frame { name: code.name.clone(), filename: code.filename.clone(), line: f.line, first_line: code.first_line, native: false }
    };
    let tasks = tasks
        .iter()
        .map(|t| AsyncDumpTask {
            id: t.addr,
            name: t.name.clone(),
            running_tid: t.running_thread.map(|i| sample.threads[i].native_tid.unwrap_or(0)),
            frames: t.frames.iter().map(frame).collect(),
            awaits_task: match &t.awaits {
                Some(Awaited::Task(a)) => Some(*a),
                _ => None,
            },
            awaits_object: match &t.awaits {
                Some(Awaited::Object(name)) => Some(name.clone()),
                _ => None,
            },
            awaited_by: t.awaited_by.clone(),
            error: t.error.map(|e| e.to_string()),
        })
        .collect();
    times.walk = lap();
    Ok(AsyncDump { pid, python_version, executable, asyncio_loaded: true, tasks, times })
}
