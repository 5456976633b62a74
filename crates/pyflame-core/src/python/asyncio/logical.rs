//! One sample's logical stacks: a running task's stack is its thread's frames from the task's
//! outermost coroutine up, below the coroutine stacks of the tasks awaiting it, each task's
//! part headed by the task's name (`Task-1; main; fetch; Task-7; handle; ...`).

use super::{AsyncReader, AsyncTask, Awaited};
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::python::code_cache::CodeCache;
use crate::python::walker::RawFrame;
use std::collections::{HashMap, HashSet};

/// Most awaiting tasks stitched above one task; more means a cycle.
pub const MAX_TASK_DEPTH: usize = 256;

/// One frame of a logical stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackItem {
    Frame(RawFrame),
    /// The start of a task's part of the stack.
    Task(String),
}

impl AsyncReader {
    /// The logical stack (root first) of the task `tstate`'s thread is running, given the
    /// thread's own stack; None when the thread runs no task (its plain stack stands).
    ///
    /// `seen_before`: the thread's running task read just before its stack (when the target
    /// was not paused; `UNKNOWN_TASK` when that read failed); a different task now means the loop switched tasks while the stack was
    /// read, and the stack belongs to neither for sure.
    pub fn running_stack(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, tstate: u64, thread_frames: &[RawFrame], seen_before: Option<u64>) -> ReadResult<Option<Vec<StackItem>>> {
        let task = self.running_task(mem, tstate)?;
        if seen_before.is_some_and(|before| before != task) {
            return Err(ReadError::Invalid("the running task changed while the stack was read"));
        }
        if task == 0 {
            return Ok(None);
        }
        // Innermost task first, reversed at the end.
        let mut parts: Vec<(String, Vec<RawFrame>)> = Vec::new();
        let mut current = task;
        let mut thread = Some(thread_frames);
        let mut visited = Vec::new();
        while current != 0 && parts.len() < MAX_TASK_DEPTH && !visited.contains(&current) {
            visited.push(current);
            let record = self.read_task(mem, current)?;
            let mut frames = Vec::new();
            self.task_frames(mem, codes, record.coro, thread.take(), &mut frames)?;
            parts.push((record.name, frames));
            // The first awaiter that is itself a task (a deleted set slot, or a future, is not).
            current = record.awaited_by.iter().copied().find(|&a| self.read_task(mem, a).is_ok()).unwrap_or(0);
        }
        Ok(Some(flatten(parts.into_iter().rev())))
    }

}

/// The logical stacks of a snapshot's waiting leaf tasks (`--async-wall`): tasks neither
/// running nor awaiting another task, each under the tasks awaiting it. Returns (list thread,
/// stack) pairs.
pub fn waiting_stacks(tasks: &[AsyncTask]) -> Vec<(Option<usize>, Vec<StackItem>)> {
    let by_addr: HashMap<u64, &AsyncTask> = tasks.iter().map(|t| (t.addr, t)).collect();
    // A task awaited by others waits through them (a gather's parent): only leaves count.
    let awaiting: HashSet<u64> = tasks.iter().flat_map(|t| t.awaited_by.iter().copied()).collect();
    let mut out = Vec::new();
    for task in tasks {
        if task.running_thread.is_some() || task.error.is_some() || awaiting.contains(&task.addr) || matches!(task.awaits, Some(Awaited::Task(_))) {
            continue;
        }
        if task.frames.is_empty() {
            continue;
        }
        let mut parts: Vec<(String, Vec<RawFrame>)> = Vec::new();
        let mut current = Some(task);
        let mut visited = Vec::new();
        while let Some(t) = current {
            if visited.contains(&t.addr) || parts.len() >= MAX_TASK_DEPTH {
                break;
            }
            visited.push(t.addr);
            parts.push((t.name.clone(), t.frames.clone()));
            current = t.awaited_by.first().and_then(|a| by_addr.get(a).copied());
        }
        out.push((task.list_thread, flatten(parts.into_iter().rev())));
    }
    out
}

/// How a task heads its part of a profile's stack: its name, except that asyncio's numbered
/// default names (`Task-<n>`) all become `Task-*`. A server gives every request a task of its
/// own; numbered, its requests would never merge into one tower per handler, and each would
/// add distinct stacks to the profile for as long as the recording runs.
pub fn profile_task_label(name: &str) -> String {
    match name.strip_prefix("Task-") {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => DEFAULT_TASK_LABEL.to_string(),
        _ => name.to_string(),
    }
}

/// The label of every task that kept asyncio's default name.
pub const DEFAULT_TASK_LABEL: &str = "Task-*";

fn flatten(parts: impl Iterator<Item = (String, Vec<RawFrame>)>) -> Vec<StackItem> {
    let mut stack = Vec::new();
    for (name, frames) in parts {
        stack.push(StackItem::Task(profile_task_label(&name)));
        stack.extend(frames.into_iter().map(StackItem::Frame));
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_task_names_merge_and_chosen_names_stay() {
        assert_eq!(profile_task_label("Task-1"), "Task-*");
        assert_eq!(profile_task_label("Task-123456"), "Task-*");
        assert_eq!(profile_task_label("Task-"), "Task-");
        assert_eq!(profile_task_label("Task-1a"), "Task-1a");
        assert_eq!(profile_task_label("fetch_a"), "fetch_a");
    }
}
