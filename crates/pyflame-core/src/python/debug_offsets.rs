//! CPython 3.13+'s `_Py_DebugOffsets`: the offset table the interpreter publishes at the start
//! of `_PyRuntime` so out-of-process readers need not hard-code struct layouts.
//!
//! The table is not self-describing: its layout is chosen by the `version` in its header, and
//! 3.14 inserted fields in the middle of 3.13's groups. Both layouts are described below in
//! declaration order (3.13: `Include/internal/pycore_runtime.h`, 584 bytes, checked against
//! pyenv's libpython3.13.so; 3.14: `Include/internal/pycore_debug_offsets.h`, 760 bytes, field
//! order as in py-spy's bindgen output for 3.14.0). Every field is a little-endian u64.

use std::fmt;

use super::offsets::{LocalsOffsets, VersionOffsets};
use super::version::PythonVersion;

pub const COOKIE: &[u8; 8] = b"xdebugpy";
/// cookie + version + free_threaded.
pub const HEADER_LEN: usize = 24;
pub const TABLE_LEN_3_13: usize = LAYOUT_3_13.len();
pub const TABLE_LEN_3_14: usize = LAYOUT_3_14.len();
pub const TABLE_LEN_3_15: usize = LAYOUT_3_15.len();

/// Largest plausible `_PyRuntimeState` / `PyInterpreterState` (3.12's runtime is 450 KiB).
const MAX_STATE_SIZE: u64 = 16 << 20;
/// Largest plausible size of any other structure described by the table.
const MAX_OBJECT_SIZE: u64 = 64 << 10;

/// Bytes to read at `_PyRuntime` for `version`'s table. Versions without a known layout get the
/// largest known length, enough for `parse` to read the header and report the version.
pub fn table_len(version: PythonVersion) -> usize {
    layout_for_version(version).map_or(MAX_TABLE_LEN, |(layout, _)| layout.len())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugOffsetsError {
    TooShort { needed: usize, got: usize },
    BadCookie([u8; 8]),
    UnsupportedVersion(u64),
    BadFreeThreadedFlag(u64),
    ImplausibleSize { group: &'static str, size: u64 },
    OffsetOutOfRange { group: &'static str, field: &'static str, offset: u64, size: u64 },
    /// A field every 3.13+ build has at a fixed distance is elsewhere: the layout is wrong.
    Inconsistent { group: &'static str, field: &'static str, offset: u64, expected: u64 },
    BaseMismatch { detail: String },
}

impl DebugOffsetsError {
    /// Stable code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            DebugOffsetsError::TooShort { .. } => "ERR_DEBUG_OFFSETS_TOO_SHORT",
            DebugOffsetsError::BadCookie(_) => "ERR_DEBUG_OFFSETS_BAD_COOKIE",
            DebugOffsetsError::UnsupportedVersion(_) => "ERR_DEBUG_OFFSETS_UNSUPPORTED_VERSION",
            DebugOffsetsError::BadFreeThreadedFlag(_)
            | DebugOffsetsError::ImplausibleSize { .. }
            | DebugOffsetsError::OffsetOutOfRange { .. }
            | DebugOffsetsError::Inconsistent { .. } => "ERR_DEBUG_OFFSETS_INVALID",
            DebugOffsetsError::BaseMismatch { .. } => "ERR_DEBUG_OFFSETS_BASE_MISMATCH",
        }
    }
}

impl fmt::Display for DebugOffsetsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match self {
            DebugOffsetsError::TooShort { needed, got } => {
                write!(f, "read {got} bytes of the debug offsets table, its layout needs {needed}")
            }
            DebugOffsetsError::BadCookie(c) => write!(
                f,
                "_PyRuntime does not start with \"xdebugpy\" (found {:?}); this is not CPython 3.13+ or the runtime address is wrong",
                String::from_utf8_lossy(c)
            ),
            DebugOffsetsError::UnsupportedVersion(v) => write!(
                f,
                "debug offsets of version 0x{v:08x} have no known layout (known: {}); upgrade pyflame-ts",
                known_minors().iter().map(|m| format!("3.{m}")).collect::<Vec<_>>().join(", ")
            ),
            DebugOffsetsError::BadFreeThreadedFlag(v) => write!(f, "free_threaded flag is {v}, expected 0 or 1"),
            DebugOffsetsError::ImplausibleSize { group, size } => {
                write!(f, "{group}.size = {size} is implausible; the table is corrupt or has an unknown layout")
            }
            DebugOffsetsError::OffsetOutOfRange { group, field, offset, size } => write!(
                f,
                "{group}.{field} = {offset} lies outside the structure ({group}.size = {size}); the table is corrupt or has an unknown layout"
            ),
            DebugOffsetsError::Inconsistent { group, field, offset, expected } => write!(
                f,
                "{group}.{field} = {offset}, every known build has {expected}; the table has an unknown layout"
            ),
            DebugOffsetsError::BaseMismatch { detail } => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for DebugOffsetsError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeStateOffsets {
    pub size: u64,
    pub finalizing: u64,
    pub interpreters_head: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterpreterStateOffsets {
    pub size: u64,
    pub id: u64,
    pub next: u64,
    pub threads_head: u64,
    /// 3.14+
    pub threads_main: Option<u64>,
    pub gc: u64,
    pub imports_modules: u64,
    pub sysdict: u64,
    pub builtins: u64,
    /// `ceval.gil`: pointer to the `_gil_runtime_state` in use.
    pub ceval_gil: u64,
    /// `_gil`: the interpreter's own embedded `_gil_runtime_state`.
    pub gil_runtime_state: u64,
    /// `_gil.enabled` (free-threaded builds; 0 otherwise).
    pub gil_runtime_state_enabled: u64,
    /// `_gil.locked`, from the start of the interpreter state.
    pub gil_runtime_state_locked: u64,
    /// `_gil.last_holder`, from the start of the interpreter state.
    pub gil_runtime_state_holder: u64,
    /// 3.14+: changes when code objects are freed (invalidate code caches).
    pub code_object_generation: Option<u64>,
    /// 3.14+ free-threaded builds: invalidates thread-local bytecode caches.
    pub tlbc_generation: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadStateOffsets {
    pub size: u64,
    pub prev: u64,
    pub next: u64,
    pub interp: u64,
    pub current_frame: u64,
    pub thread_id: u64,
    pub native_thread_id: u64,
    pub datastack_chunk: u64,
    pub status: u64,
    /// 3.15+: the thread's first (entry) frame.
    pub base_frame: Option<u64>,
    /// 3.15+: `holds_gil` (int) of the thread state.
    pub holds_gil: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterpreterFrameOffsets {
    pub size: u64,
    pub previous: u64,
    pub executable: u64,
    pub instr_ptr: u64,
    pub localsplus: u64,
    pub owner: u64,
    /// 3.14+
    pub stackpointer: Option<u64>,
    /// 3.14+ free-threaded builds: index into `co_tlbc` (thread-local bytecode).
    pub tlbc_index: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeObjectOffsets {
    pub size: u64,
    pub filename: u64,
    pub name: u64,
    pub qualname: u64,
    pub linetable: u64,
    pub firstlineno: u64,
    pub argcount: u64,
    pub localsplusnames: u64,
    pub localspluskinds: u64,
    pub co_code_adaptive: u64,
    /// 3.14+ free-threaded builds: the thread-local bytecode copies.
    pub co_tlbc: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyObjectOffsets {
    pub size: u64,
    pub ob_type: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeObjectOffsets {
    pub size: u64,
    pub tp_name: u64,
    pub tp_repr: u64,
    pub tp_flags: u64,
}

/// Tuples and lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceOffsets {
    pub size: u64,
    pub ob_item: u64,
    pub ob_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetObjectOffsets {
    pub size: u64,
    pub used: u64,
    pub table: u64,
    pub mask: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DictObjectOffsets {
    pub size: u64,
    pub ma_keys: u64,
    pub ma_values: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloatObjectOffsets {
    pub size: u64,
    pub ob_fval: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongObjectOffsets {
    pub size: u64,
    pub lv_tag: u64,
    pub ob_digit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BytesObjectOffsets {
    pub size: u64,
    pub ob_size: u64,
    pub ob_sval: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnicodeObjectOffsets {
    pub size: u64,
    pub state: u64,
    pub length: u64,
    /// sizeof(PyASCIIObject): where a compact ASCII string's data starts.
    pub asciiobject_size: u64,
    /// 3.15+: sizeof(PyCompactUnicodeObject): where a compact non-ASCII string's data starts.
    pub compactunicodeobject_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcOffsets {
    pub size: u64,
    pub collecting: u64,
}

/// 3.14+
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenObjectOffsets {
    pub size: u64,
    pub gi_name: u64,
    pub gi_iframe: u64,
    pub gi_frame_state: u64,
}

/// 3.14+
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlistNodeOffsets {
    pub next: u64,
    pub prev: u64,
}

/// 3.14+ (PEP 768 remote execution; not needed to read stacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebuggerSupportOffsets {
    pub eval_breaker: u64,
    pub remote_debugger_support: u64,
    pub remote_debugging_enabled: u64,
    pub debugger_pending_call: u64,
    pub debugger_script_path: u64,
    pub debugger_script_path_size: u64,
}

/// A parsed and validated `_Py_DebugOffsets`. `Option` fields exist from 3.14 on; the
/// thread-local-bytecode ones only in free-threaded builds (default builds write 0 there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugOffsets {
    /// `PY_VERSION_HEX` of the interpreter that wrote the table.
    pub version_hex: u64,
    pub version: PythonVersion,
    /// Minor whose table layout was used: the target's own, or the newest known for a newer minor.
    pub layout_minor: u8,
    pub free_threaded: bool,
    pub runtime_state: RuntimeStateOffsets,
    pub interpreter_state: InterpreterStateOffsets,
    pub thread_state: ThreadStateOffsets,
    pub interpreter_frame: InterpreterFrameOffsets,
    pub code_object: CodeObjectOffsets,
    pub pyobject: PyObjectOffsets,
    pub type_object: TypeObjectOffsets,
    pub tuple_object: SequenceOffsets,
    pub list_object: SequenceOffsets,
    pub set_object: Option<SetObjectOffsets>,
    pub dict_object: DictObjectOffsets,
    pub float_object: FloatObjectOffsets,
    pub long_object: LongObjectOffsets,
    pub bytes_object: BytesObjectOffsets,
    pub unicode_object: UnicodeObjectOffsets,
    pub gc: GcOffsets,
    pub gen_object: Option<GenObjectOffsets>,
    pub llist_node: Option<LlistNodeOffsets>,
    pub debugger_support: Option<DebuggerSupportOffsets>,
}

/// One known table layout: the groups of `_Py_DebugOffsets` and their fields, in declaration
/// order, for the minor that introduced it. Every field is a u64 after the 24-byte header.
pub struct TableLayout {
    pub minor: u8,
    groups: &'static [(&'static str, &'static [&'static str])],
}

impl TableLayout {
    pub const fn len(&self) -> usize {
        let mut words = 0;
        let mut i = 0;
        while i < self.groups.len() {
            words += self.groups[i].1.len();
            i += 1;
        }
        HEADER_LEN + 8 * words
    }
}

/// 3.13: `Include/internal/pycore_runtime.h`, 584 bytes.
const LAYOUT_3_13: TableLayout = TableLayout {
    minor: 13,
    groups: &[
        ("runtime_state", &["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", &["size", "id", "next", "threads_head", "gc", "imports_modules", "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled", "gil_runtime_state_locked", "gil_runtime_state_holder"]),
        ("thread_state", &["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id", "datastack_chunk", "status"]),
        ("interpreter_frame", &["size", "previous", "executable", "instr_ptr", "localsplus", "owner"]),
        ("code_object", &["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount", "localsplusnames", "localspluskinds", "co_code_adaptive"]),
        ("pyobject", &["size", "ob_type"]),
        ("type_object", &["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", &["size", "ob_item", "ob_size"]),
        ("list_object", &["size", "ob_item", "ob_size"]),
        ("dict_object", &["size", "ma_keys", "ma_values"]),
        ("float_object", &["size", "ob_fval"]),
        ("long_object", &["size", "lv_tag", "ob_digit"]),
        ("bytes_object", &["size", "ob_size", "ob_sval"]),
        ("unicode_object", &["size", "state", "length", "asciiobject_size"]),
        ("gc", &["size", "collecting"]),
    ],
};

/// 3.14 (betas on): `Include/internal/pycore_debug_offsets.h`, 760 bytes; fields inserted in
/// the middle of 3.13's groups, new set/gen/llist/debugger groups.
const LAYOUT_3_14: TableLayout = TableLayout {
    minor: 14,
    groups: &[
        ("runtime_state", &["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", &["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules", "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled", "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation", "tlbc_generation"]),
        ("thread_state", &["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id", "datastack_chunk", "status"]),
        ("interpreter_frame", &["size", "previous", "executable", "instr_ptr", "localsplus", "owner", "stackpointer", "tlbc_index"]),
        ("code_object", &["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount", "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", &["size", "ob_type"]),
        ("type_object", &["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", &["size", "ob_item", "ob_size"]),
        ("list_object", &["size", "ob_item", "ob_size"]),
        ("set_object", &["size", "used", "table", "mask"]),
        ("dict_object", &["size", "ma_keys", "ma_values"]),
        ("float_object", &["size", "ob_fval"]),
        ("long_object", &["size", "lv_tag", "ob_digit"]),
        ("bytes_object", &["size", "ob_size", "ob_sval"]),
        ("unicode_object", &["size", "state", "length", "asciiobject_size"]),
        ("gc", &["size", "collecting"]),
        ("gen_object", &["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", &["next", "prev"]),
        ("debugger_support", &["eval_breaker", "remote_debugger_support", "remote_debugging_enabled", "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ],
};

/// 3.15: 888 bytes (checked against Debian's libpython3.15-dev 3.15.2 headers and the
/// `.PyRuntime` of its python3.15 and python3.15d). Thread states gained the sampler's
/// frame-cache fields and `holds_gil`; new `err_stackitem` and `heap_type_object` groups;
/// `PyCompactUnicodeObject`'s size and three gc fields are now described.
const LAYOUT_3_15: TableLayout = TableLayout {
    minor: 15,
    groups: &[
        ("runtime_state", &["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", &["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules", "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled", "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation", "tlbc_generation"]),
        ("thread_state", &["size", "prev", "next", "interp", "current_frame", "base_frame", "last_profiled_frame", "last_profiled_frame_seq", "thread_id", "native_thread_id", "datastack_chunk", "status", "holds_gil", "gil_requested", "current_exception", "exc_state"]),
        ("err_stackitem", &["exc_value"]),
        ("interpreter_frame", &["size", "previous", "executable", "instr_ptr", "localsplus", "owner", "stackpointer", "tlbc_index"]),
        ("code_object", &["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount", "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", &["size", "ob_type"]),
        ("type_object", &["size", "tp_name", "tp_repr", "tp_flags", "tp_basicsize", "tp_dictoffset"]),
        ("heap_type_object", &["size", "ht_cached_keys"]),
        ("tuple_object", &["size", "ob_item", "ob_size"]),
        ("list_object", &["size", "ob_item", "ob_size"]),
        ("set_object", &["size", "used", "table", "mask"]),
        ("dict_object", &["size", "ma_keys", "ma_values"]),
        ("float_object", &["size", "ob_fval"]),
        ("long_object", &["size", "lv_tag", "ob_digit"]),
        ("bytes_object", &["size", "ob_size", "ob_sval"]),
        ("unicode_object", &["size", "state", "length", "asciiobject_size", "compactunicodeobject_size"]),
        ("gc", &["size", "collecting", "frame", "generation_stats_size", "generation_stats"]),
        ("gen_object", &["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", &["next", "prev"]),
        ("debugger_support", &["eval_breaker", "remote_debugger_support", "remote_debugging_enabled", "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ],
};

/// Every table layout known, oldest first. The newest also serves newer minors whose table
/// still reads consistently with it (see `parse`).
pub const LAYOUTS: &[TableLayout] = &[LAYOUT_3_13, LAYOUT_3_14, LAYOUT_3_15];

/// Bytes to read at `_PyRuntime` to hold any known layout.
pub const MAX_TABLE_LEN: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < LAYOUTS.len() {
        if LAYOUTS[i].len() > max {
            max = LAYOUTS[i].len();
        }
        i += 1;
    }
    max
};

/// Minors whose debug offsets this build reads natively, e.g. `[13, 14, 15]`.
pub fn known_minors() -> Vec<u8> {
    LAYOUTS.iter().map(|l| l.minor).collect()
}

fn newest_layout() -> &'static TableLayout {
    LAYOUTS.last().expect("at least one layout")
}

/// The layout `version` is read with, and whether that is a guess (a minor newer than any
/// known one, read with the newest layout).
fn layout_for_version(version: PythonVersion) -> Option<(&'static TableLayout, bool)> {
    if version.major != 3 || version.minor < 13 {
        return None;
    }
    // 3.14 alphas still changed the table; their layout is unknown.
    if version.minor == 14 && version.level == 0xA {
        return None;
    }
    match LAYOUTS.iter().find(|l| l.minor == version.minor) {
        Some(layout) => Some((layout, false)),
        None if version.minor > newest_layout().minor => Some((newest_layout(), true)),
        None => None,
    }
}

/// The fields of a table read with one layout, looked up by group and field name.
struct Fields<'a> {
    raw: &'a [u8],
    layout: &'static TableLayout,
}

impl Fields<'_> {
    fn position(&self, group: &str, field: &str) -> Option<usize> {
        let mut word = 0;
        for (g, fields) in self.layout.groups {
            if *g == group {
                return fields.iter().position(|f| *f == field).map(|i| HEADER_LEN + 8 * (word + i));
            }
            word += fields.len();
        }
        None
    }

    /// A field this layout may lack (`None` then).
    fn opt(&self, group: &str, field: &str) -> Option<u64> {
        let pos = self.position(group, field)?;
        Some(u64::from_le_bytes(self.raw[pos..pos + 8].try_into().expect("8 bytes")))
    }

    /// A field every known layout has.
    fn get(&self, group: &str, field: &str) -> u64 {
        self.opt(group, field).unwrap_or_else(|| panic!("every layout has {group}.{field}"))
    }

    /// A field only free-threaded builds fill in (default builds write 0 there).
    fn free_threaded(&self, group: &str, field: &str, free_threaded: bool) -> Option<u64> {
        self.opt(group, field).filter(|_| free_threaded)
    }

    fn has_group(&self, group: &str) -> bool {
        self.layout.groups.iter().any(|(g, _)| *g == group)
    }
}

/// The header alone: cookie check, then (version, free_threaded flag). Needs `HEADER_LEN` bytes.
pub fn parse_header(raw: &[u8]) -> Result<(PythonVersion, u64, bool), DebugOffsetsError> {
    if raw.len() < HEADER_LEN {
        return Err(DebugOffsetsError::TooShort { needed: HEADER_LEN, got: raw.len() });
    }
    let cookie: [u8; 8] = raw[..8].try_into().expect("8 bytes");
    if &cookie != COOKIE {
        return Err(DebugOffsetsError::BadCookie(cookie));
    }
    let version_hex = u64::from_le_bytes(raw[8..16].try_into().expect("8 bytes"));
    let version = PythonVersion::from_hex(version_hex)
        .filter(|_| version_hex >> 32 == 0)
        .filter(|v| layout_for_version(*v).is_some())
        .ok_or(DebugOffsetsError::UnsupportedVersion(version_hex))?;
    let free_threaded = match u64::from_le_bytes(raw[16..24].try_into().expect("8 bytes")) {
        0 => false,
        1 => true,
        other => return Err(DebugOffsetsError::BadFreeThreadedFlag(other)),
    };
    Ok((version, version_hex, free_threaded))
}

/// Parses and validates a table read at `_PyRuntime` (at least `table_len(version)` bytes).
/// A minor newer than any known layout is read with the newest one; the result says so in
/// `layout_minor`, and it is accepted only if every check below holds.
pub fn parse(raw: &[u8]) -> Result<DebugOffsets, DebugOffsetsError> {
    let (version, version_hex, free_threaded) = parse_header(raw)?;
    let (layout, _guessed) = layout_for_version(version).ok_or(DebugOffsetsError::UnsupportedVersion(version_hex))?;
    let needed = layout.len();
    if raw.len() < needed {
        return Err(DebugOffsetsError::TooShort { needed, got: raw.len() });
    }
    let f = Fields { raw, layout };
    let ft = free_threaded;
    let runtime_state = RuntimeStateOffsets {
        size: f.get("runtime_state", "size"),
        finalizing: f.get("runtime_state", "finalizing"),
        interpreters_head: f.get("runtime_state", "interpreters_head"),
    };
    let i = "interpreter_state";
    let interpreter_state = InterpreterStateOffsets {
        size: f.get(i, "size"),
        id: f.get(i, "id"),
        next: f.get(i, "next"),
        threads_head: f.get(i, "threads_head"),
        threads_main: f.opt(i, "threads_main"),
        gc: f.get(i, "gc"),
        imports_modules: f.get(i, "imports_modules"),
        sysdict: f.get(i, "sysdict"),
        builtins: f.get(i, "builtins"),
        ceval_gil: f.get(i, "ceval_gil"),
        gil_runtime_state: f.get(i, "gil_runtime_state"),
        gil_runtime_state_enabled: f.get(i, "gil_runtime_state_enabled"),
        gil_runtime_state_locked: f.get(i, "gil_runtime_state_locked"),
        gil_runtime_state_holder: f.get(i, "gil_runtime_state_holder"),
        code_object_generation: f.opt(i, "code_object_generation"),
        tlbc_generation: f.free_threaded(i, "tlbc_generation", ft),
    };
    let t = "thread_state";
    let thread_state = ThreadStateOffsets {
        size: f.get(t, "size"),
        prev: f.get(t, "prev"),
        next: f.get(t, "next"),
        interp: f.get(t, "interp"),
        current_frame: f.get(t, "current_frame"),
        thread_id: f.get(t, "thread_id"),
        native_thread_id: f.get(t, "native_thread_id"),
        datastack_chunk: f.get(t, "datastack_chunk"),
        status: f.get(t, "status"),
        base_frame: f.opt(t, "base_frame"),
        holds_gil: f.opt(t, "holds_gil"),
    };
    let fr = "interpreter_frame";
    let interpreter_frame = InterpreterFrameOffsets {
        size: f.get(fr, "size"),
        previous: f.get(fr, "previous"),
        executable: f.get(fr, "executable"),
        instr_ptr: f.get(fr, "instr_ptr"),
        localsplus: f.get(fr, "localsplus"),
        owner: f.get(fr, "owner"),
        stackpointer: f.opt(fr, "stackpointer"),
        tlbc_index: f.free_threaded(fr, "tlbc_index", ft),
    };
    let c = "code_object";
    let code_object = CodeObjectOffsets {
        size: f.get(c, "size"),
        filename: f.get(c, "filename"),
        name: f.get(c, "name"),
        qualname: f.get(c, "qualname"),
        linetable: f.get(c, "linetable"),
        firstlineno: f.get(c, "firstlineno"),
        argcount: f.get(c, "argcount"),
        localsplusnames: f.get(c, "localsplusnames"),
        localspluskinds: f.get(c, "localspluskinds"),
        co_code_adaptive: f.get(c, "co_code_adaptive"),
        co_tlbc: f.free_threaded(c, "co_tlbc", ft),
    };
    let pyobject = PyObjectOffsets { size: f.get("pyobject", "size"), ob_type: f.get("pyobject", "ob_type") };
    let type_object = TypeObjectOffsets {
        size: f.get("type_object", "size"),
        tp_name: f.get("type_object", "tp_name"),
        tp_repr: f.get("type_object", "tp_repr"),
        tp_flags: f.get("type_object", "tp_flags"),
    };
    let sequence = |g: &str| SequenceOffsets { size: f.get(g, "size"), ob_item: f.get(g, "ob_item"), ob_size: f.get(g, "ob_size") };
    let tuple_object = sequence("tuple_object");
    let list_object = sequence("list_object");
    let set_object = f.has_group("set_object").then(|| SetObjectOffsets {
        size: f.get("set_object", "size"),
        used: f.get("set_object", "used"),
        table: f.get("set_object", "table"),
        mask: f.get("set_object", "mask"),
    });
    let dict_object = DictObjectOffsets {
        size: f.get("dict_object", "size"),
        ma_keys: f.get("dict_object", "ma_keys"),
        ma_values: f.get("dict_object", "ma_values"),
    };
    let float_object = FloatObjectOffsets { size: f.get("float_object", "size"), ob_fval: f.get("float_object", "ob_fval") };
    let long_object = LongObjectOffsets {
        size: f.get("long_object", "size"),
        lv_tag: f.get("long_object", "lv_tag"),
        ob_digit: f.get("long_object", "ob_digit"),
    };
    let bytes_object = BytesObjectOffsets {
        size: f.get("bytes_object", "size"),
        ob_size: f.get("bytes_object", "ob_size"),
        ob_sval: f.get("bytes_object", "ob_sval"),
    };
    let u = "unicode_object";
    let unicode_object = UnicodeObjectOffsets {
        size: f.get(u, "size"),
        state: f.get(u, "state"),
        length: f.get(u, "length"),
        asciiobject_size: f.get(u, "asciiobject_size"),
        compactunicodeobject_size: f.opt(u, "compactunicodeobject_size"),
    };
    let gc = GcOffsets { size: f.get("gc", "size"), collecting: f.get("gc", "collecting") };
    let gen_object = f.has_group("gen_object").then(|| GenObjectOffsets {
        size: f.get("gen_object", "size"),
        gi_name: f.get("gen_object", "gi_name"),
        gi_iframe: f.get("gen_object", "gi_iframe"),
        gi_frame_state: f.get("gen_object", "gi_frame_state"),
    });
    let llist_node = f
        .has_group("llist_node")
        .then(|| LlistNodeOffsets { next: f.get("llist_node", "next"), prev: f.get("llist_node", "prev") });
    let d = "debugger_support";
    let debugger_support = f.has_group(d).then(|| DebuggerSupportOffsets {
        eval_breaker: f.get(d, "eval_breaker"),
        remote_debugger_support: f.get(d, "remote_debugger_support"),
        remote_debugging_enabled: f.get(d, "remote_debugging_enabled"),
        debugger_pending_call: f.get(d, "debugger_pending_call"),
        debugger_script_path: f.get(d, "debugger_script_path"),
        debugger_script_path_size: f.get(d, "debugger_script_path_size"),
    });

    let table = DebugOffsets {
        version_hex,
        version,
        layout_minor: layout.minor,
        free_threaded,
        runtime_state,
        interpreter_state,
        thread_state,
        interpreter_frame,
        code_object,
        pyobject,
        type_object,
        tuple_object,
        list_object,
        set_object,
        dict_object,
        float_object,
        long_object,
        bytes_object,
        unicode_object,
        gc,
        gen_object,
        llist_node,
        debugger_support,
    };
    table.validate()?;
    Ok(table)
}

/// Checks that a group's size is plausible and every listed offset lies inside it.
fn check_group(
    group: &'static str,
    size: u64,
    max_size: u64,
    fields: &[(&'static str, u64)],
) -> Result<(), DebugOffsetsError> {
    if size == 0 || size > max_size {
        return Err(DebugOffsetsError::ImplausibleSize { group, size });
    }
    for &(field, offset) in fields {
        if offset >= size {
            return Err(DebugOffsetsError::OffsetOutOfRange { group, field, offset, size });
        }
    }
    Ok(())
}

impl DebugOffsets {
    fn validate(&self) -> Result<(), DebugOffsetsError> {
        let r = &self.runtime_state;
        check_group("runtime_state", r.size, MAX_STATE_SIZE, &[
            ("finalizing", r.finalizing),
            ("interpreters_head", r.interpreters_head),
        ])?;
        let i = &self.interpreter_state;
        let mut interp_fields = vec![
            ("id", i.id),
            ("next", i.next),
            ("threads_head", i.threads_head),
            ("gc", i.gc),
            ("imports_modules", i.imports_modules),
            ("sysdict", i.sysdict),
            ("builtins", i.builtins),
            ("ceval_gil", i.ceval_gil),
            ("gil_runtime_state", i.gil_runtime_state),
            ("gil_runtime_state_enabled", i.gil_runtime_state_enabled),
            ("gil_runtime_state_locked", i.gil_runtime_state_locked),
            ("gil_runtime_state_holder", i.gil_runtime_state_holder),
        ];
        interp_fields.extend(i.threads_main.map(|v| ("threads_main", v)));
        interp_fields.extend(i.code_object_generation.map(|v| ("code_object_generation", v)));
        interp_fields.extend(i.tlbc_generation.map(|v| ("tlbc_generation", v)));
        check_group("interpreter_state", i.size, MAX_STATE_SIZE, &interp_fields)?;
        // locked/holder are stored relative to the interpreter; they must follow `_gil`.
        for (field, offset) in [("gil_runtime_state_locked", i.gil_runtime_state_locked), ("gil_runtime_state_holder", i.gil_runtime_state_holder)] {
            if offset < i.gil_runtime_state {
                return Err(DebugOffsetsError::OffsetOutOfRange {
                    group: "interpreter_state",
                    field,
                    offset,
                    size: i.size,
                });
            }
        }
        let t = &self.thread_state;
        check_group("thread_state", t.size, MAX_OBJECT_SIZE, &[
            ("prev", t.prev),
            ("next", t.next),
            ("interp", t.interp),
            ("current_frame", t.current_frame),
            ("thread_id", t.thread_id),
            ("native_thread_id", t.native_thread_id),
            ("datastack_chunk", t.datastack_chunk),
            ("status", t.status),
        ])?;
        let fr = &self.interpreter_frame;
        let mut frame_fields = vec![
            ("previous", fr.previous),
            ("executable", fr.executable),
            ("instr_ptr", fr.instr_ptr),
            ("owner", fr.owner),
        ];
        frame_fields.extend(fr.stackpointer.map(|v| ("stackpointer", v)));
        frame_fields.extend(fr.tlbc_index.map(|v| ("tlbc_index", v)));
        check_group("interpreter_frame", fr.size, MAX_OBJECT_SIZE, &frame_fields)?;
        // localsplus is a flexible array member: it may sit exactly at the end.
        if fr.localsplus > fr.size {
            return Err(DebugOffsetsError::OffsetOutOfRange {
                group: "interpreter_frame",
                field: "localsplus",
                offset: fr.localsplus,
                size: fr.size,
            });
        }
        let c = &self.code_object;
        let mut code_fields = vec![
            ("filename", c.filename),
            ("name", c.name),
            ("qualname", c.qualname),
            ("linetable", c.linetable),
            ("firstlineno", c.firstlineno),
            ("argcount", c.argcount),
            ("localsplusnames", c.localsplusnames),
            ("localspluskinds", c.localspluskinds),
            ("co_code_adaptive", c.co_code_adaptive),
        ];
        code_fields.extend(c.co_tlbc.map(|v| ("co_tlbc", v)));
        check_group("code_object", c.size, MAX_OBJECT_SIZE, &code_fields)?;
        check_group("pyobject", self.pyobject.size, MAX_OBJECT_SIZE, &[("ob_type", self.pyobject.ob_type)])?;
        let b = &self.bytes_object;
        check_group("bytes_object", b.size, MAX_OBJECT_SIZE, &[("ob_size", b.ob_size), ("ob_sval", b.ob_sval)])?;
        let u = &self.unicode_object;
        check_group("unicode_object", u.size, MAX_OBJECT_SIZE, &[("state", u.state), ("length", u.length)])?;
        if u.asciiobject_size > u.size || u.asciiobject_size <= u.state {
            return Err(DebugOffsetsError::OffsetOutOfRange {
                group: "unicode_object",
                field: "asciiobject_size",
                offset: u.asciiobject_size,
                size: u.size,
            });
        }
        // Groups the walker does not use still must look sane, or the layout guess is wrong.
        let ty = &self.type_object;
        check_group("type_object", ty.size, MAX_OBJECT_SIZE, &[("tp_name", ty.tp_name), ("tp_repr", ty.tp_repr), ("tp_flags", ty.tp_flags)])?;
        for (group, s) in [("tuple_object", &self.tuple_object), ("list_object", &self.list_object)] {
            check_group(group, s.size, MAX_OBJECT_SIZE, &[("ob_size", s.ob_size)])?;
        }
        let d = &self.dict_object;
        check_group("dict_object", d.size, MAX_OBJECT_SIZE, &[("ma_keys", d.ma_keys), ("ma_values", d.ma_values)])?;
        check_group("float_object", self.float_object.size, MAX_OBJECT_SIZE, &[("ob_fval", self.float_object.ob_fval)])?;
        check_group("long_object", self.long_object.size, MAX_OBJECT_SIZE, &[("lv_tag", self.long_object.lv_tag)])?;
        check_group("gc", self.gc.size, MAX_OBJECT_SIZE, &[("collecting", self.gc.collecting)])?;
        if let Some(s) = &self.set_object {
            check_group("set_object", s.size, MAX_OBJECT_SIZE, &[("used", s.used), ("table", s.table), ("mask", s.mask)])?;
        }
        if let Some(g) = &self.gen_object {
            check_group("gen_object", g.size, MAX_OBJECT_SIZE, &[("gi_name", g.gi_name), ("gi_iframe", g.gi_iframe), ("gi_frame_state", g.gi_frame_state)])?;
        }
        self.check_anchors()
    }

    /// Facts every 3.13+ build shares: the first field after an object header sits at
    /// `pyobject.size` (`ob_size` of var-objects, `ob_fval`, `lv_tag`, a string's `length`) and
    /// `tp_name` follows a type's `ob_size`. A table read with the wrong layout (a newer minor
    /// that inserted fields) lands other values there, so these catch it where sizes alone may not.
    fn check_anchors(&self) -> Result<(), DebugOffsetsError> {
        let header = self.pyobject.size;
        let anchors = [
            ("type_object", "tp_name", self.type_object.tp_name, header + 8),
            ("tuple_object", "ob_size", self.tuple_object.ob_size, header),
            ("list_object", "ob_size", self.list_object.ob_size, header),
            ("bytes_object", "ob_size", self.bytes_object.ob_size, header),
            ("float_object", "ob_fval", self.float_object.ob_fval, header),
            ("long_object", "lv_tag", self.long_object.lv_tag, header),
            ("unicode_object", "length", self.unicode_object.length, header),
        ];
        for (group, field, offset, expected) in anchors {
            if offset != expected {
                return Err(DebugOffsetsError::Inconsistent { group, field, offset, expected });
            }
        }
        if let Some(compact) = self.unicode_object.compactunicodeobject_size {
            let u = &self.unicode_object;
            if compact < u.asciiobject_size || compact > u.size {
                return Err(DebugOffsetsError::OffsetOutOfRange { group: "unicode_object", field: "compactunicodeobject_size", offset: compact, size: u.size });
            }
        }
        Ok(())
    }

    /// What `dump --locals` reads, from this table; `code_nlocalsplus` is derived by `apply_to`.
    pub fn locals_offsets(&self, code_nlocalsplus: u64) -> LocalsOffsets {
        LocalsOffsets {
            major: self.version.major,
            minor: self.version.minor,
            patch_min: self.version.patch,
            patch_max: self.version.patch,
            free_threaded: self.free_threaded,
            locals_code_names: self.code_object.localsplusnames,
            locals_code_count: code_nlocalsplus,
            locals_code_kinds: Some(self.code_object.localspluskinds),
            locals_frame_slots: self.interpreter_frame.localsplus,
            locals_tuple_size: self.tuple_object.ob_size,
            locals_tuple_items: self.tuple_object.ob_item,
            locals_type_name: self.type_object.tp_name,
            locals_long_size: self.long_object.lv_tag,
            locals_long_digits: self.long_object.ob_digit,
            // 30-bit digits on every 64-bit build since 3.12 (PYLONG_BITS_IN_DIGIT).
            locals_long_digit_bits: 30,
            locals_float_value: self.float_object.ob_fval,
            // `PyCellObject` is an object header, then `ob_ref`.
            locals_cell_ref: self.pyobject.size,
            locals_int27_value: None,
        }
    }

    /// True when the target's minor is newer than every known layout and was read with the
    /// newest one (it passed every check, so it is used, with a warning).
    pub fn layout_is_guessed(&self) -> bool {
        self.layout_minor != self.version.minor
    }

    /// `base` with every field the table describes replaced by the table's value.
    ///
    /// `base` must be a 3.13+ table of the same build flavour (free-threaded or not); it may be an
    /// older minor (e.g. the 3.13 table for a 3.14 target). Fields the table does not describe
    /// are derived from the base's distances, which hold for 3.13 and 3.14: `tstate_datastack_top`
    /// (right after `datastack_chunk`) and `unicode_compact_data` (`PyCompactUnicodeObject` =
    /// `PyASCIIObject` + utf8_length + utf8). The `holds_gil` bit mask is kept only when the base
    /// is the same minor: 3.14 moved `holds_gil` out of `_status` (bit 5 is `finalizing` there),
    /// so a 3.14 target gets `None` and the GIL holder comes from `_gil_runtime_state`.
    pub fn apply_to(&self, base: &VersionOffsets) -> Result<VersionOffsets, DebugOffsetsError> {
        if (base.major, base.minor) < (3, 13) || (base.major, base.minor) > (self.version.major, self.version.minor) {
            return Err(DebugOffsetsError::BaseMismatch {
                detail: format!(
                    "base table {}.{} cannot be completed by {} debug offsets (needs 3.13 up to the target's minor)",
                    base.major, base.minor, self.version
                ),
            });
        }
        if base.free_threaded != self.free_threaded {
            return Err(DebugOffsetsError::BaseMismatch {
                detail: format!(
                    "the target is {} but the base table is {}",
                    flavour(self.free_threaded),
                    flavour(base.free_threaded)
                ),
            });
        }
        let missing = |name: &str| DebugOffsetsError::BaseMismatch { detail: format!("base table has no {name}") };
        let datastack_top_delta = base
            .tstate_datastack_top
            .zip(base.tstate_datastack_chunk)
            .map(|(top, chunk)| top.wrapping_sub(chunk))
            .ok_or_else(|| missing("datastack_chunk/datastack_top"))?;
        let compact_tail = base
            .unicode_compact_data
            .map(|compact| compact.wrapping_sub(base.unicode_ascii_data))
            .ok_or_else(|| missing("unicode_compact_data"))?;

        let i = &self.interpreter_state;
        let t = &self.thread_state;
        let fr = &self.interpreter_frame;
        let c = &self.code_object;
        let u = &self.unicode_object;
        Ok(VersionOffsets {
            major: self.version.major,
            minor: self.version.minor,
            patch_min: self.version.patch,
            patch_max: self.version.patch,
            free_threaded: self.free_threaded,
            runtime_interpreters_head: Some(self.runtime_state.interpreters_head),
            runtime_tstate_current: None,
            interp_next: i.next,
            interp_tstate_head: i.threads_head,
            interp_ceval_gil: Some(i.ceval_gil),
            interp_id: Some(i.id),
            gil_last_holder: Some(i.gil_runtime_state_holder - i.gil_runtime_state),
            gil_locked: Some(i.gil_runtime_state_locked - i.gil_runtime_state),
            tstate_next: t.next,
            tstate_interp: t.interp,
            tstate_frame: t.current_frame,
            cframe_current_frame: None,
            tstate_thread_id: t.thread_id,
            tstate_native_thread_id: Some(t.native_thread_id),
            tstate_datastack_chunk: Some(t.datastack_chunk),
            tstate_datastack_top: Some(t.datastack_chunk + datastack_top_delta),
            tstate_status: Some(t.status),
            tstate_status_holds_gil_mask: if base.minor == self.version.minor {
                base.tstate_status_holds_gil_mask
            } else {
                None
            },
            tstate_size: t.size,
            frame_back: fr.previous,
            frame_code: fr.executable,
            frame_lasti: fr.instr_ptr,
            frame_owner: Some(fr.owner),
            frame_is_entry: None,
            frame_executing: None,
            // `FRAME_SPECIALS_SIZE` is `(sizeof(_PyInterpreterFrame) - 1) / sizeof(PyObject *)` words.
            frame_specials_size: Some((fr.size.saturating_sub(1) / 8) * 8),
            frame_size: (fr.previous + 8).max(fr.executable + 8).max(fr.instr_ptr + 8).max(fr.owner + 1),
            code_filename: c.filename,
            code_name: c.name,
            code_qualname: Some(c.qualname),
            code_firstlineno: c.firstlineno,
            code_linetable: c.linetable,
            code_code_adaptive: Some(c.co_code_adaptive),
            code_stacksize: code_int_beside_firstlineno(base.code_stacksize, base, c.firstlineno),
            code_nlocalsplus: code_int_beside_firstlineno(base.code_nlocalsplus, base, c.firstlineno),
            code_size: c.size,
            unicode_length: u.length,
            unicode_state: Some(u.state),
            unicode_ascii_data: u.asciiobject_size,
            unicode_compact_data: Some(u.compactunicodeobject_size.unwrap_or(u.asciiobject_size + compact_tail)),
            bytes_size: self.bytes_object.ob_size,
            bytes_data: self.bytes_object.ob_sval,
            object_type: self.pyobject.ob_type,
        })
    }
}

/// `co_stacksize` and `co_nlocalsplus` are not in the table; they are the ints just before and
/// after `co_firstlineno` in 3.11 to 3.14 (`co_stacksize, co_firstlineno, co_nlocalsplus`), so
/// the base's distance from `co_firstlineno` places them in the target.
fn code_int_beside_firstlineno(base_field: Option<u64>, base: &VersionOffsets, firstlineno: u64) -> Option<u64> {
    base_field.map(|f| firstlineno.wrapping_add(f.wrapping_sub(base.code_firstlineno)))
}

fn flavour(free_threaded: bool) -> &'static str {
    if free_threaded {
        "free-threaded"
    } else {
        "a default (GIL) build"
    }
}

/// Parses `raw` (read at `_PyRuntime`) and overrides `base` with it; see `DebugOffsets::apply_to`.
pub fn apply_debug_offsets(base: &VersionOffsets, raw: &[u8]) -> Result<VersionOffsets, DebugOffsetsError> {
    parse(raw)?.apply_to(base)
}
