//! Where asyncio's C objects keep what `dump --async` and `record --async` read.
//!
//! CPython 3.14+ publishes the offsets in the `_asyncio` module's `.AsyncioDebug` ELF section
//! (`_Py_AsyncioModuleDebugOffsets`: 13 little-endian u64 in three groups). Coroutine and frame
//! fields come from the interpreter's `_Py_DebugOffsets` (`gen_object`, `interpreter_frame`).
//! 3.7–3.13 have no such section: `legacy_layout` gives their layout from a generated table.
//! Other versions are refused with the versions that work.

use crate::error::{Error, Result};
use crate::python::debug_offsets::DebugOffsets;
use crate::python::version::PythonVersion;

/// Bytes of `_Py_AsyncioModuleDebugOffsets` in 3.14 and 3.15.
pub const ASYNCIO_DEBUG_LEN: usize = 13 * 8;
/// The ELF section holding it (in `_asyncio.cpython-3X-*.so`, or the executable/libpython when
/// the module is built in).
pub const ASYNCIO_DEBUG_SECTION: &str = ".AsyncioDebug";
/// Largest plausible C task object; its fields are read in one go.
const MAX_TASK_SIZE: u64 = 4096;

/// The first minor version whose `.AsyncioDebug` section this module reads (older minors: the
/// generated tables of `legacy_layout`).
pub const FIRST_SUPPORTED_MINOR: u8 = 14;
/// The newest minor whose task and frame-state layout this module knows.
pub const LAST_SUPPORTED_MINOR: u8 = 15;

/// Frame states of a generator's or coroutine's embedded frame (`gi_frame_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStates {
    pub created: i8,
    pub suspended: i8,
    /// Suspended in `yield from` / `await`: the awaited object sits on the frame's value stack.
    pub suspended_yield_from: i8,
    /// 3.15+: the same, while another thread inspects the frame (free-threaded builds); the
    /// awaited object is still on the stack.
    pub suspended_yield_from_locked: Option<i8>,
    pub executing: i8,
    /// The first state of a finished coroutine (completed or cleared): it has no frames.
    pub finished_from: i8,
    /// Words below a frame's stack pointer where, suspended in `await`, it keeps the object it
    /// awaits: 1 on 3.14 (the yielded value is popped, the receiver is on top), 2 from 3.15 on
    /// (CPython 3.15's `Modules/_remote_debugging/asyncio.c` reads it there).
    pub awaited_slot: u64,
}

impl FrameStates {
    /// Suspended in `await` (locked or not).
    pub fn awaits(&self, state: i8) -> bool {
        state == self.suspended_yield_from || Some(state) == self.suspended_yield_from_locked
    }
}

/// 3.13 and 3.14 (`Include/internal/pycore_frame.h`, then `pycore_genobject.h`): CREATED -3,
/// SUSPENDED -2, SUSPENDED_YIELD_FROM -1, EXECUTING 0, COMPLETED 1, CLEARED 4.
pub const FRAME_STATES_313: FrameStates = FrameStates { created: -3, suspended: -2, suspended_yield_from: -1, suspended_yield_from_locked: None, executing: 0, finished_from: 1, awaited_slot: 1 };

/// 3.15 renumbered them from 0 and dropped COMPLETED: CREATED 0, SUSPENDED 1,
/// SUSPENDED_YIELD_FROM 2, SUSPENDED_YIELD_FROM_LOCKED 3, EXECUTING 4, CLEARED 5. Read with
/// 3.14's numbering, every awaiting coroutine looked finished (no task frames).
pub const FRAME_STATES_315: FrameStates = FrameStates { created: 0, suspended: 1, suspended_yield_from: 2, suspended_yield_from_locked: Some(3), executing: 4, finished_from: 5, awaited_slot: 2 };

/// How `version`'s coroutine frames say what state they are in and where they keep what they await.
pub fn frame_states_for(version: PythonVersion) -> FrameStates {
    if (version.major, version.minor) >= (3, 15) {
        FRAME_STATES_315
    } else {
        FRAME_STATES_313
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncioLayout {
    pub version: PythonVersion,
    // TaskObj (`Modules/_asynciomodule.c`)
    pub task_size: u64,
    pub task_name: u64,
    pub task_awaited_by: u64,
    /// char: 1 for a Task, 0 for a plain Future (they share the awaited-by machinery).
    pub task_is_task: u64,
    /// char: `task_awaited_by` is a set (several awaiters) rather than one object.
    pub task_awaited_by_is_set: u64,
    pub task_coro: u64,
    /// `struct llist_node` linking the task into its thread's (or interpreter's) list.
    pub task_node: u64,
    /// `PyInterpreterState.asyncio_tasks_head`: tasks of threads that have ended.
    pub interp_tasks_head: u64,
    /// `_PyThreadStateImpl` fields.
    pub tstate_running_loop: u64,
    pub tstate_running_task: u64,
    pub tstate_tasks_head: u64,
    // Coroutine objects and their embedded frame (`_Py_DebugOffsets`).
    pub gen_frame_state: u64,
    pub gen_iframe: u64,
    pub frame_executable: u64,
    pub frame_instr_ptr: u64,
    /// Where the frame's value stack ends.
    pub stack: ValueStack,
    pub frame_owner: u64,
    /// Bytes of an interpreter frame header to read.
    pub frame_size: u64,
    pub frame_states: FrameStates,
    /// How a suspended frame shows that it is suspended in `await`.
    pub yield_from: YieldFrom,
    /// ≤3.10: coroutines keep heap frames, read by `frame_objects` (the embedded-frame fields
    /// above are then unused).
    pub frame_objects: Option<super::frame_objects::FrameObjectLayout>,
    // Generic objects.
    pub object_type: u64,
    pub type_name: u64,
    pub type_flags: u64,
    pub set_used: u64,
    pub set_table: u64,
    pub set_mask: u64,
    pub long_tag: u64,
    pub long_digits: u64,
}

/// Where an interpreter frame's value stack ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStack {
    /// 3.14+: `stackpointer`, a pointer just past the top.
    Pointer { stackpointer: u64 },
    /// 3.11–3.13: `stacktop`, an int index into `localsplus` just past the top.
    Index { stacktop: u64, localsplus: u64 },
}

/// How a suspended coroutine frame shows that it awaits something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldFrom {
    /// 3.13+: its own frame state (`FRAME_SUSPENDED_YIELD_FROM`).
    State,
    /// 3.11, 3.12: the next instruction is RESUME (or its other form: 3.11's quickened
    /// RESUME_QUICK, 3.12's INSTRUMENTED_RESUME) with an oparg of 2 or more (`_PyGen_yf`).
    NextIsResume { resume: u8, variant: Option<u8> },
}

/// `Py_TPFLAGS_LONG_SUBCLASS` / `Py_TPFLAGS_UNICODE_SUBCLASS`: a task's name is an int (3.14
/// names tasks lazily: `Task-<n>`) or a str.
pub const TPFLAGS_LONG_SUBCLASS: u64 = 1 << 24;
pub const TPFLAGS_UNICODE_SUBCLASS: u64 = 1 << 28;
/// `FRAME_OWNED_BY_GENERATOR` (3.12+).
pub const FRAME_OWNED_BY_GENERATOR: u8 = 1;

/// The minors `dump --async` / `record --async` read: the generated tables' and those with
/// debug offsets (from the bounds above), oldest first.
pub fn supported_minors() -> Vec<u8> {
    let mut minors: Vec<u8> = super::legacy_layout::covered_minors().filter(|m| *m < FIRST_SUPPORTED_MINOR).collect();
    minors.extend(FIRST_SUPPORTED_MINOR..=LAST_SUPPORTED_MINOR);
    minors
}

/// The versions `dump --async` / `record --async` read, for messages.
pub fn supported_versions() -> String {
    supported_minors().iter().map(|minor| format!("3.{minor}")).collect::<Vec<_>>().join(", ")
}

/// The refusal for a target whose asyncio objects this build cannot read.
pub fn unsupported(version: PythonVersion) -> Error {
    Error::unsupported(format!(
        "asyncio task stacks of Python {version} are not supported (supported: {}); drop --async to sample its thread stacks",
        supported_versions()
    ))
}

/// The refusal for a free-threaded build of a version read through a generated table (those
/// tables describe the GIL builds).
pub fn unsupported_free_threaded(version: PythonVersion) -> Error {
    Error::unsupported(format!(
        "asyncio task stacks of free-threaded Python {version} are not supported (supported: {}; before 3.14 only the default builds with the GIL); drop --async to sample its thread stacks",
        supported_versions()
    ))
}

impl AsyncioLayout {
    /// Parses `.AsyncioDebug` (`raw`) and completes it with the interpreter's debug offsets.
    pub fn from_sections(raw: &[u8], debug: &DebugOffsets) -> Result<AsyncioLayout> {
        if raw.len() < ASYNCIO_DEBUG_LEN {
            return Err(Error::unsupported(format!("the asyncio debug offsets are {} bytes, expected {ASYNCIO_DEBUG_LEN}", raw.len())));
        }
        let f = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let (Some(gen), Some(stackpointer), Some(set)) = (debug.gen_object, debug.interpreter_frame.stackpointer, debug.set_object) else {
            return Err(unsupported(debug.version));
        };
        let layout = AsyncioLayout {
            version: debug.version,
            task_size: f(0),
            task_name: f(1),
            task_awaited_by: f(2),
            task_is_task: f(3),
            task_awaited_by_is_set: f(4),
            task_coro: f(5),
            task_node: f(6),
            interp_tasks_head: f(8),
            tstate_running_loop: f(10),
            tstate_running_task: f(11),
            tstate_tasks_head: f(12),
            gen_frame_state: gen.gi_frame_state,
            gen_iframe: gen.gi_iframe,
            frame_executable: debug.interpreter_frame.executable,
            frame_instr_ptr: debug.interpreter_frame.instr_ptr,
            stack: ValueStack::Pointer { stackpointer },
            frame_owner: debug.interpreter_frame.owner,
            frame_size: debug.interpreter_frame.size,
            frame_states: frame_states_for(debug.version),
            yield_from: YieldFrom::State,
            frame_objects: None,
            object_type: debug.pyobject.ob_type,
            type_name: debug.type_object.tp_name,
            type_flags: debug.type_object.tp_flags,
            set_used: set.used,
            set_table: set.table,
            set_mask: set.mask,
            long_tag: debug.long_object.lv_tag,
            long_digits: debug.long_object.ob_digit,
        };
        layout.validate(f(7), f(9))?;
        Ok(layout)
    }

    /// Every offset must lie inside its structure, or the section is not what we think it is.
    fn validate(&self, interp_size: u64, tstate_size: u64) -> Result<()> {
        let bad = |what: &str| Err(Error::unsupported(format!("the asyncio debug offsets of Python {} are implausible ({what}); this build is not supported", self.version)));
        if self.task_size == 0 || self.task_size > MAX_TASK_SIZE {
            return bad("task size");
        }
        let task_fields = [self.task_name, self.task_awaited_by, self.task_coro, self.task_node + 8];
        if task_fields.iter().any(|&o| o + 8 > self.task_size) || self.task_is_task >= self.task_size || self.task_awaited_by_is_set >= self.task_size {
            return bad("task field outside the task");
        }
        if interp_size == 0 || self.interp_tasks_head + 16 > interp_size {
            return bad("interpreter field");
        }
        if tstate_size == 0 || [self.tstate_running_loop, self.tstate_running_task, self.tstate_tasks_head + 8].iter().any(|&o| o + 8 > tstate_size) {
            return bad("thread state field");
        }
        if self.frame_size == 0 || self.frame_size > 1024 {
            return bad("frame size");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_states_match_pycore_frame() {
        assert_eq!(FRAME_STATES_313.suspended_yield_from, -1);
        assert_eq!(FRAME_STATES_313.finished_from, 1);
        assert_eq!(FRAME_STATES_315.suspended_yield_from, 2);
        assert_eq!(FRAME_STATES_315.executing, 4);
        assert_eq!(FRAME_STATES_315.finished_from, 5);
        assert!(FRAME_STATES_315.awaits(3) && FRAME_STATES_315.awaits(2) && !FRAME_STATES_315.awaits(1));
        assert!(!FRAME_STATES_313.awaits(3));
    }

    #[test]
    fn each_minor_gets_its_numbering() {
        let v = |minor| PythonVersion::new(3, minor, 0);
        assert_eq!(frame_states_for(v(14)), FRAME_STATES_313);
        assert_eq!(frame_states_for(v(15)), FRAME_STATES_315);
        assert_eq!(frame_states_for(v(16)), FRAME_STATES_315);
    }

    #[test]
    fn the_message_names_every_supported_minor() {
        for minor in (FIRST_SUPPORTED_MINOR..=LAST_SUPPORTED_MINOR).chain(super::super::legacy_layout::covered_minors()) {
            assert!(supported_versions().contains(&format!("3.{minor}")), "3.{minor} missing from {}", supported_versions());
        }
        assert!(supported_versions().starts_with("3.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14"), "{}", supported_versions());
    }
}
