//! Finding the interpreter in a live process: which ELF holds the runtime, its exact
//! version, the layout to use, and the addresses the walker starts from.

use super::layout::Layout;
use super::version::PythonVersion;
use crate::binary::BinaryInfo;
use crate::error::{from_io, Error, ErrorCode, Result};
use crate::process::memory::{ProcessMemory, RemoteMemory};
use crate::process::{tasks, Maps};

/// Options that change how a target is recognised.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Use this version instead of detecting it (for odd embedders), e.g. `3.11`.
    pub version_override: Option<PythonVersion>,
    /// Ignore the anchor symbols and find the runtime by scanning (tests the stripped path).
    pub force_scan: bool,
}

/// A Python process we know how to read.
#[derive(Debug, Clone)]
pub struct PythonTarget {
    pub pid: i32,
    pub layout: Layout,
    /// `/proc/PID/exe` as the target sees it.
    pub executable: String,
    /// The ELF file holding the runtime (the executable or libpython).
    pub runtime_binary: String,
    /// `_PyRuntime` (3.7+).
    pub runtime_addr: Option<u64>,
    /// Address of the pointer to the first interpreter.
    pub interp_head_ptr: u64,
    /// Address of the pointer to the thread state holding the GIL (≤3.11).
    pub tstate_current_ptr: Option<u64>,
    /// A second word that must agree with `tstate_current_ptr` for a thread to count as the
    /// GIL holder (set when a symbol-less scan could not tell `_PyThreadState_Current` from
    /// `gil_last_holder`, see `scan::find_tstate_current`).
    pub tstate_current_confirm_ptr: Option<u64>,
    /// `PyCode_Type`, for validating code objects.
    pub code_type: Option<u64>,
    /// `PyUnicode_Type` (3.x) / `PyString_Type` (2.7), for validating names.
    pub str_type: Option<u64>,
    /// How the version was found, for diagnostics.
    pub version_source: &'static str,
    /// How the interpreter was found: symbols, `.PyRuntime` section, or a memory scan.
    pub interp_source: &'static str,
    pub maps: Maps,
}

fn is_libpython(file_name: &str) -> bool {
    // libpython3.12.so.1.0, libpython3.7m.so, libpython3.13t.so, libpython2.7.so.1.0
    let Some(rest) = file_name.strip_prefix("libpython") else { return false };
    // A major digit, a dot, minor digits, optional ABI flags, then ".so".
    let Some((version, _)) = rest.split_once(".so") else { return false };
    let Some((major, minor)) = version.split_once('.') else { return false };
    let minor_digits = minor.trim_end_matches(|c: char| c.is_ascii_lowercase());
    major.len() == 1 && major.chars().all(|c| c.is_ascii_digit()) && !minor_digits.is_empty() && minor_digits.chars().all(|c| c.is_ascii_digit())
}

/// Path to open a mapped file of the target, from the host (works across mount namespaces).
pub(crate) fn host_path(pid: i32, maps: &Maps, maps_path: &str) -> String {
    if let Some(stripped) = maps_path.strip_suffix(" (deleted)") {
        // The file was replaced or removed: open the mapping itself.
        if let Some(r) = maps.of_file(maps_path).find(|r| r.offset == 0) {
            return format!("/proc/{pid}/map_files/{:x}-{:x}", r.start, r.end);
        }
        return format!("/proc/{pid}/root{stripped}");
    }
    format!("/proc/{pid}/root{maps_path}")
}

/// Checks the process exists and is not a zombie or kernel thread.
pub fn check_process(pid: i32) -> Result<()> {
    if pid <= 0 {
        return Err(Error::invalid(format!("{pid} is not a valid PID: give the positive PID of a running Python process")));
    }
    let stat = std::fs::read(format!("/proc/{pid}/stat")).map_err(|e| from_io(pid, &e, "reading"))?;
    match tasks::parse_stat_state(&stat) {
        Some(b'Z') | Some(b'X') => Err(Error::new(
            ErrorCode::NoProcess,
            format!("process {pid} has exited (it is a zombie waiting for its parent); nothing to profile"),
        )),
        _ => Ok(()),
    }
}

impl PythonTarget {
    pub fn discover(pid: i32, options: &DiscoverOptions) -> Result<PythonTarget> {
        check_process(pid)?;
        let maps = Maps::read(pid)?;
        if maps.ranges.is_empty() {
            return Err(Error::not_python(pid, "it has no memory map: a kernel thread?"));
        }
        let exe_link = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map_err(|e| from_io(pid, &e, "reading the executable of"))?
            .to_string_lossy()
            .into_owned();
        let mem = ProcessMemory::new(pid);
        // Fail early and clearly when reads are not allowed.
        if let Some(first) = maps.ranges.iter().find(|r| r.readable) {
            let mut probe = [0u8; 8];
            if let Err(crate::process::memory::ReadError::Denied) = mem.read(first.start, &mut probe) {
                return Err(Error::permission(pid, "reading the memory of"));
            }
        }

        let lib_path = maps.ranges.iter().map(|r| r.path.as_str()).find(|p| {
            let name = p.strip_suffix(" (deleted)").unwrap_or(p);
            is_libpython(name.rsplit('/').next().unwrap_or(""))
        });
        let mut binaries = Vec::new();
        if let Some(lib) = lib_path {
            binaries.push(BinaryInfo::load(pid, &maps, lib, &host_path(pid, &maps, lib))?);
        }
        let exe_maps_path = maps
            .ranges
            .iter()
            .map(|r| r.path.as_str())
            .find(|p| *p == exe_link || p.strip_suffix(" (deleted)") == Some(exe_link.trim_end_matches(" (deleted)")))
            .unwrap_or(exe_link.as_str())
            .to_string();
        if let Ok(exe) = BinaryInfo::load(pid, &maps, &exe_maps_path, &format!("/proc/{pid}/exe")) {
            binaries.push(exe);
        }

        let symbol = |name: &str| binaries.iter().find_map(|b| b.symbol(name));
        // Symbols that locate the interpreter; `force_scan` pretends the binary is stripped.
        let anchor = |name: &str| if options.force_scan { None } else { symbol(name) };
        let runtime_section = binaries.iter().find_map(|b| b.section(".PyRuntime").map(|s| (s.addr, b.maps_path.clone())));
        let runtime_binary = binaries
            .iter()
            .find(|b| b.symbol("_PyRuntime").is_some() || b.symbol("interp_head").is_some() || b.section(".PyRuntime").is_some())
            .map(|b| b.maps_path.clone());

        let runtime_addr = anchor("_PyRuntime").or(runtime_section.as_ref().map(|(addr, _)| *addr));
        let runtime_from_section = anchor("_PyRuntime").is_none() && runtime_addr.is_some();

        // Without symbols, a libpython or a `sys.version` buffer in memory is the evidence.
        let version_in_memory = || binaries.iter().find_map(|b| scan_version_string(&mem, &data_regions(b, &maps)));
        let looks_like_python = runtime_addr.is_some()
            || symbol("interp_head").is_some()
            || symbol("PyCode_Type").is_some()
            || lib_path.is_some();
        let scanned_version = if looks_like_python { None } else { version_in_memory() };
        if !looks_like_python && scanned_version.is_none() {
            let name = exe_link.rsplit('/').next().unwrap_or(&exe_link);
            return Err(Error::not_python(pid, &format!("{name} has no Python runtime symbols and no libpython is loaded")));
        }

        // The exact version, most reliable source first.
        let mut free_threaded = false;
        let mut found: Option<(PythonVersion, &'static str)> = None;
        let mut debug_table: Option<Vec<u8>> = None;
        if let Some(runtime) = runtime_addr {
            if let Ok(raw) = mem.read_vec(runtime, super::debug_offsets::MAX_TABLE_LEN) {
                if let Ok((version, _, ft)) = super::debug_offsets::parse_header(&raw) {
                    free_threaded = ft;
                    found = Some((version, "debug offsets"));
                    debug_table = Some(raw);
                }
            }
        }
        if found.is_none() {
            if let Some(addr) = anchor("Py_Version") {
                found = mem.read_u64(addr).ok().and_then(PythonVersion::from_hex).map(|v| (v, "Py_Version"));
            }
        }
        if found.is_none() {
            for name in ["version.0", "version", "Py_GetVersion.version"] {
                if let Some(addr) = anchor(name) {
                    if let Ok(buf) = mem.read_vec(addr, 64) {
                        let text = String::from_utf8_lossy(&buf);
                        if let Some(v) = PythonVersion::from_version_string(&text) {
                            found = Some((v, "sys.version buffer"));
                            break;
                        }
                    }
                }
            }
        }
        if found.is_none() {
            found = scanned_version.or_else(version_in_memory).map(|v| (v, "scan of .bss"));
        }
        if found.is_none() {
            let lib_version = lib_path.and_then(|p| PythonVersion::from_file_name(p.rsplit('/').next().unwrap_or("")));
            let exe_version = PythonVersion::from_file_name(exe_link.rsplit('/').next().unwrap_or(""));
            found = lib_version.or(exe_version).map(|v| (v, "file name"));
        }
        let detected_minor = found.map(|(v, _)| v);
        if let Some(forced) = options.version_override {
            // The override stands in for detection that failed or only guessed from a file name.
            // Memory (debug offsets, Py_Version, sys.version) is authoritative: a different minor
            // there means the override is wrong, and its layout would give wrong lines.
            if let Some((v, source)) = found {
                if (v.major, v.minor) != (forced.major, forced.minor) && source != "file name" {
                    return Err(Error::unsupported(format!(
                        "--python-version {}.{} does not match process {pid}, whose memory says Python {v} (from {source}); drop --python-version or pass {}.{}",
                        forced.major, forced.minor, v.major, v.minor
                    )));
                }
            }
            // Keep the detected patch level when the minor agrees.
            found = Some(match found {
                Some((v, _)) if (v.major, v.minor) == (forced.major, forced.minor) => (v, "detected (matches --python-version)"),
                _ => (forced, "--python-version"),
            });
        }
        let (version, version_source) = found.ok_or_else(|| {
            Error::unsupported(format!(
                "found a Python runtime in process {pid} but could not tell its version; pass --python-version X.Y"
            ))
        })?;
        if lib_path.is_some_and(|p| p.rsplit('/').next().unwrap_or("").contains(&format!("{}.{}t", version.major, version.minor))) {
            free_threaded = true;
        }

        let layout = layout_for(version, free_threaded, debug_table.as_deref()).map_err(|e| {
            // Only a version guessed from a file name can be corrected by the user.
            let hint = if version_source == "file name" { " (the version was guessed from a file name: if it is wrong, pass --python-version X.Y)" } else { "" };
            Error::unsupported(format!("Python {version} in process {pid}: {}{hint}", e.message))
        })?;

        let o = &layout.offsets;
        let make_target = |interp_head_ptr: u64, runtime_addr: Option<u64>| {
            let tstate_current_ptr = match (o.runtime_tstate_current, runtime_addr) {
                (Some(off), Some(runtime)) => Some(runtime.wrapping_add(off)),
                _ => anchor("_PyThreadState_Current"),
            };
            PythonTarget {
                pid,
                layout,
                executable: exe_link.clone(),
                runtime_binary: runtime_binary.clone().unwrap_or_else(|| lib_path.unwrap_or("").to_string()),
                runtime_addr,
                interp_head_ptr,
                tstate_current_ptr,
                tstate_current_confirm_ptr: None,
                code_type: anchor("PyCode_Type"),
                str_type: if version.major == 2 { anchor("PyString_Type") } else { anchor("PyUnicode_Type") },
                version_source,
                interp_source: "symbols",
                maps: maps.clone(),
            }
        };
        let direct_head = match o.runtime_interpreters_head {
            Some(head) => runtime_addr.map(|r| r.wrapping_add(head)),
            None => anchor("interp_head"),
        };
        let symbol_less = options.force_scan || runtime_from_section || direct_head.is_none();
        let mut target = None;
        if let Some(head) = direct_head {
            let t = make_target(head, runtime_addr);
            if !symbol_less {
                target = Some(t);
            } else if let Some(types) = super::scan::confirm_by_walking(&mem, &t) {
                target = Some(PythonTarget { code_type: Some(types.code_type), str_type: Some(types.str_type), interp_source: ".PyRuntime section", ..t });
            }
        }
        // The scan regions: the binary holding the runtime first (libpython), then the executable.
        let regions: Vec<(u64, u64)> = binaries
            .iter()
            .flat_map(|b| b.section(".PyRuntime").map(|s| (s.addr, s.size)).into_iter().chain(data_regions(b, &maps)))
            .collect();
        if target.is_none() && symbol_less {
            let candidates = super::scan::weak_candidates(&mem, &maps, &regions, &layout);
            let make = |head: u64| {
                // 3.7+: the list head is a field of `_PyRuntime`, which places the runtime too.
                let runtime = runtime_addr.or(o.runtime_interpreters_head.and_then(|off| head.checked_sub(off)));
                make_target(head, runtime)
            };
            if let Some((t, types)) = super::scan::first_confirmed(&mem, &candidates, &make) {
                target = Some(PythonTarget { code_type: Some(types.code_type), str_type: Some(types.str_type), interp_source: "scan of .bss/.data", ..t });
            }
        }
        let mut target = target.ok_or_else(|| {
            Error::unsupported(format!(
                "Python {version} in process {pid}: the runtime symbols are stripped and no interpreter was found by scanning its memory; is it still starting?"
            ))
        })?;
        if target.tstate_current_ptr.is_none() && layout.gil_model == super::layout::GilModel::GlobalThreadState {
            if let Some((current, confirm)) = super::scan::find_tstate_current(&mem, &regions, &target) {
                target.tstate_current_ptr = Some(current);
                target.tstate_current_confirm_ptr = confirm;
            }
        }
        target.validate(&mem)?;
        if version_source == "--python-version" && !symbol_less {
            // The override replaced (or stood in for) detection: prove its layout on the stacks.
            if super::scan::confirm_by_walking(&mem, &target).is_none() {
                return Err(Error::unsupported(format!(
                    "process {pid} does not read as Python {version} (its stacks do not decode with that layout); check --python-version{}",
                    detected_minor.map_or(String::new(), |v| format!(" (memory says {}.{})", v.major, v.minor))
                )));
            }
        }
        Ok(target)
    }

    /// A target read from a synthetic memory image (tests, fuzzing): `runtime_addr` holds a
    /// 3.13+ `_PyRuntime` with its debug offsets; nothing is read from `/proc`.
    pub fn from_runtime_image(mem: &dyn RemoteMemory, runtime_addr: u64, code_type: Option<u64>, str_type: Option<u64>) -> Result<PythonTarget> {
        let raw = mem
            .read_vec(runtime_addr, super::debug_offsets::MAX_TABLE_LEN)
            .or_else(|_| mem.read_vec(runtime_addr, super::debug_offsets::TABLE_LEN_3_13))
            .map_err(|e| Error::unsupported(format!("cannot read the debug offsets at {runtime_addr:#x}: {e}")))?;
        let layout = Layout::from_debug_offsets(&raw)?;
        let head = layout.offsets.runtime_interpreters_head.unwrap_or(0);
        let target = PythonTarget {
            pid: 0,
            layout,
            executable: String::new(),
            runtime_binary: String::new(),
            runtime_addr: Some(runtime_addr),
            interp_head_ptr: runtime_addr.wrapping_add(head),
            tstate_current_ptr: None,
            tstate_current_confirm_ptr: None,
            code_type,
            str_type,
            version_source: "debug offsets",
            interp_source: "synthetic image",
            maps: Maps::default(),
        };
        target.validate(mem)?;
        Ok(target)
    }

    /// Confirms the interpreter pointer leads to a thread state that points back at it.
    fn validate(&self, mem: &dyn RemoteMemory) -> Result<()> {
        let o = &self.layout.offsets;
        let interp = mem.read_u64(self.interp_head_ptr).unwrap_or(0);
        if interp == 0 {
            return Err(Error::new(
                ErrorCode::NotPython,
                format!(
                    "process {} has a Python {} runtime but no interpreter yet (starting up or shutting down); try again in a moment",
                    self.pid, self.layout.version
                ),
            ));
        }
        let tstate = mem.read_u64(interp.wrapping_add(o.interp_tstate_head)).unwrap_or(0);
        if tstate != 0 && mem.read_u64(tstate.wrapping_add(o.tstate_interp)).ok() != Some(interp) {
            return Err(Error::unsupported(format!(
                "process {}: Python {} memory does not match the expected layout (found via {}); if the version is wrong, pass --python-version",
                self.pid, self.layout.version, self.version_source
            )));
        }
        Ok(())
    }
}

/// The layout for `version`: from the target's `_Py_DebugOffsets` when it has one (3.13+,
/// and the only source for minors newer than the built-in tables), else the built-in table.
fn layout_for(version: PythonVersion, free_threaded: bool, debug_table: Option<&[u8]>) -> Result<Layout> {
    if let Some(raw) = debug_table {
        let matches = super::debug_offsets::parse_header(raw).is_ok_and(|(v, _, _)| (v.major, v.minor) == (version.major, version.minor));
        if matches {
            return Layout::from_debug_offsets(raw);
        }
    }
    Layout::for_version(version, free_threaded)
}

/// Where a binary's static data lives in the target: `.bss` and `.data` from its section
/// headers, or, when the file has none (an `sstrip`ped binary), its writable file mappings plus
/// the anonymous writable mapping right after them (the `.bss` tail), as Austin does.
fn data_regions(binary: &BinaryInfo, maps: &Maps) -> Vec<(u64, u64)> {
    let from_sections: Vec<(u64, u64)> = [binary.bss(), binary.section(".data")].into_iter().flatten().map(|s| (s.addr, s.size)).collect();
    if !from_sections.is_empty() {
        return from_sections;
    }
    // The anonymous `.bss` tail first: like `.bss` before `.data`, it holds the list head
    // while `.data` holds most false candidates (pointers of static objects).
    let mut file_backed = Vec::new();
    let mut regions = Vec::new();
    let mut last_end = None;
    for r in &maps.ranges {
        if r.path == binary.maps_path {
            if r.writable && r.readable {
                file_backed.push((r.start, r.end - r.start));
            }
            last_end = Some(r.end);
        } else if last_end == Some(r.start) && r.path.is_empty() && r.writable && r.readable {
            regions.push((r.start, r.end - r.start));
            last_end = None;
        } else {
            last_end = None;
        }
    }
    regions.extend(file_backed);
    regions
}

/// Finds `"X.Y.Z ("` (the start of `sys.version`) in a binary's live `.bss`/`.data`.
fn scan_version_string(mem: &dyn RemoteMemory, regions: &[(u64, u64)]) -> Option<PythonVersion> {
    for &(addr, size) in regions {
        let len = size.min(8 << 20) as usize;
        let Ok(bytes) = mem.read_vec(addr, len) else { continue };
        for i in memchr::memchr_iter(b'.', &bytes) {
            // `sys.version` starts a NUL-separated buffer: "<digit>.<digits>.<digits> (".
            let starts_buffer = i >= 1 && bytes[i - 1].is_ascii_digit() && (i < 2 || bytes[i - 2] == 0);
            if !starts_buffer {
                continue;
            }
            let end = (i + 24).min(bytes.len());
            let text = String::from_utf8_lossy(&bytes[i - 1..end]);
            if let Some(paren) = text.find(" (") {
                if let Some(v) = PythonVersion::from_version_string(&text[..paren]) {
                    return Some(v);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_libpython_names() {
        for name in ["libpython3.12.so.1.0", "libpython3.7m.so.1.0", "libpython3.13t.so.1.0", "libpython2.7.so.1.0", "libpython3.10.so"] {
            assert!(is_libpython(name), "{name}");
        }
        for name in ["libpythonista.so", "python3.12", "libpython3.so", "libfoo.so"] {
            assert!(!is_libpython(name), "{name}");
        }
    }
}
