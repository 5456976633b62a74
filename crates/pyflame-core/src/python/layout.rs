//! Everything version-specific the walker needs: the offsets (data) plus the few structural
//! choices that differ between CPython generations (code, written once below).

use super::linetable::LineTableFormat;
use super::offsets::{LocalsOffsets, VersionOffsets};
use super::offsets_generated::GENERATED_OFFSETS;
use super::strings::StringFormat;
use super::version::PythonVersion;
use crate::error::{Error, Result};

/// How frames are chained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameModel {
    /// ≤3.10: heap `PyFrameObject`s linked by `f_back`; `f_lasti` is an int.
    FrameObjects,
    /// 3.11–3.12: `_PyInterpreterFrame`s reached through `tstate->cframe->current_frame`;
    /// `prev_instr` is a pointer into the inline bytecode.
    CFrame,
    /// 3.13+: `tstate->current_frame`; `f_executable` may be a non-code object (skip it).
    CurrentFrame,
}

/// Where the GIL holder is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GilModel {
    /// 2.7, 3.6: the global `_PyThreadState_Current`.
    GlobalThreadState,
    /// 3.7–3.11: `_PyRuntime.gilstate.tstate_current`.
    RuntimeThreadState,
    /// 3.12+: each interpreter's `_gil_runtime_state` {last_holder, locked}.
    InterpreterGil,
}

#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub version: PythonVersion,
    pub offsets: VersionOffsets,
    pub frame_model: FrameModel,
    pub line_format: LineTableFormat,
    pub string_format: StringFormat,
    pub gil_model: GilModel,
    /// Frames whose `owner` is at least this are C-stack/interpreter entry shims, not Python (3.12+).
    pub first_shim_owner: Option<u8>,
    /// 3.14+: `f_executable` is a tagged `_PyStackRef`; mask these low bits.
    pub executable_tag_mask: u64,
    /// Instruction offsets: true when `frame_lasti` counts 2-byte code units (3.10) rather than bytes.
    pub lasti_in_code_units: bool,
    /// 3.14+ free-threaded builds: frames execute a thread-local copy of the bytecode.
    pub tlbc: Option<TlbcOffsets>,
    /// A minor newer than any this build knows, read with the debug-offsets layout of this
    /// (older) minor because its table passed every consistency check.
    pub debug_offsets_layout_of: Option<u8>,
    /// 3.14+: what `dump --locals` reads, taken from the debug offsets (no built-in table).
    pub debug_locals: Option<LocalsOffsets>,
    /// Free-threaded builds: `enabled` inside `_gil_runtime_state` (its first field).
    pub gil_enabled_offset: Option<u64>,
}

/// Where a 3.14t frame's thread-local bytecode copy is found (from `_Py_DebugOffsets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlbcOffsets {
    /// `_PyInterpreterFrame.tlbc_index` (int32).
    pub frame_tlbc_index: u64,
    /// `PyCodeObject.co_tlbc`: pointer to `{Py_ssize_t size; char *entries[]}`.
    pub code_tlbc: u64,
}

impl Layout {
    /// The built-in layout for `version`, from the generated offset tables.
    pub fn for_version(version: PythonVersion, free_threaded: bool) -> Result<Layout> {
        let offsets = GENERATED_OFFSETS
            .iter()
            .filter(|o| o.major == version.major && o.minor == version.minor && o.free_threaded == free_threaded)
            .find(|o| (o.patch_min..=o.patch_max).contains(&version.patch))
            .or_else(|| {
                // A newer patch release than any table: the last table of that minor.
                GENERATED_OFFSETS
                    .iter()
                    .filter(|o| o.major == version.major && o.minor == version.minor && o.free_threaded == free_threaded)
                    .max_by_key(|o| o.patch_max)
            })
            .copied()
            .ok_or_else(|| {
                let has_table_layout = version.major == 3 && super::debug_offsets::known_minors().contains(&version.minor);
                Error::unsupported(if has_table_layout {
                    // 3.14+ layouts come only from the target's own `_Py_DebugOffsets`.
                    format!(
                        "Python {version}{} is read from the debug offsets at its _PyRuntime, which were not found (is the runtime section stripped?)",
                        if free_threaded { " (free-threaded)" } else { "" },
                    )
                } else {
                    format!(
                        "Python {version}{} is not supported (supported: {}); upgrade pyflame-ts",
                        if free_threaded { " (free-threaded)" } else { "" },
                        supported_summary()
                    )
                })
            })?;
        Ok(Self::from_offsets(version, offsets))
    }

    /// The layout of a 3.13+ target from its `_Py_DebugOffsets` table (`raw`, read at
    /// `_PyRuntime`): the built-in table of that version completes it, or, for a newer minor
    /// than any built-in table (3.14+), the newest 3.13+ table of the same build flavour.
    pub fn from_debug_offsets(raw: &[u8]) -> Result<Layout> {
        let table = super::debug_offsets::parse(raw).map_err(|e| {
            Error::unsupported(format!(
                "not supported: its debug offsets match no known layout ({e}); supported: {}; upgrade pyflame-ts",
                supported_summary()
            ))
        })?;
        let version = table.version;
        let base = GENERATED_OFFSETS
            .iter()
            .filter(|o| o.major == 3 && o.minor >= 13 && o.free_threaded == table.free_threaded)
            .filter(|o| (o.major, o.minor) <= (version.major, version.minor))
            .max_by_key(|o| (o.minor, o.patch_max))
            .copied()
            .ok_or_else(|| Error::unsupported(format!("no built-in 3.13+ table to complete the debug offsets of Python {version}")))?;
        let mut offsets = table.apply_to(&base).map_err(|e| Error::unsupported(format!("{e}")))?;
        let tlbc = table
            .interpreter_frame
            .tlbc_index
            .zip(table.code_object.co_tlbc)
            .map(|(frame_tlbc_index, code_tlbc)| TlbcOffsets { frame_tlbc_index, code_tlbc });
        if let Some(t) = tlbc {
            offsets.frame_size = offsets.frame_size.max(t.frame_tlbc_index + 4);
        }
        let mut layout = Layout::from_offsets(version, offsets);
        layout.tlbc = tlbc;
        layout.debug_offsets_layout_of = table.layout_is_guessed().then_some(table.layout_minor);
        layout.debug_locals = offsets.code_nlocalsplus.map(|count| table.locals_offsets(count));
        if table.free_threaded {
            // 3.13 wrote this from the interpreter's start, 3.14+ from `_gil`'s.
            let i = &table.interpreter_state;
            let enabled = i.gil_runtime_state_enabled;
            layout.gil_enabled_offset = Some(if enabled >= i.gil_runtime_state { enabled - i.gil_runtime_state } else { enabled });
        }
        Ok(layout)
    }

    pub fn from_offsets(version: PythonVersion, offsets: VersionOffsets) -> Layout {
        let v = (version.major, version.minor);
        let frame_model = if v >= (3, 13) {
            FrameModel::CurrentFrame
        } else if v >= (3, 11) {
            FrameModel::CFrame
        } else {
            FrameModel::FrameObjects
        };
        let line_format = match v {
            (2, _) => LineTableFormat::Lnotab27,
            _ if v >= (3, 11) => LineTableFormat::Locations311,
            (3, 10) => LineTableFormat::Linetable310,
            _ => LineTableFormat::Lnotab36,
        };
        let gil_model = if v >= (3, 12) {
            GilModel::InterpreterGil
        } else if v >= (3, 7) {
            GilModel::RuntimeThreadState
        } else {
            GilModel::GlobalThreadState
        };
        Layout {
            version,
            offsets,
            frame_model,
            line_format,
            string_format: if version.major == 2 {
                StringFormat::Bytes27
            } else if offsets.free_threaded && v >= (3, 14) {
                StringFormat::Pep393InternedByte
            } else {
                StringFormat::Pep393
            },
            gil_model,
            first_shim_owner: (v >= (3, 12)).then_some(3),
            executable_tag_mask: if v >= (3, 14) { 3 } else { 0 },
            lasti_in_code_units: v == (3, 10),
            tlbc: None,
            debug_offsets_layout_of: None,
            debug_locals: None,
            gil_enabled_offset: offsets.free_threaded.then_some(0),
        }
    }

    /// One line for the user when this layout is a guess (see `debug_offsets_layout_of`).
    pub fn notice(&self) -> Option<String> {
        self.debug_offsets_layout_of.map(|minor| {
            format!(
                "Python {} is newer than this pyflame-ts knows (newest: 3.{minor}); its debug offsets read consistently with 3.{minor}'s layout, so they are used; upgrade pyflame-ts if stacks look wrong",
                self.version
            )
        })
    }
}

/// Minors readable with a built-in table or a known debug-offsets layout, oldest first.
fn supported_minors(free_threaded: bool) -> Vec<(u8, u8)> {
    let mut minors: Vec<(u8, u8)> = GENERATED_OFFSETS.iter().filter(|o| o.free_threaded == free_threaded).map(|o| (o.major, o.minor)).collect();
    // Free-threaded builds exist from 3.13; every debug-offsets layout reads both flavours.
    minors.extend(super::debug_offsets::known_minors().into_iter().map(|m| (3, m)));
    minors.sort();
    minors.dedup();
    minors
}

/// The supported minors of default (GIL) builds, e.g. `2.7, 3.6, ..., 3.15`.
pub fn supported_versions() -> String {
    supported_minors(false).iter().map(|(a, b)| format!("{a}.{b}")).collect::<Vec<_>>().join(", ")
}

/// For messages: default builds, free-threaded builds, and what newer minors need.
pub fn supported_summary() -> String {
    let free_threaded: Vec<String> = supported_minors(true).iter().map(|(a, b)| format!("{a}.{b}t")).collect();
    let newest = super::debug_offsets::known_minors().into_iter().max().unwrap_or(13);
    format!(
        "{}; free-threaded {}; newer 3.x whose debug offsets read like 3.{newest}'s",
        supported_versions(),
        free_threaded.join(", ")
    )
}
