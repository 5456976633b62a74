//! `record --async`: after each sample of a process's threads, the asyncio view of it — the
//! running task's logical stack per thread, and with `--async-wall` every waiting task's.

use super::AsyncMode;
use crate::error::Result;
use crate::process::memory::RemoteMemory;
use crate::profile::aggregate::{AsyncStacks, ThreadAsync};
use crate::python::asyncio::logical::waiting_stacks;
use crate::python::asyncio::AsyncReader;
use crate::python::{PythonTarget, Sample, Walker};

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
}

impl AsyncSampling {
    /// Fails with `ERR_UNSUPPORTED_PYTHON` for versions whose tasks cannot be read.
    pub fn new(target: &PythonTarget, mode: AsyncMode) -> Result<AsyncSampling> {
        let mem = crate::process::memory::ProcessMemory::new(target.pid);
        let reader = AsyncReader::open(target, &mem)?;
        Ok(AsyncSampling { mode, reader, tick: 0, next_open: OPEN_RETRY, stacks: AsyncStacks::default(), torn: 0 })
    }

    /// Reads the tasks for `sample`, just taken by `walker` (in the same pause when pausing).
    pub fn read(&mut self, mem: &dyn RemoteMemory, walker: &mut Walker, sample: &Sample) {
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
                match reader.running_stack(mem, &mut walker.codes, thread.tstate, sample.frames_of(thread)) {
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
        if self.mode == AsyncMode::Wall {
            match reader.snapshot(mem, &mut walker.codes, &walker.target, sample) {
                Ok(tasks) => self.stacks.waiting = waiting_stacks(&tasks),
                Err(_) => self.torn += 1,
            }
        }
    }
}
