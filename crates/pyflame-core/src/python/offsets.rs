//! Byte offsets of the CPython structures the walker reads, for one minor version.
//!
//! The per-version values live in `offsets_generated.rs`, written by `tools/gen-offsets`
//! (which compiles `offsetof` probes against each installed interpreter's headers); on 3.13+
//! the values read from the target's `_Py_DebugOffsets` replace them field by field.
//! `None` means the version has no such field.

/// Offsets for one CPython minor version (x86_64 / LP64, release GIL build unless `free_threaded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionOffsets {
    pub major: u8,
    pub minor: u8,
    /// Patch releases this table applies to (inclusive); most tables cover the whole minor.
    pub patch_min: u8,
    pub patch_max: u8,
    pub free_threaded: bool,

    // _PyRuntimeState (3.7+)
    /// `interpreters.head`
    pub runtime_interpreters_head: Option<u64>,
    /// `gilstate.tstate_current` (3.7–3.11): the thread state holding the GIL, or NULL.
    pub runtime_tstate_current: Option<u64>,

    // PyInterpreterState
    pub interp_next: u64,
    /// `tstate_head` (≤3.10) / `threads.head` (3.11+)
    pub interp_tstate_head: u64,
    /// `ceval.gil` (3.12+): pointer to the interpreter's `_gil_runtime_state`.
    pub interp_ceval_gil: Option<u64>,
    /// `id` (3.7+), used to label sub-interpreters.
    pub interp_id: Option<u64>,

    // struct _gil_runtime_state (3.12+: reached through `interp_ceval_gil`)
    pub gil_last_holder: Option<u64>,
    pub gil_locked: Option<u64>,

    // PyThreadState
    pub tstate_next: u64,
    pub tstate_interp: u64,
    /// `frame` (≤3.10), `cframe` (3.11, 3.12) or `current_frame` (3.13+)
    pub tstate_frame: u64,
    /// `_PyCFrame.current_frame` (3.11, 3.12)
    pub cframe_current_frame: Option<u64>,
    /// `thread_id` (the pthread_t)
    pub tstate_thread_id: u64,
    /// `native_thread_id` (3.11+)
    pub tstate_native_thread_id: Option<u64>,
    /// `datastack_chunk` (3.11+)
    pub tstate_datastack_chunk: Option<u64>,
    /// `datastack_top` (3.11+)
    pub tstate_datastack_top: Option<u64>,
    /// `_status` (3.12+)
    pub tstate_status: Option<u64>,
    /// Mask of the `holds_gil` bit inside the u32 at `tstate_status` (3.13+).
    pub tstate_status_holds_gil_mask: Option<u32>,
    pub tstate_size: u64,

    // PyFrameObject (≤3.10) / _PyInterpreterFrame (3.11+)
    /// `f_back` (≤3.10) / `previous` (3.11+)
    pub frame_back: u64,
    /// `f_code` (≤3.12) / `f_executable` (3.13+)
    pub frame_code: u64,
    /// `f_lasti` (int, ≤3.10) / `prev_instr` (3.11, 3.12) / `instr_ptr` (3.13+)
    pub frame_lasti: u64,
    /// `owner` (3.11+)
    pub frame_owner: Option<u64>,
    /// `is_entry` (3.11 only)
    pub frame_is_entry: Option<u64>,
    /// `f_executing` (char, 3.6–3.9: non-zero while the frame runs) / `f_state` (char, 3.10:
    /// `FRAME_EXECUTING` = 0). A frame that returned, or sits on a free list, fails it.
    pub frame_executing: Option<u64>,
    /// `FRAME_SPECIALS_SIZE` in bytes (3.11+): a data-stack frame is this header, then
    /// `co_nlocalsplus + co_stacksize` words.
    pub frame_specials_size: Option<u64>,
    /// Bytes to read to cover every field above.
    pub frame_size: u64,

    // PyCodeObject
    pub code_filename: u64,
    pub code_name: u64,
    /// `co_qualname` (3.11+)
    pub code_qualname: Option<u64>,
    pub code_firstlineno: u64,
    /// `co_lnotab` (≤3.9) / `co_linetable` (3.10+)
    pub code_linetable: u64,
    /// `co_code_adaptive` (3.11+): inline bytecode, instruction offsets are relative to it.
    pub code_code_adaptive: Option<u64>,
    /// `co_stacksize` and `co_nlocalsplus` (ints, 3.11+): with `frame_specials_size` they give
    /// the bytes a frame of this code takes on the data stack (CPython's `co_framesize`).
    pub code_stacksize: Option<u64>,
    pub code_nlocalsplus: Option<u64>,
    pub code_size: u64,

    // str objects: PyUnicodeObject (3.x) / PyStringObject (2.7)
    /// `length` (3.x) / `ob_size` (2.7)
    pub unicode_length: u64,
    /// `state` bitfield (3.x)
    pub unicode_state: Option<u64>,
    /// data of a compact ASCII string = sizeof(PyASCIIObject) (3.x) / `ob_sval` (2.7)
    pub unicode_ascii_data: u64,
    /// data of a compact non-ASCII string = sizeof(PyCompactUnicodeObject) (3.x)
    pub unicode_compact_data: Option<u64>,

    // bytes (3.x) / str (2.7): line tables
    pub bytes_size: u64,
    pub bytes_data: u64,

    // PyObject
    pub object_type: u64,
}

/// What `dump --locals` reads (`python/locals.rs`), for one CPython minor version. A table of
/// its own, generated beside `VersionOffsets`, so the walker's table stays as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalsOffsets {
    pub major: u8,
    pub minor: u8,
    pub patch_min: u8,
    pub patch_max: u8,
    pub free_threaded: bool,

    /// `co_varnames` (≤3.10) / `co_localsplusnames` (3.11+): tuple of slot names.
    pub locals_code_names: u64,
    /// `co_nlocals` (≤3.10) / `co_nlocalsplus` (3.11+): int, slots to read.
    pub locals_code_count: u64,
    /// `co_localspluskinds` (3.11+): bytes, one `CO_FAST_*` kind per slot.
    pub locals_code_kinds: Option<u64>,
    /// `f_localsplus` (≤3.10) / `_PyInterpreterFrame.localsplus` (3.11+): the slots.
    pub locals_frame_slots: u64,
    /// `PyVarObject.ob_size` of a tuple.
    pub locals_tuple_size: u64,
    /// `PyTupleObject.ob_item`.
    pub locals_tuple_items: u64,
    /// `PyTypeObject.tp_name` (a C string pointer).
    pub locals_type_name: u64,
    /// `ob_size` (≤3.11: signed digit count) / `long_value.lv_tag` (3.12+: count << 3 | sign).
    pub locals_long_size: u64,
    /// `ob_digit` (≤3.11) / `long_value.ob_digit` (3.12+).
    pub locals_long_digits: u64,
    /// `PyLong_SHIFT`: value bits per digit.
    pub locals_long_digit_bits: u64,
    /// `PyFloatObject.ob_fval`.
    pub locals_float_value: u64,
    /// `PyCellObject.ob_ref`.
    pub locals_cell_ref: u64,
    /// `PyIntObject.ob_ival` (2.7 only).
    pub locals_int27_value: Option<u64>,
}
