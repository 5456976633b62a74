//! Finding tasks: 3.14+ links every C task into a list on the thread that created it
//! (`_PyThreadStateImpl.asyncio_tasks_head`), and moves the tasks of a thread that ends to
//! its interpreter's list. Each thread state also names the task it is running.

use super::coroutines::word;
use super::layout::{TPFLAGS_LONG_SUBCLASS, TPFLAGS_UNICODE_SUBCLASS};
use super::AsyncReader;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::python::strings::read_str;

/// Most tasks we list per list; more means a cycle or garbage.
pub const MAX_TASKS: usize = 1 << 20;
/// Most awaiters of one task we read.
const MAX_AWAITERS: usize = 4096;

/// One task object as read.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub addr: u64,
    pub name: String,
    pub coro: u64,
    /// The tasks (or futures) awaiting this one.
    pub awaited_by: Vec<u64>,
}

impl AsyncReader {
    /// Appends the addresses of the tasks in the list whose head node is at `head`.
    pub fn list_tasks(&mut self, mem: &dyn RemoteMemory, head: u64, out: &mut Vec<u64>) -> ReadResult<()> {
        let node_offset = self.layout.task_node;
        let mut node = mem.read_u64(head)?;
        let mut count = 0;
        while node != head {
            if node == 0 || node % 8 != 0 {
                return Err(ReadError::Invalid("task list node"));
            }
            count += 1;
            if count > MAX_TASKS {
                return Err(ReadError::Invalid("task list too long (cycle?)"));
            }
            out.push(node.wrapping_sub(node_offset));
            node = mem.read_u64(node)?;
        }
        Ok(())
    }

    /// The task a thread is running, or 0 (no loop running, or between task steps).
    pub fn running_task(&self, mem: &dyn RemoteMemory, tstate: u64) -> ReadResult<u64> {
        if let Some(legacy) = &self.legacy {
            return legacy.running_task(mem, tstate);
        }
        let l = &self.layout;
        if mem.read_u64(tstate.wrapping_add(l.tstate_running_loop))? == 0 {
            return Ok(0);
        }
        Ok(mem.read_u64(tstate.wrapping_add(l.tstate_running_task))? & !3)
    }

    /// Reads the task object at `addr`: its name, coroutine and awaiters.
    pub fn read_task(&mut self, mem: &dyn RemoteMemory, addr: u64) -> ReadResult<TaskRecord> {
        if self.legacy.is_some() {
            return self.legacy_read_task(mem, addr);
        }
        let l = self.layout;
        if addr == 0 || addr % 8 != 0 {
            return Err(ReadError::Invalid("task pointer"));
        }
        let mut buf = std::mem::take(&mut self.task_buf);
        buf.resize(l.task_size as usize, 0);
        let read = mem.read(addr, &mut buf);
        let record = read.and_then(|()| {
            if buf[l.task_is_task as usize] == 0 {
                return Err(ReadError::Invalid("a future in the task list"));
            }
            let coro = word(&buf, l.task_coro) & !3;
            let name_ptr = word(&buf, l.task_name) & !3;
            let awaited_by = word(&buf, l.task_awaited_by) & !3;
            let is_set = buf[l.task_awaited_by_is_set as usize] != 0;
            let name = self.task_name(mem, name_ptr, addr)?;
            let mut awaiters = Vec::new();
            if awaited_by != 0 {
                if is_set {
                    self.set_members(mem, awaited_by, &mut awaiters)?;
                } else {
                    awaiters.push(awaited_by);
                }
            }
            Ok(TaskRecord { addr, name, coro, awaited_by: awaiters })
        });
        self.task_buf = buf;
        record
    }

    /// A task's name: a str, or (3.12+, until asked for) the int `n` of `Task-<n>`.
    pub(super) fn task_name(&mut self, mem: &dyn RemoteMemory, name: u64, task: u64) -> ReadResult<String> {
        if name == 0 {
            return Ok(format!("task at {task:#x}"));
        }
        if let Some(cached) = self.names.get(&name) {
            return Ok(cached.clone());
        }
        let l = self.layout;
        let ty = mem.read_u64(name.wrapping_add(l.object_type))?;
        let flags = mem.read_u64(ty.wrapping_add(l.type_flags))?;
        let text = if flags & TPFLAGS_UNICODE_SUBCLASS != 0 {
            let s = read_str(mem, &self.py.offsets, self.py.string_format, name, None)?;
            s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
        } else if flags & TPFLAGS_LONG_SUBCLASS != 0 {
            // 3.12 and 3.13 name tasks lazily too; their ints are read by the object reader.
            let number = match &self.legacy {
                Some(legacy) => legacy.read_int(mem, name)?,
                None => self.read_small_int(mem, name)?,
            };
            format!("Task-{number}")
        } else {
            return Err(ReadError::Invalid("task name is neither str nor int"));
        };
        if self.names.len() < 65536 {
            self.names.insert(name, text.clone());
        }
        Ok(text)
    }

    /// A non-negative int of at most two 30-bit digits (3.12+ `lv_tag` layout).
    fn read_small_int(&self, mem: &dyn RemoteMemory, addr: u64) -> ReadResult<u64> {
        let l = &self.layout;
        let tag = mem.read_u64(addr.wrapping_add(l.long_tag))?;
        let digits = tag >> 3;
        if tag & 3 == 2 || digits > 2 {
            return Err(ReadError::Invalid("task number"));
        }
        let mut value = 0u64;
        for i in (0..digits).rev() {
            let d = mem.read_u32(addr.wrapping_add(l.long_digits + 4 * i))? as u64;
            value = (value << 30) | (d & ((1 << 30) - 1));
        }
        Ok(value)
    }

    /// The keys of a set object (the awaiters of a task awaited by several).
    fn set_members(&mut self, mem: &dyn RemoteMemory, set: u64, out: &mut Vec<u64>) -> ReadResult<()> {
        let l = self.layout;
        let used = mem.read_u64(set.wrapping_add(l.set_used))?;
        let mask = mem.read_u64(set.wrapping_add(l.set_mask))?;
        let table = mem.read_u64(set.wrapping_add(l.set_table))?;
        if mask >= (1 << 20) || used > mask + 1 || (mask + 1) & mask != 0 {
            return Err(ReadError::Invalid("set of awaiters"));
        }
        let entries = mem.read_vec(table, ((mask + 1) * 16) as usize)?;
        for entry in entries.chunks_exact(16) {
            let key = u64::from_le_bytes(entry[..8].try_into().unwrap());
            // Empty slots are NULL; deleted ones hold a dummy key, dropped by the caller,
            // which keeps only awaiters that are tasks it listed.
            if key != 0 && out.len() < MAX_AWAITERS {
                out.push(key);
            }
        }
        Ok(())
    }
}
