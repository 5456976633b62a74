//! Where 3.11–3.13 keep what `dump --async` and `record --async` read. These versions publish no
//! asyncio debug offsets, and their `TaskObj` lives only in `Modules/_asynciomodule.c`: the
//! values come from `legacy_layout_generated.rs`, written by `tools/gen-offsets/gen_asyncio.py`
//! (an `offsetof` probe of each version's headers plus its task struct, checked against a live
//! task of that interpreter).

use super::layout::{AsyncioLayout, FrameStates, ValueStack, YieldFrom};
use super::legacy_layout_generated::LEGACY_ASYNCIO_OFFSETS;
use crate::python::version::PythonVersion;

/// Offsets for one minor (x86_64, GIL builds). Field names follow the C structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyAsyncioOffsets {
    pub minor: u8,
    // TaskObj (FutureObj's fields first)
    pub task_size: u64,
    pub task_loop: u64,
    /// The first done-callback; the rest are in `task_callbacks` (a list of (callback, context)).
    pub task_callback0: u64,
    pub task_callbacks: u64,
    /// `fut_state` (an int): 0 while pending.
    pub task_state: u64,
    /// The future the task's coroutine waits on (`task_fut_waiter`).
    pub task_fut_waiter: u64,
    pub task_coro: u64,
    pub task_name: u64,
    // PyGenObject / PyCoroObject and its embedded `_PyInterpreterFrame`
    pub gen_frame_state: u64,
    pub gen_iframe: u64,
    pub frame_code: u64,
    /// `prev_instr` (3.11, 3.12) / `instr_ptr` (3.13).
    pub frame_instr: u64,
    /// int: index of the value stack's top in `localsplus`.
    pub frame_stacktop: u64,
    pub frame_owner: u64,
    pub frame_localsplus: u64,
    pub frame_owned_by_generator: u8,
    // PyFrameState
    pub state_created: i8,
    pub state_suspended: i8,
    /// 3.13+: suspended in `await`.
    pub state_suspended_yield_from: Option<i8>,
    pub state_executing: i8,
    pub state_completed: i8,
    /// 3.11, 3.12: an awaiting frame's next instruction is RESUME with oparg ≥ 2.
    pub resume_opcode: Option<u8>,
    /// RESUME's other form: 3.11's quickened RESUME_QUICK, 3.12's INSTRUMENTED_RESUME.
    pub resume_variant_opcode: Option<u8>,
    // Generic objects
    pub object_type: u64,
    pub type_name: u64,
    pub type_flags: u64,
    pub type_base: u64,
    pub set_used: u64,
    pub set_mask: u64,
    pub set_table: u64,
    pub set_entry_size: u64,
    pub weakref_object: u64,
    pub cfunction_self: u64,
    pub function_closure: u64,
    pub tuple_size: u64,
    pub tuple_items: u64,
    pub list_size: u64,
    pub list_items: u64,
    pub cell_ref: u64,
}

/// The generated table of `version`'s minor (None: not a 3.11–3.13 GIL build we have).
pub fn offsets_for(version: PythonVersion) -> Option<&'static LegacyAsyncioOffsets> {
    if version.major != 3 {
        return None;
    }
    LEGACY_ASYNCIO_OFFSETS.iter().find(|o| o.minor == version.minor)
}

/// The minors covered by the generated table, oldest first.
pub fn covered_minors() -> impl Iterator<Item = u8> {
    LEGACY_ASYNCIO_OFFSETS.iter().map(|o| o.minor)
}

impl LegacyAsyncioOffsets {
    /// The coroutine and frame part, in the form the coroutine reader takes. The task-list
    /// fields of 3.14+ do not exist here (tasks are found through `asyncio.tasks`); they are 0.
    pub fn asyncio_layout(&self, version: PythonVersion) -> AsyncioLayout {
        let frame_header = self.frame_localsplus;
        let states = FrameStates {
            created: self.state_created,
            suspended: self.state_suspended,
            // 3.11/3.12: SUSPENDED, confirmed by the RESUME that follows (see `yield_from`).
            suspended_yield_from: self.state_suspended_yield_from.unwrap_or(self.state_suspended),
            suspended_yield_from_locked: None,
            executing: self.state_executing,
            finished_from: self.state_completed,
            // The awaited object is the value stack's top (`_PyFrame_StackPeek`).
            awaited_slot: 1,
        };
        AsyncioLayout {
            version,
            task_size: self.task_size,
            task_name: self.task_name,
            task_awaited_by: 0,
            task_is_task: 0,
            task_awaited_by_is_set: 0,
            task_coro: self.task_coro,
            task_node: 0,
            interp_tasks_head: 0,
            tstate_running_loop: 0,
            tstate_running_task: 0,
            tstate_tasks_head: 0,
            gen_frame_state: self.gen_frame_state,
            gen_iframe: self.gen_iframe,
            frame_executable: self.frame_code,
            frame_instr_ptr: self.frame_instr,
            stack: ValueStack::Index { stacktop: self.frame_stacktop, localsplus: self.frame_localsplus },
            frame_owner: self.frame_owner,
            frame_size: frame_header,
            frame_states: states,
            yield_from: match self.resume_opcode {
                Some(resume) => YieldFrom::NextIsResume { resume, variant: self.resume_variant_opcode },
                None => YieldFrom::State,
            },
            object_type: self.object_type,
            type_name: self.type_name,
            type_flags: self.type_flags,
            set_used: self.set_used,
            set_table: self.set_table,
            set_mask: self.set_mask,
            // Ints are read by the object reader on these versions (3.11 has no `lv_tag`).
            long_tag: 0,
            long_digits: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_covered_minor_is_a_gil_build_between_311_and_313() {
        for o in LEGACY_ASYNCIO_OFFSETS {
            assert!((11..=13).contains(&o.minor));
            assert!(o.task_coro < o.task_size && o.task_name < o.task_size && o.task_fut_waiter < o.task_size);
            assert_eq!(o.frame_owned_by_generator, 1);
            assert_eq!(o.resume_opcode.is_some(), o.minor <= 12, "3.11/3.12 need the RESUME check");
            assert_eq!(o.resume_variant_opcode.is_some(), o.minor <= 12, "hot 3.11 code has RESUME_QUICK, traced 3.12 code INSTRUMENTED_RESUME");
            assert_eq!(o.state_suspended_yield_from.is_some(), o.minor >= 13);
        }
    }
}
