//! Where 3.7–3.13 keep what `dump --async` and `record --async` read. These versions publish no
//! asyncio debug offsets, and their `TaskObj` lives only in `Modules/_asynciomodule.c`: the
//! values come from `legacy_layout_generated.rs`, written by `tools/gen-offsets/gen_asyncio.py`
//! (an `offsetof` probe of each version's headers plus its task struct, checked against a live
//! task of that interpreter).

use super::frame_objects::{FrameObjectLayout, FrameObjectStack};
use super::layout::{AsyncioLayout, FrameStates, ValueStack, YieldFrom, FRAME_STATES_313};
use super::legacy_layout_generated::LEGACY_ASYNCIO_OFFSETS;
use crate::python::version::PythonVersion;

/// Offsets for one minor (x86_64, GIL builds). Field names follow the C structures. `None`: the
/// version has no such thing (3.7–3.10 keep a coroutine's frame as a heap `PyFrameObject`, 3.11+
/// embed a `_PyInterpreterFrame` in the coroutine; 3.7 tasks have no names).
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
    /// 3.8+.
    pub task_name: Option<u64>,
    /// ≤3.9: `TaskWakeupMethWrapper.ww_task`, the task a wakeup callback wakes (3.10+ use a
    /// bound builtin method: `cfunction_self`).
    pub wakeup_task: Option<u64>,
    // 3.11+: PyGenObject / PyCoroObject and its embedded `_PyInterpreterFrame`
    pub gen_frame_state: Option<u64>,
    pub gen_iframe: Option<u64>,
    /// `f_code` (≤3.12) / `f_executable` (3.13), of `PyFrameObject` on ≤3.10.
    pub frame_code: u64,
    /// `f_lasti` (int, ≤3.10) / `prev_instr` (3.11, 3.12) / `instr_ptr` (3.13).
    pub frame_instr: u64,
    /// int: index of the value stack's top in `localsplus`.
    pub frame_stacktop: Option<u64>,
    pub frame_owner: Option<u64>,
    pub frame_localsplus: Option<u64>,
    pub frame_owned_by_generator: Option<u8>,
    // ≤3.10: PyGenObject's `gi_frame` (NULL once finished) and the heap frame it points to
    pub gen_frame: Option<u64>,
    /// `f_valuestack`: the value stack's bottom.
    pub frame_valuestack: Option<u64>,
    /// ≤3.9 `f_stacktop`: just past the value stack's top while suspended, NULL while running.
    pub frame_stack_pointer: Option<u64>,
    /// 3.10 `f_stackdepth` (int).
    pub frame_stackdepth: Option<u64>,
    /// 3.10 `f_state` (signed char, the `state_*` values).
    pub frame_state: Option<u64>,
    /// `co_code` (bytes): an awaiting frame's next instruction is YIELD_FROM.
    pub code_bytecode: Option<u64>,
    pub bytes_data: Option<u64>,
    pub yield_from_opcode: Option<u8>,
    // Frame states (3.10+; ≤3.9 tell them by `gi_frame` and `f_stacktop`)
    pub state_created: Option<i8>,
    pub state_suspended: Option<i8>,
    /// 3.13+: suspended in `await`.
    pub state_suspended_yield_from: Option<i8>,
    pub state_executing: Option<i8>,
    pub state_completed: Option<i8>,
    /// 3.11, 3.12: an awaiting frame's next instruction is RESUME with oparg ≥ 2.
    pub resume_opcode: Option<u8>,
    /// RESUME's other form: 3.11's quickened RESUME_QUICK, 3.12's INSTRUMENTED_RESUME.
    pub resume_variant_opcode: Option<u8>,
    // Generic objects
    pub object_type: u64,
    pub type_name: u64,
    /// `tp_basicsize`: `_asyncio.Task`'s must be `task_size`, or this patch release differs.
    pub type_basicsize: u64,
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

/// The generated table of `version`'s minor (None: not a 3.7–3.13 GIL build we have).
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
        let mut layout = AsyncioLayout {
            version,
            task_size: self.task_size,
            task_name: self.task_name.unwrap_or(0),
            task_awaited_by: 0,
            task_is_task: 0,
            task_awaited_by_is_set: 0,
            task_coro: self.task_coro,
            task_node: 0,
            interp_tasks_head: 0,
            tstate_running_loop: 0,
            tstate_running_task: 0,
            tstate_tasks_head: 0,
            gen_frame_state: 0,
            gen_iframe: 0,
            frame_executable: self.frame_code,
            frame_instr_ptr: self.frame_instr,
            stack: ValueStack::Index { stacktop: 0, localsplus: 0 },
            frame_owner: 0,
            frame_size: 0,
            frame_states: FRAME_STATES_313,
            yield_from: YieldFrom::State,
            frame_objects: self.frame_object_layout(),
            object_type: self.object_type,
            type_name: self.type_name,
            type_flags: self.type_flags,
            set_used: self.set_used,
            set_table: self.set_table,
            set_mask: self.set_mask,
            // Ints are read by the object reader on these versions (3.11 has no `lv_tag`).
            long_tag: 0,
            long_digits: 0,
        };
        if let (Some(state), Some(iframe), Some(stacktop), Some(localsplus), Some(owner), Some(created), Some(suspended), Some(executing), Some(completed)) = (
            self.gen_frame_state,
            self.gen_iframe,
            self.frame_stacktop,
            self.frame_localsplus,
            self.frame_owner,
            self.state_created,
            self.state_suspended,
            self.state_executing,
            self.state_completed,
        ) {
            layout.gen_frame_state = state;
            layout.gen_iframe = iframe;
            layout.stack = ValueStack::Index { stacktop, localsplus };
            layout.frame_owner = owner;
            // The frame header ends where `localsplus` starts.
            layout.frame_size = localsplus;
            layout.frame_states = FrameStates {
                created,
                suspended,
                // 3.11/3.12: SUSPENDED, confirmed by the RESUME that follows (see `yield_from`).
                suspended_yield_from: self.state_suspended_yield_from.unwrap_or(suspended),
                suspended_yield_from_locked: None,
                executing,
                finished_from: completed,
                // The awaited object is the value stack's top (`_PyFrame_StackPeek`).
                awaited_slot: 1,
            };
            layout.yield_from = match self.resume_opcode {
                Some(resume) => YieldFrom::NextIsResume { resume, variant: self.resume_variant_opcode },
                None => YieldFrom::State,
            };
        }
        layout
    }

    /// ≤3.10: where a coroutine's heap frame is and how it shows its state (None on 3.11+).
    fn frame_object_layout(&self) -> Option<FrameObjectLayout> {
        let stack = match (self.frame_stack_pointer, self.frame_stackdepth, self.frame_state) {
            (Some(stacktop), None, None) => FrameObjectStack::StackTop { stacktop },
            (None, Some(stackdepth), Some(state)) => FrameObjectStack::Depth {
                stackdepth,
                state,
                executing: self.state_executing?,
                finished_from: self.state_completed?,
            },
            _ => return None,
        };
        let ends = [self.frame_code + 8, self.frame_instr + 4, self.frame_valuestack? + 8, self.frame_stack_pointer.map_or(0, |o| o + 8), self.frame_stackdepth.map_or(0, |o| o + 4), self.frame_state.map_or(0, |o| o + 1)];
        Some(FrameObjectLayout {
            gen_frame: self.gen_frame?,
            frame_code: self.frame_code,
            frame_lasti: self.frame_instr,
            // 3.10 counts instructions (2-byte code units), earlier versions bytes.
            lasti_in_code_units: self.frame_stackdepth.is_some(),
            frame_valuestack: self.frame_valuestack?,
            stack,
            frame_size: ends.into_iter().max().unwrap_or(0),
            code_bytecode: self.code_bytecode?,
            bytes_data: self.bytes_data?,
            yield_from_opcode: self.yield_from_opcode?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_covered_minor_has_one_coroutine_model() {
        for o in LEGACY_ASYNCIO_OFFSETS {
            assert!((7..=13).contains(&o.minor));
            assert!(o.task_coro < o.task_size && o.task_fut_waiter < o.task_size && o.task_name.map_or(true, |n| n < o.task_size));
            assert_eq!(o.task_name.is_some(), o.minor >= 8, "tasks have names from 3.8");
            assert_eq!(o.wakeup_task.is_some(), o.minor <= 9, "3.10 wakes tasks through a builtin method");
            let layout = o.asyncio_layout(PythonVersion::new(3, o.minor, 0));
            if o.minor <= 10 {
                let frames = layout.frame_objects.expect("≤3.10 read heap frames");
                assert_eq!(frames.lasti_in_code_units, o.minor == 10);
                assert_eq!(frames.yield_from_opcode, 72);
                assert!(o.gen_iframe.is_none() && o.resume_opcode.is_none());
            } else {
                assert!(layout.frame_objects.is_none());
                assert_eq!(o.frame_owned_by_generator, Some(1));
                assert_eq!(o.resume_opcode.is_some(), o.minor <= 12, "3.11/3.12 need the RESUME check");
                assert_eq!(o.resume_variant_opcode.is_some(), o.minor <= 12, "hot 3.11 code has RESUME_QUICK, traced 3.12 code INSTRUMENTED_RESUME");
                assert_eq!(o.state_suspended_yield_from.is_some(), o.minor >= 13);
            }
        }
    }
}
