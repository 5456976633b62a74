//! `record --async`: after each sample of a process's threads, the asyncio view of it — the
//! running task's logical stack per thread, and with `--async-wall` every waiting task's.

use super::AsyncMode;
use crate::error::Result;
use crate::process::memory::RemoteMemory;
use crate::profile::aggregate::{AsyncStacks, ThreadAsync};
use crate::python::asyncio::logical::waiting_stacks;
use crate::python::asyncio::AsyncReader;
use crate::python::{PythonTarget, Sample, Walker};
use std::collections::HashMap;

/// Stands for a running task that could not be read before the stack (never a task's address).
pub const UNKNOWN_TASK: u64 = u64::MAX;

/// Samples between attempts to find `_asyncio` in a process that has not imported it yet.
const OPEN_RETRY: u64 = 50;

pub struct AsyncSampling {
    mode: AsyncMode,
    reader: Option<AsyncReader>,
    tick: u64,
    next_open: u64,
    /// This sample's stacks, read by the aggregator.
    pub stacks: AsyncStacks,
    /// Threads (or, with `--async-wall`, whole task snapshots) of this sample that could not
    /// be read consistently.
    pub torn: u64,
    /// Thread state → running task, read just before the stacks (when not pausing), for the
    /// thread states of the previous sample.
    before: HashMap<u64, u64>,
    tstates: Vec<u64>,
}

impl AsyncSampling {
    /// Fails with `ERR_UNSUPPORTED_PYTHON` for versions whose tasks cannot be read.
    pub fn new(target: &PythonTarget, mode: AsyncMode) -> Result<AsyncSampling> {
        let mem = crate::process::memory::ProcessMemory::new(target.pid);
        let reader = AsyncReader::open(target, &mem)?;
        Ok(AsyncSampling { mode, reader, tick: 0, next_open: OPEN_RETRY, stacks: AsyncStacks::default(), torn: 0, before: HashMap::new(), tstates: Vec::new() })
    }

    /// Before a sample of a running (not paused) target: each known thread's running task,
    /// so that `read` can tell a stack read across a task switch.
    pub fn before(&mut self, mem: &dyn RemoteMemory) {
        self.before.clear();
        let Some(reader) = self.reader.as_ref() else { return };
        for &tstate in &self.tstates {
            // A read that failed (the dict changing under us) is remembered too: the stack that
            // follows cannot be told apart from a task switch, so it must not pass as task-free.
            let task = reader.running_task(mem, tstate).unwrap_or(UNKNOWN_TASK);
            self.before.insert(tstate, task);
        }
    }

    /// Reads the tasks for `sample`, just taken by `walker` (in the same pause when pausing).
    pub fn read(&mut self, mem: &dyn RemoteMemory, walker: &mut Walker, sample: &Sample) {
        self.tstates.clear();
        self.tstates.extend(sample.threads.iter().map(|t| t.tstate));
        self.tick += 1;
        self.stacks.running.clear();
        self.stacks.waiting.clear();
        self.torn = 0;
        if self.reader.is_none() && self.tick >= self.next_open {
            self.next_open = self.tick + OPEN_RETRY;
            self.reader = AsyncReader::open(&walker.target, mem).ok().flatten();
        }
        let Some(reader) = self.reader.as_mut() else { return };
        reader.next_sample(self.tick);
        for thread in &sample.threads {
            let state = if thread.error.is_some() {
                ThreadAsync::Plain
            } else {
                let before = self.before.get(&thread.tstate).copied();
                match reader.running_stack(mem, &mut walker.codes, thread.tstate, sample.frames_of(thread), before) {
                    Ok(Some(items)) => ThreadAsync::Task(items),
                    Ok(None) => ThreadAsync::Plain,
                    Err(_) => {
                        self.torn += 1;
                        ThreadAsync::Torn
                    }
                }
            };
            self.stacks.running.push(state);
        }
        self.before.clear();
        if self.mode == AsyncMode::Wall {
            match reader.snapshot(mem, &mut walker.codes, &walker.target, sample) {
                Ok(tasks) => self.stacks.waiting = waiting_stacks(&tasks),
                Err(_) => self.torn += 1,
            }
        }
    }
}
