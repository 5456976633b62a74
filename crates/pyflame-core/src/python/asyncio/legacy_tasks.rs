//! Finding tasks on 3.7–3.13, which keep no task list in the thread state. `asyncio.tasks` holds
//! every task: 3.7–3.11 in the WeakSet `_all_tasks`, 3.12+ in the WeakSet `_scheduled_tasks` plus the
//! set `_eager_tasks` (all three are the `_asyncio` module's own objects), and the task each loop
//! runs right now in the dict `_current_tasks` (loop → task). A loop's thread is its `_thread_id`.
//!
//! Who awaits a task is read from its done-callbacks, as asyncio wires them: a task awaiting
//! another adds its bound `task_wakeup` (3.10+: a builtin method whose `self` is the awaiting
//! task; ≤3.9: a `TaskWakeupMethWrapper` holding it);
//! `gather` adds a closure over its `_GatheringFuture`, whose own callbacks lead to the task
//! awaiting the gather.

use super::legacy_layout::LegacyAsyncioOffsets;
use super::tasks::{TaskRecord, MAX_TASKS};
use super::AsyncReader;
use crate::error::{Error, Result};
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::python::objects::{ObjectLayout, TPFLAGS_DICT_SUBCLASS, TPFLAGS_UNICODE_SUBCLASS};
use crate::python::layout::Layout;
use crate::python::strings::read_str;
use crate::python::PythonTarget;
use std::cell::RefCell;
use std::collections::HashMap;

/// Futures nested between a task and the task awaiting it (a gather of gathers); deeper is garbage.
const MAX_FUTURE_DEPTH: usize = 8;
/// Most done-callbacks of one future we look at.
const MAX_CALLBACKS: u64 = 4096;
/// Most free variables of a callback closure we look at.
const MAX_CLOSURE: u64 = 64;
/// `tp_base` links followed to tell a Task subclass.
const MAX_BASES: usize = 8;
/// What a task of a version without task names (3.7) is called.
pub const UNNAMED_TASK: &str = "unnamed";

pub struct LegacyTasks {
    pub offsets: &'static LegacyAsyncioOffsets,
    objects: ObjectLayout,
    py: Layout,
    /// `_asyncio.Task`, the type every C task is (or derives from).
    task_type: u64,
    /// `_current_tasks`: loop → its running task.
    current_tasks: u64,
    /// The sets holding every task: (set object, whether its keys are weak references).
    sets: Vec<(u64, bool)>,
    /// Loop → thread ident (`loop._thread_id`; 0: not running), read once per loop.
    loop_threads: RefCell<HashMap<u64, u64>>,
    /// Type → whether it is a task type.
    task_types: RefCell<HashMap<u64, bool>>,
}

impl LegacyTasks {
    /// The task sets of `target`'s main interpreter; None when `asyncio.tasks` is not imported.
    pub fn find(target: &PythonTarget, mem: &dyn RemoteMemory, offsets: &'static LegacyAsyncioOffsets) -> Result<Option<LegacyTasks>> {
        let v = target.layout.version;
        // 3.13's object reader takes its dict and int fields from the target's debug offsets.
        let debug = match (v.minor, target.runtime_addr) {
            (minor, Some(runtime)) if minor >= 13 => mem
                .read_vec(runtime, crate::python::debug_offsets::table_len(v))
                .ok()
                .and_then(|raw| crate::python::debug_offsets::parse(&raw).ok()),
            _ => None,
        };
        let objects = ObjectLayout::new(&target.layout, debug.as_ref()).ok_or_else(|| super::layout::unsupported(v))?;
        let failed = |e: ReadError| Error::read_failed(format!("cannot read the asyncio module of process {}: {e}", target.pid));
        let reader = Lookup { mem, objects: &objects, target };
        let interp = mem.read_u64(target.interp_head_ptr).map_err(failed)?;
        let modules = mem.read_u64(interp.wrapping_add(objects.interp_modules)).map_err(failed)?;
        let modules = objects.dict_items(mem, modules).map_err(failed)?;
        let Some(module) = reader.value_named(&modules, "asyncio.tasks").map_err(failed)? else { return Ok(None) };
        let globals = objects.attributes(mem, module).map_err(failed)?;
        let get = |name: &str| reader.value_named(&globals, name).map_err(failed);
        let (Some(task_type), Some(current_tasks)) = (get("Task")?, get("_current_tasks")?) else { return Ok(None) };
        if reader.c_string(mem.read_u64(task_type.wrapping_add(offsets.type_name)).map_err(failed)?).map_err(failed)? != "_asyncio.Task" {
            return Err(Error::unsupported(format!(
                "process {} runs asyncio's pure-Python tasks (the _asyncio C module is not in use); their stacks cannot be read from outside",
                target.pid
            )));
        }
        // The table is of one patch release per minor; another whose task differs in size
        // (a field added in a patch release) would be read at the wrong offsets: refused.
        let size = mem.read_u64(task_type.wrapping_add(offsets.type_basicsize)).map_err(failed)?;
        if size != offsets.task_size {
            return Err(Error::unsupported(format!(
                "asyncio task stacks of Python {v} are not supported: its C task object is {size} bytes, the layout known for 3.{} has {} (supported: {}); drop --async to sample its thread stacks",
                v.minor,
                offsets.task_size,
                super::layout::supported_versions()
            )));
        }
        objects.expect_kind(mem, current_tasks, TPFLAGS_DICT_SUBCLASS, "not a dict").map_err(failed)?;
        let mut sets = Vec::new();
        for (name, weak) in [("_all_tasks", true), ("_scheduled_tasks", true), ("_eager_tasks", false)] {
            let Some(obj) = get(name)? else { continue };
            let set = if weak {
                // A WeakSet keeps its weak references in the set `data`.
                let attributes = objects.attributes(mem, obj).map_err(failed)?;
                reader.value_named(&attributes, "data").map_err(failed)?.ok_or_else(|| failed(ReadError::Invalid("WeakSet without data")))?
            } else {
                obj
            };
            sets.push((set, weak));
        }
        if sets.is_empty() {
            return Err(failed(ReadError::Invalid("no task set in asyncio.tasks")));
        }
        Ok(Some(LegacyTasks {
            offsets,
            objects,
            py: target.layout,
            task_type,
            current_tasks,
            sets,
            loop_threads: RefCell::new(HashMap::new()),
            task_types: RefCell::new(HashMap::new()),
        }))
    }

    /// Forgets which thread runs which loop (a loop's address may be reused by another).
    pub fn forget_loops(&self) {
        self.loop_threads.borrow_mut().clear();
    }

    /// The task the thread of `tstate` is running, or 0.
    pub fn running_task(&self, mem: &dyn RemoteMemory, tstate: u64) -> ReadResult<u64> {
        let ident = mem.read_u64(tstate.wrapping_add(self.py.offsets.tstate_thread_id))?;
        for (event_loop, task) in self.objects.dict_items(mem, self.current_tasks)? {
            if self.loop_thread(mem, event_loop)? == ident {
                return Ok(task);
            }
        }
        Ok(0)
    }

    /// The ident of the thread running `event_loop` (`loop._thread_id`), 0 when it runs nowhere.
    pub fn loop_thread(&self, mem: &dyn RemoteMemory, event_loop: u64) -> ReadResult<u64> {
        if let Some(ident) = self.loop_threads.borrow().get(&event_loop) {
            return Ok(*ident);
        }
        let attributes = self.objects.attributes(mem, event_loop)?;
        let mut ident = 0;
        for (key, value) in attributes {
            if self.is_str(mem, key, "_thread_id") {
                // None while the loop is not running.
                ident = self.objects.read_u64_int(mem, value).unwrap_or(0);
                break;
            }
        }
        // A loop that is not running yet may start later: only a running one is remembered.
        if ident != 0 {
            self.loop_threads.borrow_mut().insert(event_loop, ident);
        }
        Ok(ident)
    }

    fn is_str(&self, mem: &dyn RemoteMemory, obj: u64, wanted: &str) -> bool {
        self.objects.expect_kind(mem, obj, TPFLAGS_UNICODE_SUBCLASS, "not a str").is_ok()
            && read_str(mem, &self.py.offsets, self.py.string_format, obj, None).is_ok_and(|t| t == wanted)
    }

    /// Puts the children of every gather among `tasks` in the order they were passed to it,
    /// on the places they hold (so a tree shows `gather(a, b)` as a, then b).
    pub fn order_gathered(&self, mem: &dyn RemoteMemory, tasks: &mut [u64]) -> ReadResult<()> {
        let o = self.offsets;
        let mut gathers = Vec::new();
        for &task in tasks.iter() {
            let waiter = mem.read_u64(task.wrapping_add(o.task_fut_waiter))?;
            if waiter != 0 && !gathers.contains(&waiter) && self.type_name_is(mem, waiter, "_GatheringFuture")? {
                gathers.push(waiter);
            }
        }
        for gather in gathers {
            let Some(children) = self.attribute(mem, gather, "_children")? else { continue };
            let n = mem.read_u64(children.wrapping_add(o.list_size))?;
            if n > MAX_CALLBACKS {
                return Err(ReadError::Invalid("gather children"));
            }
            let items = mem.read_u64(children.wrapping_add(o.list_items))?;
            let wanted: Vec<u64> = mem.read_vec(items, n as usize * 8)?.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
            let mut places: Vec<usize> = (0..tasks.len()).filter(|&i| wanted.contains(&tasks[i])).collect();
            places.sort_unstable();
            let in_order: Vec<u64> = wanted.iter().copied().filter(|c| tasks.contains(c)).collect();
            for (place, child) in places.into_iter().zip(in_order) {
                tasks[place] = child;
            }
        }
        Ok(())
    }

    /// The attribute `name` of an instance, if set.
    fn attribute(&self, mem: &dyn RemoteMemory, obj: u64, name: &str) -> ReadResult<Option<u64>> {
        Ok(self.objects.attributes(mem, obj)?.into_iter().find(|(k, _)| self.is_str(mem, *k, name)).map(|(_, v)| v))
    }

    fn type_name_is(&self, mem: &dyn RemoteMemory, obj: u64, wanted: &str) -> ReadResult<bool> {
        let ty = mem.read_u64(obj.wrapping_add(self.offsets.object_type))?;
        let ptr = mem.read_u64(ty.wrapping_add(self.offsets.type_name))?;
        let mut raw = vec![0u8; wanted.len() + 1];
        mem.read(ptr, &mut raw)?;
        Ok(&raw[..wanted.len()] == wanted.as_bytes() && raw[wanted.len()] == 0)
    }

    /// A non-negative int (a lazily named task's number).
    pub fn read_int(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<u64> {
        self.objects.read_u64_int(mem, obj)
    }

    /// Whether `obj` is a C task (of `_asyncio.Task` or a subclass).
    pub fn is_task(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<bool> {
        if obj == 0 || obj % 8 != 0 {
            return Ok(false);
        }
        let ty = mem.read_u64(obj.wrapping_add(self.offsets.object_type))?;
        if let Some(known) = self.task_types.borrow().get(&ty) {
            return Ok(*known);
        }
        let mut base = ty;
        let mut found = false;
        for _ in 0..MAX_BASES {
            if base == 0 {
                break;
            }
            if base == self.task_type {
                found = true;
                break;
            }
            base = mem.read_u64(base.wrapping_add(self.offsets.type_base))?;
        }
        let mut types = self.task_types.borrow_mut();
        if types.len() < 4096 {
            types.insert(ty, found);
        }
        Ok(found)
    }
}

/// Module and attribute lookups by name.
struct Lookup<'a> {
    mem: &'a dyn RemoteMemory,
    objects: &'a ObjectLayout,
    target: &'a PythonTarget,
}

impl Lookup<'_> {
    fn value_named(&self, items: &[(u64, u64)], wanted: &str) -> ReadResult<Option<u64>> {
        for &(key, value) in items {
            if self.objects.expect_kind(self.mem, key, TPFLAGS_UNICODE_SUBCLASS, "not a str").is_err() {
                continue;
            }
            let text = read_str(self.mem, &self.target.layout.offsets, self.target.layout.string_format, key, None);
            if text.is_ok_and(|t| t == wanted) {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    fn c_string(&self, ptr: u64) -> ReadResult<String> {
        let mut raw = [0u8; 64];
        self.mem.read(ptr, &mut raw)?;
        let n = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        Ok(String::from_utf8_lossy(&raw[..n]).into_owned())
    }
}

impl AsyncReader {
    /// 3.7–3.13: every pending task of the task sets (done ones stay in them while referenced).
    pub(super) fn legacy_list_tasks(&mut self, mem: &dyn RemoteMemory, out: &mut Vec<u64>) -> ReadResult<()> {
        let Some(legacy) = self.legacy.as_ref() else { return Ok(()) };
        let o = legacy.offsets;
        for &(set, weak) in &legacy.sets {
            let mut keys = Vec::new();
            self.set_keys(mem, set, &mut keys)?;
            for key in keys {
                let task = if weak { mem.read_u64(key.wrapping_add(o.weakref_object))? } else { key };
                // Dead references point to None; deleted slots hold a dummy: neither is a task.
                if legacy.is_task(mem, task)? && mem.read_u32(task.wrapping_add(o.task_state))? == 0 && !out.contains(&task) {
                    out.push(task);
                    if out.len() > MAX_TASKS {
                        return Err(ReadError::Invalid("too many tasks"));
                    }
                }
            }
        }
        Ok(())
    }

    /// The keys of a set object.
    fn set_keys(&self, mem: &dyn RemoteMemory, set: u64, out: &mut Vec<u64>) -> ReadResult<()> {
        let l = self.layout;
        let used = mem.read_u64(set.wrapping_add(l.set_used))?;
        let mask = mem.read_u64(set.wrapping_add(l.set_mask))?;
        let table = mem.read_u64(set.wrapping_add(l.set_table))?;
        if mask >= (1 << 22) || used > mask + 1 || (mask + 1) & mask != 0 {
            return Err(ReadError::Invalid("task set"));
        }
        let entries = mem.read_vec(table, ((mask + 1) * 16) as usize)?;
        out.extend(entries.chunks_exact(16).map(|e| u64::from_le_bytes(e[..8].try_into().unwrap())).filter(|k| *k != 0));
        Ok(())
    }

    /// 3.7–3.13: the task object at `addr`, with the tasks awaiting it read from its callbacks.
    pub(super) fn legacy_read_task(&mut self, mem: &dyn RemoteMemory, addr: u64) -> ReadResult<TaskRecord> {
        let Some(legacy) = self.legacy.as_ref() else { return Err(ReadError::Invalid("no task reader")) };
        if !legacy.is_task(mem, addr)? {
            return Err(ReadError::Invalid("not a task"));
        }
        let o = legacy.offsets;
        let mut buf = std::mem::take(&mut self.task_buf);
        buf.resize(o.task_size as usize, 0);
        let read = mem.read(addr, &mut buf);
        let record = read.and_then(|()| {
            let coro = super::coroutines::word(&buf, o.task_coro);
            // 3.7 tasks have no names.
            let name = match o.task_name {
                Some(at) => self.task_name(mem, super::coroutines::word(&buf, at), addr)?,
                None => UNNAMED_TASK.to_string(),
            };
            let mut awaited_by = Vec::new();
            self.awaiters(mem, addr, 0, &mut awaited_by)?;
            Ok(TaskRecord { addr, name, coro, awaited_by })
        });
        self.task_buf = buf;
        record
    }

    /// The tasks a done-callback of the future (or task) `future` will wake.
    fn awaiters(&mut self, mem: &dyn RemoteMemory, future: u64, depth: usize, out: &mut Vec<u64>) -> ReadResult<()> {
        let Some(legacy) = self.legacy.as_ref() else { return Ok(()) };
        let o = legacy.offsets;
        if depth >= MAX_FUTURE_DEPTH {
            return Err(ReadError::Invalid("futures nested too deep (cycle?)"));
        }
        let mut callbacks = Vec::new();
        let first = mem.read_u64(future.wrapping_add(o.task_callback0))?;
        if first != 0 {
            callbacks.push(first);
        }
        // The others: a list of (callback, context) tuples.
        let list = mem.read_u64(future.wrapping_add(o.task_callbacks))?;
        if list != 0 {
            let n = mem.read_u64(list.wrapping_add(o.list_size))?;
            if n > MAX_CALLBACKS {
                return Err(ReadError::Invalid("callback list"));
            }
            let items = mem.read_u64(list.wrapping_add(o.list_items))?;
            for item in mem.read_vec(items, n as usize * 8)?.chunks_exact(8) {
                let pair = u64::from_le_bytes(item.try_into().unwrap());
                callbacks.push(mem.read_u64(pair.wrapping_add(o.tuple_items))?);
            }
        }
        for callback in callbacks {
            let ty = mem.read_u64(callback.wrapping_add(o.object_type))?;
            match self.type_name(mem, ty)?.as_str() {
                // A task's bound `task_wakeup`: `self` is the awaiting task.
                "builtin_function_or_method" => {
                    let awaiting = mem.read_u64(callback.wrapping_add(o.cfunction_self))?;
                    let legacy = self.legacy.as_ref().expect("legacy reader");
                    if legacy.is_task(mem, awaiting)? && !out.contains(&awaiting) {
                        out.push(awaiting);
                    }
                }
                // ≤3.9: `Task._wakeup` bound to the awaiting task.
                "TaskWakeupMethWrapper" => {
                    let Some(at) = o.wakeup_task else { continue };
                    let awaiting = mem.read_u64(callback.wrapping_add(at))?;
                    let legacy = self.legacy.as_ref().expect("legacy reader");
                    if legacy.is_task(mem, awaiting)? && !out.contains(&awaiting) {
                        out.push(awaiting);
                    }
                }
                // A closure (gather's `_done_callback`): the future it completes is awaited.
                "function" => {
                    let closure = mem.read_u64(callback.wrapping_add(o.function_closure))?;
                    if closure == 0 {
                        continue;
                    }
                    let n = mem.read_u64(closure.wrapping_add(o.tuple_size))?.min(MAX_CLOSURE);
                    for cell in mem.read_vec(closure.wrapping_add(o.tuple_items), n as usize * 8)?.chunks_exact(8) {
                        let cell = u64::from_le_bytes(cell.try_into().unwrap());
                        let value = mem.read_u64(cell.wrapping_add(o.cell_ref))?;
                        if value == 0 || value == future {
                            continue;
                        }
                        let value_type = mem.read_u64(value.wrapping_add(o.object_type))?;
                        if self.type_name(mem, value_type)? == "_GatheringFuture" {
                            self.awaiters(mem, value, depth + 1, out)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
