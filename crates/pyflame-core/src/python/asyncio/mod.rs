//! asyncio from outside: every task of the process, what each awaits and who awaits it, and
//! each task's coroutine stack (`dump --async`); the running task's logical stack, rooted at
//! the tasks awaiting it (`record --async`).
//!
//! Split by what is read: `layout` (where the fields are), `tasks` (task lists, task objects,
//! names, awaiter sets), `coroutines` (await chains and their frames), `logical` (stitching
//! tasks' stacks into one stack per sample). 3.7–3.13 publish no asyncio offsets and keep no
//! task lists in thread states: `legacy_layout` (generated offsets) and `legacy_tasks` (tasks
//! found through `asyncio.tasks`, awaiters through callbacks) stand in for them; 3.7–3.10
//! coroutines keep heap frames (`frame_objects`).

pub mod coroutines;
pub mod frame_objects;
pub mod layout;
pub mod legacy_layout;
mod legacy_layout_generated;
pub mod legacy_tasks;
pub mod logical;
pub mod tasks;

use crate::binary::BinaryInfo;
use crate::error::{Error, Result};
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::process::Maps;
use crate::python::code_cache::CodeCache;
use crate::python::layout::Layout;
use crate::python::walker::{RawFrame, Sample};
use crate::python::PythonTarget;
use coroutines::ChainEnd;
use layout::{AsyncioLayout, ASYNCIO_DEBUG_LEN, ASYNCIO_DEBUG_SECTION};
use legacy_tasks::LegacyTasks;
use std::collections::{HashMap, HashSet};

/// Reads asyncio's objects in one process. Caches type and task names between reads.
pub struct AsyncReader {
    pub layout: AsyncioLayout,
    py: Layout,
    code_type: Option<u64>,
    str_type: Option<u64>,
    /// Passed to the code cache (revalidation), advanced by `next_sample`.
    tick: u64,
    buf: Vec<u8>,
    task_buf: Vec<u8>,
    type_names: HashMap<u64, String>,
    /// Task names by the address of the name object (names are immutable).
    names: HashMap<u64, String>,
    /// 3.7–3.13: where the tasks are (3.14+ read the thread states' task lists).
    legacy: Option<LegacyTasks>,
}

/// What a waiting task waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaited {
    /// Another task of the process.
    Task(u64),
    /// Any other awaitable, by type name (`_asyncio.Future`, `_GatheringFuture`, ...).
    Object(String),
}

/// One task of a snapshot.
#[derive(Debug, Clone)]
pub struct AsyncTask {
    pub addr: u64,
    pub name: String,
    /// Index in the sample's threads of the thread running this task right now.
    pub running_thread: Option<usize>,
    /// Index in the sample's threads of the thread whose task list holds it (the thread that
    /// created it); None for tasks of threads that have ended.
    pub list_thread: Option<usize>,
    /// The coroutine stack, outermost first (the running task's comes from its thread).
    pub frames: Vec<RawFrame>,
    pub awaits: Option<Awaited>,
    /// Tasks of this snapshot awaiting this one.
    pub awaited_by: Vec<u64>,
    /// Set when the task could not be read (it is listed without frames).
    pub error: Option<ReadError>,
}

impl AsyncReader {
    /// A reader for `target`, or `Ok(None)` when the process has not loaded `_asyncio` (yet).
    /// Versions without asyncio debug offsets or a generated table get `ERR_UNSUPPORTED_PYTHON`.
    pub fn open(target: &PythonTarget, mem: &dyn RemoteMemory) -> Result<Option<AsyncReader>> {
        let version = target.layout.version;
        if let Some(offsets) = legacy_layout::offsets_for(version) {
            if target.layout.offsets.free_threaded {
                return Err(layout::unsupported_free_threaded(version));
            }
            let Some(legacy) = LegacyTasks::find(target, mem, offsets)? else { return Ok(None) };
            return Ok(Some(AsyncReader::new(target, offsets.asyncio_layout(version), Some(legacy))));
        }
        if (version.major, version.minor) < (3, layout::FIRST_SUPPORTED_MINOR) || (version.major, version.minor) > (3, layout::LAST_SUPPORTED_MINOR) {
            return Err(layout::unsupported(version));
        }
        let runtime = target.runtime_addr.ok_or_else(|| layout::unsupported(version))?;
        let raw = mem
            .read_vec(runtime, crate::python::debug_offsets::table_len(version))
            .map_err(|e| Error::read_failed(format!("cannot read the debug offsets of process {}: {e}", target.pid)))?;
        let debug = crate::python::debug_offsets::parse(&raw).map_err(|e| Error::unsupported(format!("{e}")))?;
        let Some(section) = find_asyncio_section(target, mem)? else { return Ok(None) };
        let layout = AsyncioLayout::from_sections(&section, &debug)?;
        Ok(Some(AsyncReader::new(target, layout, None)))
    }

    fn new(target: &PythonTarget, layout: AsyncioLayout, legacy: Option<LegacyTasks>) -> AsyncReader {
        AsyncReader {
            layout,
            py: target.layout,
            code_type: target.code_type,
            str_type: target.str_type,
            tick: 0,
            buf: Vec::new(),
            task_buf: Vec::new(),
            type_names: HashMap::new(),
            names: HashMap::new(),
            legacy,
        }
    }

    /// Called once per sample: lets the code cache revalidate and bounds the name cache.
    pub fn next_sample(&mut self, tick: u64) {
        self.tick = tick;
        if tick % 1024 == 0 {
            self.names.clear();
            if let Some(legacy) = &self.legacy {
                legacy.forget_loops();
            }
        }
    }

    /// Every task of the process, with the stacks of `sample` (taken just before, or in the
    /// same pause) for the running ones.
    pub fn snapshot(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, target: &PythonTarget, sample: &Sample) -> ReadResult<Vec<AsyncTask>> {
        let mut order: Vec<(u64, Option<usize>)> = Vec::new();
        let mut running: HashMap<u64, usize> = HashMap::new();
        let mut list = Vec::new();
        let legacy = self.legacy.is_some();
        if legacy {
            self.legacy_order(mem, sample, &mut order, &mut running)?;
        }
        for (i, thread) in sample.threads.iter().enumerate().filter(|_| !legacy) {
            let task = self.running_task(mem, thread.tstate)?;
            if task != 0 {
                running.insert(task, i);
            }
            list.clear();
            self.list_tasks(mem, thread.tstate.wrapping_add(self.layout.tstate_tasks_head), &mut list)?;
            order.extend(list.iter().map(|&t| (t, Some(i))));
        }
        let mut interp = if legacy { 0 } else { mem.read_u64(target.interp_head_ptr)? };
        for _ in 0..crate::python::walker::MAX_INTERPRETERS {
            if interp == 0 {
                break;
            }
            list.clear();
            self.list_tasks(mem, interp.wrapping_add(self.layout.interp_tasks_head), &mut list)?;
            order.extend(list.iter().map(|&t| (t, None)));
            interp = mem.read_u64(interp.wrapping_add(target.layout.offsets.interp_next))?;
        }
        let mut seen = HashSet::new();
        order.retain(|(t, _)| seen.insert(*t));
        let known: HashSet<u64> = order.iter().map(|(t, _)| *t).collect();
        let mut tasks = Vec::with_capacity(order.len());
        for (addr, list_thread) in order {
            let running_thread = running.get(&addr).copied();
            let mut task = AsyncTask { addr, name: String::new(), running_thread, list_thread, frames: Vec::new(), awaits: None, awaited_by: Vec::new(), error: None };
            match self.read_task(mem, addr) {
                Ok(record) => {
                    task.name = record.name;
                    task.awaited_by = record.awaited_by.into_iter().filter(|a| known.contains(a) && *a != addr).collect();
                    let thread_frames = running_thread.map(|i| sample.frames_of(&sample.threads[i]));
                    match self.task_frames(mem, codes, record.coro, thread_frames, &mut task.frames) {
                        Ok(ChainEnd::Awaits { addr: awaited, type_name }) => {
                            task.awaits = Some(if known.contains(&awaited) { Awaited::Task(awaited) } else { Awaited::Object(type_name) });
                        }
                        Ok(_) => {}
                        Err(e) => task.error = Some(e),
                    }
                }
                Err(e) => {
                    task.name = format!("task at {addr:#x}");
                    task.error = Some(e);
                }
            }
            tasks.push(task);
        }
        Ok(tasks)
    }

    /// 3.7–3.13: the running task of each thread and every pending task, each with the thread
    /// running its loop.
    fn legacy_order(&mut self, mem: &dyn RemoteMemory, sample: &Sample, order: &mut Vec<(u64, Option<usize>)>, running: &mut HashMap<u64, usize>) -> ReadResult<()> {
        for (i, thread) in sample.threads.iter().enumerate() {
            let task = self.running_task(mem, thread.tstate)?;
            if task != 0 {
                running.insert(task, i);
            }
        }
        let mut list = Vec::new();
        self.legacy_list_tasks(mem, &mut list)?;
        let legacy = self.legacy.as_ref().expect("legacy reader");
        // The sets keep no order: list by address, then each gather's children in its order.
        list.sort_unstable();
        legacy.order_gathered(mem, &mut list)?;
        for task in list {
            let event_loop = mem.read_u64(task.wrapping_add(legacy.offsets.task_loop))?;
            let ident = legacy.loop_thread(mem, event_loop)?;
            let thread = sample.threads.iter().position(|t| ident != 0 && t.python_thread_id == ident);
            order.push((task, thread));
        }
        Ok(())
    }

    /// A task's coroutine stack into `out` (outermost first). When the task is running,
    /// `thread_frames` (root first) holds its thread's stack: the part from the task's
    /// outermost coroutine up is its stack.
    pub fn task_frames(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, coro: u64, thread_frames: Option<&[RawFrame]>, out: &mut Vec<RawFrame>) -> ReadResult<ChainEnd> {
        let start = out.len();
        let end = self.coroutine_stack(mem, codes, coro, out)?;
        if end == ChainEnd::Executing {
            if let Some(frames) = thread_frames {
                let outer = out[start].code;
                let Some(at) = frames.iter().position(|f| f.code == outer) else {
                    return Err(ReadError::Invalid("the running task's coroutine is not on its thread's stack"));
                };
                out.truncate(start);
                out.extend_from_slice(&frames[at..]);
            }
        }
        Ok(end)
    }
}

/// The `.AsyncioDebug` section's bytes, from `_asyncio`'s shared object, or from the
/// executable or libpython when the module is built in. None: `_asyncio` is not loaded.
fn find_asyncio_section(target: &PythonTarget, mem: &dyn RemoteMemory) -> Result<Option<Vec<u8>>> {
    let pid = target.pid;
    let maps = Maps::read(pid)?;
    let mut paths: Vec<&str> = Vec::new();
    for r in &maps.ranges {
        let name = r.file_name();
        let wanted = name.starts_with("_asyncio.") || r.path == target.runtime_binary || r.path == target.executable;
        if wanted && r.offset == 0 && !paths.contains(&r.path.as_str()) {
            paths.push(&r.path);
        }
    }
    // `_asyncio`'s own object first: it is small, and where Debian and most builds put it.
    paths.sort_by_key(|p| !p.rsplit('/').next().unwrap_or("").starts_with("_asyncio."));
    for path in paths {
        // Through the target's root first; a mapping whose path is not valid there (a chroot
        // seen from outside) through its `map_files` link, then as the host sees the path.
        let first = maps.of_file(path).find(|r| r.offset == 0).map(|r| format!("/proc/{pid}/map_files/{:x}-{:x}", r.start, r.end));
        let candidates = [Some(crate::python::target::host_path(pid, &maps, path)), first, Some(path.to_string())];
        let Some(binary) = candidates.iter().flatten().find_map(|open| BinaryInfo::load(pid, &maps, path, open).ok()) else { continue };
        if let Some(section) = binary.section(ASYNCIO_DEBUG_SECTION) {
            let raw = mem
                .read_vec(section.addr, ASYNCIO_DEBUG_LEN)
                .map_err(|e| Error::read_failed(format!("cannot read asyncio's debug offsets in process {pid}: {e}")))?;
            return Ok(Some(raw));
        }
    }
    Ok(None)
}
