//! CPython 3.13+'s `_Py_DebugOffsets`: the offset table the interpreter publishes at the start
//! of `_PyRuntime` so out-of-process readers need not hard-code struct layouts.
//!
//! The table is not self-describing: its layout is chosen by the `version` in its header, and
//! 3.14 inserted fields in the middle of 3.13's groups. Both layouts are described below in
//! declaration order (3.13: `Include/internal/pycore_runtime.h`, 584 bytes, checked against
//! pyenv's libpython3.13.so; 3.14: `Include/internal/pycore_debug_offsets.h`, 760 bytes, field
//! order as in py-spy's bindgen output for 3.14.0). Every field is a little-endian u64.

use std::fmt;

use super::offsets::VersionOffsets;
use super::version::PythonVersion;

pub const COOKIE: &[u8; 8] = b"xdebugpy";
/// cookie + version + free_threaded.
pub const HEADER_LEN: usize = 24;
pub const TABLE_LEN_3_13: usize = 584;
pub const TABLE_LEN_3_14: usize = 760;

/// Largest plausible `_PyRuntimeState` / `PyInterpreterState` (3.12's runtime is 450 KiB).
const MAX_STATE_SIZE: u64 = 16 << 20;
/// Largest plausible size of any other structure described by the table.
const MAX_OBJECT_SIZE: u64 = 64 << 10;

/// Bytes to read at `_PyRuntime` for `version`'s table. Versions without a known layout get the
/// largest known length, enough for `parse` to read the header and report the version.
pub fn table_len(version: PythonVersion) -> usize {
    match (version.major, version.minor) {
        (3, 13) => TABLE_LEN_3_13,
        _ => TABLE_LEN_3_14,
    }
}

fn layout_len(minor: u8) -> usize {
    if minor == 13 {
        TABLE_LEN_3_13
    } else {
        TABLE_LEN_3_14
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugOffsetsError {
    TooShort { needed: usize, got: usize },
    BadCookie([u8; 8]),
    UnsupportedVersion(u64),
    BadFreeThreadedFlag(u64),
    ImplausibleSize { group: &'static str, size: u64 },
    OffsetOutOfRange { group: &'static str, field: &'static str, offset: u64, size: u64 },
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
            | DebugOffsetsError::OffsetOutOfRange { .. } => "ERR_DEBUG_OFFSETS_INVALID",
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
                "debug offsets of version 0x{v:08x} have no known layout (supported: 3.13, 3.14 betas and later); pass --python-version or upgrade pyflame-ts"
            ),
            DebugOffsetsError::BadFreeThreadedFlag(v) => write!(f, "free_threaded flag is {v}, expected 0 or 1"),
            DebugOffsetsError::ImplausibleSize { group, size } => {
                write!(f, "{group}.size = {size} is implausible; the table is corrupt or has an unknown layout")
            }
            DebugOffsetsError::OffsetOutOfRange { group, field, offset, size } => write!(
                f,
                "{group}.{field} = {offset} lies outside the structure ({group}.size = {size}); the table is corrupt or has an unknown layout"
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

/// Reads consecutive u64 fields; the caller has checked the length.
struct Fields<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl Fields<'_> {
    fn next(&mut self) -> u64 {
        let bytes: [u8; 8] = self.raw[self.pos..self.pos + 8].try_into().expect("8 bytes");
        self.pos += 8;
        u64::from_le_bytes(bytes)
    }

    /// A field that exists only from 3.14 on.
    fn since_314(&mut self, is_314: bool) -> Option<u64> {
        is_314.then(|| self.next())
    }

    /// A 3.14+ field that only free-threaded builds fill in (default builds write 0).
    fn free_threaded_since_314(&mut self, is_314: bool, free_threaded: bool) -> Option<u64> {
        self.since_314(is_314).filter(|_| free_threaded)
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
        .filter(|v| v.major == 3 && (13..=14).contains(&v.minor) && version_hex >> 32 == 0)
        // 3.14 alphas still changed the table; their layout is unknown.
        .filter(|v| !(v.minor == 14 && v.level == 0xA))
        .ok_or(DebugOffsetsError::UnsupportedVersion(version_hex))?;
    let free_threaded = match u64::from_le_bytes(raw[16..24].try_into().expect("8 bytes")) {
        0 => false,
        1 => true,
        other => return Err(DebugOffsetsError::BadFreeThreadedFlag(other)),
    };
    Ok((version, version_hex, free_threaded))
}

/// Parses and validates a table read at `_PyRuntime` (at least `table_len(version)` bytes).
pub fn parse(raw: &[u8]) -> Result<DebugOffsets, DebugOffsetsError> {
    let (version, version_hex, free_threaded) = parse_header(raw)?;
    let needed = layout_len(version.minor);
    if raw.len() < needed {
        return Err(DebugOffsetsError::TooShort { needed, got: raw.len() });
    }
    let is_314 = version.minor >= 14;
    let mut f = Fields { raw, pos: HEADER_LEN };
    let runtime_state =
        RuntimeStateOffsets { size: f.next(), finalizing: f.next(), interpreters_head: f.next() };
    let interpreter_state = InterpreterStateOffsets {
        size: f.next(),
        id: f.next(),
        next: f.next(),
        threads_head: f.next(),
        threads_main: f.since_314(is_314),
        gc: f.next(),
        imports_modules: f.next(),
        sysdict: f.next(),
        builtins: f.next(),
        ceval_gil: f.next(),
        gil_runtime_state: f.next(),
        gil_runtime_state_enabled: f.next(),
        gil_runtime_state_locked: f.next(),
        gil_runtime_state_holder: f.next(),
        code_object_generation: f.since_314(is_314),
        tlbc_generation: f.free_threaded_since_314(is_314, free_threaded),
    };
    let thread_state = ThreadStateOffsets {
        size: f.next(),
        prev: f.next(),
        next: f.next(),
        interp: f.next(),
        current_frame: f.next(),
        thread_id: f.next(),
        native_thread_id: f.next(),
        datastack_chunk: f.next(),
        status: f.next(),
    };
    let interpreter_frame = InterpreterFrameOffsets {
        size: f.next(),
        previous: f.next(),
        executable: f.next(),
        instr_ptr: f.next(),
        localsplus: f.next(),
        owner: f.next(),
        stackpointer: f.since_314(is_314),
        tlbc_index: f.free_threaded_since_314(is_314, free_threaded),
    };
    let code_object = CodeObjectOffsets {
        size: f.next(),
        filename: f.next(),
        name: f.next(),
        qualname: f.next(),
        linetable: f.next(),
        firstlineno: f.next(),
        argcount: f.next(),
        localsplusnames: f.next(),
        localspluskinds: f.next(),
        co_code_adaptive: f.next(),
        co_tlbc: f.free_threaded_since_314(is_314, free_threaded),
    };
    let pyobject = PyObjectOffsets { size: f.next(), ob_type: f.next() };
    let type_object =
        TypeObjectOffsets { size: f.next(), tp_name: f.next(), tp_repr: f.next(), tp_flags: f.next() };
    let tuple_object = SequenceOffsets { size: f.next(), ob_item: f.next(), ob_size: f.next() };
    let list_object = SequenceOffsets { size: f.next(), ob_item: f.next(), ob_size: f.next() };
    let set_object = is_314
        .then(|| SetObjectOffsets { size: f.next(), used: f.next(), table: f.next(), mask: f.next() });
    let dict_object = DictObjectOffsets { size: f.next(), ma_keys: f.next(), ma_values: f.next() };
    let float_object = FloatObjectOffsets { size: f.next(), ob_fval: f.next() };
    let long_object = LongObjectOffsets { size: f.next(), lv_tag: f.next(), ob_digit: f.next() };
    let bytes_object = BytesObjectOffsets { size: f.next(), ob_size: f.next(), ob_sval: f.next() };
    let unicode_object = UnicodeObjectOffsets {
        size: f.next(),
        state: f.next(),
        length: f.next(),
        asciiobject_size: f.next(),
    };
    let gc = GcOffsets { size: f.next(), collecting: f.next() };
    let gen_object = is_314.then(|| GenObjectOffsets {
        size: f.next(),
        gi_name: f.next(),
        gi_iframe: f.next(),
        gi_frame_state: f.next(),
    });
    let llist_node = is_314.then(|| LlistNodeOffsets { next: f.next(), prev: f.next() });
    let debugger_support = is_314.then(|| DebuggerSupportOffsets {
        eval_breaker: f.next(),
        remote_debugger_support: f.next(),
        remote_debugging_enabled: f.next(),
        debugger_pending_call: f.next(),
        debugger_script_path: f.next(),
        debugger_script_path_size: f.next(),
    });
    debug_assert_eq!(f.pos, needed, "layout length matches the fields read");

    let table = DebugOffsets {
        version_hex,
        version,
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
        Ok(())
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
            unicode_compact_data: Some(u.asciiobject_size + compact_tail),
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
