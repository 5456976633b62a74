//! `_Py_DebugOffsets` parsing: the real table inside pyenv's libpython3.13.so.1.0 (values of
//! /work/shared/reference/cpython-internals.md §9.1), a 3.14 table laid out as documented in
//! §9.2 (field order of CPython 3.14.0's `pycore_debug_offsets.h`), and corrupt tables.

use std::path::PathBuf;

use goblin::elf::Elf;

// Included by path so these tests do not depend on how `python/mod.rs` wires the modules.
#[path = "../src/python"]
#[allow(dead_code)]
mod python {
    pub mod debug_offsets;
    pub mod offsets;
    pub mod offsets_generated;
    pub mod version;
}

use python::debug_offsets::{
    apply_debug_offsets, parse, table_len, DebugOffsetsError, HEADER_LEN, TABLE_LEN_3_13, TABLE_LEN_3_14,
};
use python::offsets::VersionOffsets;
use python::offsets_generated::GENERATED_OFFSETS;
use python::version::PythonVersion;

fn pyenv_lib(version: &str, soname: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".pyenv/versions").join(version).join("lib").join(soname);
    path.exists().then_some(path)
}

/// The bytes of `.PyRuntime` as stored in the file (`_PyRuntime` is statically initialised).
fn py_runtime_section(path: &PathBuf, len: usize) -> Vec<u8> {
    let data = std::fs::read(path).expect("read ELF file");
    let elf = Elf::parse(&data).expect("parse ELF");
    let section = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".PyRuntime"))
        .expect(".PyRuntime section");
    let start = section.sh_offset as usize;
    assert!(section.sh_size as usize >= len, ".PyRuntime is at least {len} bytes");
    data[start..start + len].to_vec()
}

fn generated(minor: u8, free_threaded: bool) -> VersionOffsets {
    *GENERATED_OFFSETS
        .iter()
        .find(|t| (t.major, t.minor, t.free_threaded) == (3, minor, free_threaded))
        .expect("generated table")
}

fn real_313_table() -> Option<Vec<u8>> {
    match pyenv_lib("3.13.0", "libpython3.13.so.1.0") {
        Some(path) => Some(py_runtime_section(&path, TABLE_LEN_3_13)),
        None => {
            eprintln!("skipping: ~/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0 not found");
            None
        }
    }
}

#[test]
fn reads_the_real_313_table_from_libpython() {
    let Some(raw) = real_313_table() else { return };
    let d = parse(&raw).expect("valid 3.13.0 table");
    assert_eq!(d.version_hex, 0x030d00f0);
    assert_eq!(d.version, PythonVersion::new(3, 13, 0));
    assert!(!d.free_threaded);
    let r = d.runtime_state;
    assert_eq!((r.size, r.finalizing, r.interpreters_head), (283320, 608, 632));
    let i = d.interpreter_state;
    assert_eq!(
        (i.size, i.id, i.next, i.threads_head, i.gc, i.imports_modules, i.sysdict, i.builtins),
        (194968, 7272, 7264, 7344, 7400, 7656, 7640, 7648)
    );
    assert_eq!(
        (i.ceval_gil, i.gil_runtime_state, i.gil_runtime_state_enabled, i.gil_runtime_state_locked, i.gil_runtime_state_holder),
        (16, 7752, 0, 7768, 7760)
    );
    assert_eq!((i.threads_main, i.code_object_generation, i.tlbc_generation), (None, None, None));
    let t = d.thread_state;
    assert_eq!(
        (t.size, t.prev, t.next, t.interp, t.current_frame, t.thread_id, t.native_thread_id, t.datastack_chunk, t.status),
        (304, 0, 8, 16, 72, 152, 160, 232, 32)
    );
    let f = d.interpreter_frame;
    assert_eq!((f.size, f.previous, f.executable, f.instr_ptr, f.localsplus, f.owner), (80, 8, 0, 56, 72, 70));
    let c = d.code_object;
    assert_eq!(
        (c.size, c.filename, c.name, c.qualname, c.linetable, c.firstlineno, c.argcount, c.localsplusnames, c.localspluskinds, c.co_code_adaptive),
        (208, 112, 120, 128, 136, 68, 52, 96, 104, 200)
    );
    assert_eq!((d.pyobject.size, d.pyobject.ob_type), (16, 8));
    let ty = d.type_object;
    assert_eq!((ty.size, ty.tp_name, ty.tp_repr, ty.tp_flags), (416, 24, 88, 168));
    assert_eq!((d.tuple_object.size, d.tuple_object.ob_item, d.tuple_object.ob_size), (32, 24, 16));
    assert_eq!((d.list_object.size, d.list_object.ob_item, d.list_object.ob_size), (40, 24, 16));
    assert_eq!((d.dict_object.size, d.dict_object.ma_keys, d.dict_object.ma_values), (48, 32, 40));
    assert_eq!((d.float_object.size, d.float_object.ob_fval), (24, 16));
    assert_eq!((d.long_object.size, d.long_object.lv_tag, d.long_object.ob_digit), (32, 16, 24));
    assert_eq!((d.bytes_object.size, d.bytes_object.ob_size, d.bytes_object.ob_sval), (40, 16, 32));
    let u = d.unicode_object;
    assert_eq!((u.size, u.state, u.length, u.asciiobject_size), (64, 32, 16, 40));
    assert_eq!((d.gc.size, d.gc.collecting), (240, 200));
    assert_eq!((d.set_object, d.gen_object, d.llist_node, d.debugger_support), (None, None, None, None));
}

/// The table the interpreter publishes and the offsetof() probe of its headers must agree.
#[test]
fn real_313_table_applied_to_the_generated_313_table_changes_nothing() {
    let Some(raw) = real_313_table() else { return };
    let base = generated(13, false);
    let applied = apply_debug_offsets(&base, &raw).expect("apply");
    assert_eq!((applied.patch_min, applied.patch_max), (0, 0), "the result describes exactly 3.13.0");
    assert_eq!(applied, VersionOffsets { patch_min: 0, patch_max: 0, ..base });
}

#[test]
fn runtimes_before_313_have_no_cookie() {
    let mut checked = 0;
    for (version, soname) in [("3.12.1", "libpython3.12.so.1.0"), ("3.11.7", "libpython3.11.so.1.0")] {
        if let Some(path) = pyenv_lib(version, soname) {
            let raw = py_runtime_section(&path, TABLE_LEN_3_13);
            assert!(matches!(parse(&raw), Err(DebugOffsetsError::BadCookie(_))), "{version}");
            checked += 1;
        }
    }
    let debian = PathBuf::from("/usr/bin/python3.11");
    if debian.exists() {
        let raw = py_runtime_section(&debian, TABLE_LEN_3_13);
        let err = parse(&raw).unwrap_err();
        assert_eq!(err.code(), "ERR_DEBUG_OFFSETS_BAD_COOKIE");
        checked += 1;
    }
    if checked == 0 {
        eprintln!("skipping: no 3.11/3.12 interpreter files found");
    }
}

/// A table as 3.14.0 lays it out (each group in declaration order; sizes and offsets are the
/// 3.14.0 x86_64 values of reference §3–§6 where known, plausible otherwise).
fn synthetic_314_table(free_threaded: bool) -> Vec<u8> {
    let groups: &[(&str, &[(&str, u64)])] = &[
        ("runtime_state", &[("size", 300_000), ("finalizing", 608), ("interpreters_head", 632)]),
        (
            "interpreter_state",
            &[
                ("size", 200_000),
                ("id", 7280),
                ("next", 7272),
                ("threads_head", 7344),
                ("threads_main", 7360),
                ("gc", 7408),
                ("imports_modules", 7664),
                ("sysdict", 7648),
                ("builtins", 7656),
                ("ceval_gil", 16),
                ("gil_runtime_state", 7760),
                ("gil_runtime_state_enabled", 0),
                ("gil_runtime_state_locked", 7776),
                ("gil_runtime_state_holder", 7768),
                ("code_object_generation", 9000),
                ("tlbc_generation", if free_threaded { 9008 } else { 0 }),
            ],
        ),
        (
            "thread_state",
            &[
                ("size", 824),
                ("prev", 0),
                ("next", 8),
                ("interp", 16),
                ("current_frame", 72),
                ("thread_id", 152),
                ("native_thread_id", 160),
                ("datastack_chunk", 232),
                ("status", 32),
            ],
        ),
        (
            "interpreter_frame",
            &[
                ("size", 88),
                ("previous", 8),
                ("executable", 0),
                ("instr_ptr", 56),
                ("localsplus", 80),
                ("owner", 74),
                ("stackpointer", 64),
                ("tlbc_index", if free_threaded { 72 } else { 0 }),
            ],
        ),
        (
            "code_object",
            &[
                ("size", 216),
                ("filename", 112),
                ("name", 120),
                ("qualname", 128),
                ("linetable", 136),
                ("firstlineno", 68),
                ("argcount", 52),
                ("localsplusnames", 96),
                ("localspluskinds", 104),
                ("co_code_adaptive", 208),
                ("co_tlbc", if free_threaded { 200 } else { 0 }),
            ],
        ),
        ("pyobject", &[("size", 16), ("ob_type", 8)]),
        ("type_object", &[("size", 416), ("tp_name", 24), ("tp_repr", 88), ("tp_flags", 168)]),
        ("tuple_object", &[("size", 32), ("ob_item", 24), ("ob_size", 16)]),
        ("list_object", &[("size", 40), ("ob_item", 24), ("ob_size", 16)]),
        ("set_object", &[("size", 200), ("used", 24), ("table", 40), ("mask", 48)]),
        ("dict_object", &[("size", 48), ("ma_keys", 32), ("ma_values", 40)]),
        ("float_object", &[("size", 24), ("ob_fval", 16)]),
        ("long_object", &[("size", 32), ("lv_tag", 16), ("ob_digit", 24)]),
        ("bytes_object", &[("size", 40), ("ob_size", 16), ("ob_sval", 32)]),
        ("unicode_object", &[("size", 64), ("state", 32), ("length", 16), ("asciiobject_size", 40)]),
        ("gc", &[("size", 256), ("collecting", 200)]),
        ("gen_object", &[("size", 136), ("gi_name", 48), ("gi_iframe", 80), ("gi_frame_state", 67)]),
        ("llist_node", &[("next", 0), ("prev", 8)]),
        (
            "debugger_support",
            &[
                ("eval_breaker", 24),
                ("remote_debugger_support", 400),
                ("remote_debugging_enabled", 500),
                ("debugger_pending_call", 0),
                ("debugger_script_path", 4),
                ("debugger_script_path_size", 512),
            ],
        ),
    ];
    let mut raw = Vec::new();
    raw.extend_from_slice(b"xdebugpy");
    raw.extend_from_slice(&0x030e00f0u64.to_le_bytes());
    raw.extend_from_slice(&u64::from(free_threaded).to_le_bytes());
    for (_, fields) in groups {
        for (_, value) in *fields {
            raw.extend_from_slice(&value.to_le_bytes());
        }
    }
    raw
}

#[test]
fn parses_the_314_layout_with_its_inserted_fields() {
    let raw = synthetic_314_table(false);
    assert_eq!(raw.len(), TABLE_LEN_3_14);
    assert_eq!(table_len(PythonVersion::new(3, 14, 0)), 760);
    assert_eq!(table_len(PythonVersion::new(3, 13, 5)), 584);
    let d = parse(&raw).expect("valid 3.14 table");
    assert_eq!(d.version, PythonVersion::new(3, 14, 0));
    assert_eq!(d.interpreter_state.threads_main, Some(7360));
    assert_eq!(d.interpreter_state.gc, 7408, "fields after the inserted threads_main do not shift");
    assert_eq!(d.interpreter_state.code_object_generation, Some(9000));
    assert_eq!(d.interpreter_state.tlbc_generation, None, "0 in default builds means absent");
    assert_eq!(d.thread_state.size, 824, "thread_state starts after the two appended interp fields");
    assert_eq!((d.interpreter_frame.stackpointer, d.interpreter_frame.tlbc_index), (Some(64), None));
    assert_eq!(d.code_object.co_tlbc, None);
    assert_eq!(d.pyobject.ob_type, 8, "pyobject follows co_tlbc");
    assert_eq!(d.set_object.map(|s| (s.size, s.used, s.table, s.mask)), Some((200, 24, 40, 48)));
    assert_eq!(d.dict_object.ma_keys, 32, "dict_object follows the inserted set_object");
    assert_eq!(d.unicode_object.asciiobject_size, 40);
    assert_eq!((d.gc.size, d.gc.collecting), (256, 200));
    assert_eq!(d.gen_object.map(|g| g.gi_iframe), Some(80));
    assert_eq!(d.llist_node.map(|l| (l.next, l.prev)), Some((0, 8)));
    assert_eq!(d.debugger_support.map(|s| s.debugger_script_path_size), Some(512), "last field is read");
}

#[test]
fn applies_a_314_table_onto_the_313_base() {
    let base = generated(13, false);
    let o = apply_debug_offsets(&base, &synthetic_314_table(false)).expect("apply");
    assert_eq!((o.major, o.minor, o.patch_min, o.patch_max, o.free_threaded), (3, 14, 0, 0, false));
    assert_eq!((o.runtime_interpreters_head, o.runtime_tstate_current), (Some(632), None));
    assert_eq!((o.interp_next, o.interp_tstate_head, o.interp_id, o.interp_ceval_gil), (7272, 7344, Some(7280), Some(16)));
    // _gil at 7760 with last_holder at 7768 and locked at 7776: 8 and 16 inside the struct.
    assert_eq!((o.gil_last_holder, o.gil_locked), (Some(8), Some(16)));
    assert_eq!((o.tstate_frame, o.tstate_size, o.tstate_status), (72, 824, Some(32)));
    assert_eq!((o.tstate_datastack_chunk, o.tstate_datastack_top), (Some(232), Some(240)));
    // 3.14 made holds_gil a separate int; bit 5 of _status is `finalizing` there.
    assert_eq!(base.tstate_status_holds_gil_mask, Some(0x20));
    assert_eq!(o.tstate_status_holds_gil_mask, None);
    assert_eq!((o.frame_code, o.frame_back, o.frame_lasti, o.frame_owner), (0, 8, 56, Some(74)));
    assert_eq!(o.frame_size, 75, "up to and including owner");
    assert_eq!((o.code_code_adaptive, o.code_size), (Some(208), 216));
    assert_eq!((o.unicode_ascii_data, o.unicode_compact_data), (40, Some(56)));
}

#[test]
fn free_threaded_tables_need_a_free_threaded_base() {
    let raw = synthetic_314_table(true);
    let d = parse(&raw).expect("valid");
    assert!(d.free_threaded);
    assert_eq!(d.interpreter_state.tlbc_generation, Some(9008));
    assert_eq!((d.interpreter_frame.tlbc_index, d.code_object.co_tlbc), (Some(72), Some(200)));
    let err = apply_debug_offsets(&generated(13, false), &raw).unwrap_err();
    assert_eq!(err.code(), "ERR_DEBUG_OFFSETS_BASE_MISMATCH");
    let o = apply_debug_offsets(&generated(13, true), &raw).expect("3.13t base");
    assert!(o.free_threaded);
    let err = apply_debug_offsets(&generated(12, false), &synthetic_314_table(false)).unwrap_err();
    assert_eq!(err.code(), "ERR_DEBUG_OFFSETS_BASE_MISMATCH", "bases before 3.13 lack the 3.13 shape");
}

/// A 3.13t table written from the header probe values (reference §10) must give back the
/// generated 3.13t table: the derived fields (gil, datastack_top, compact data) line up.
#[test]
fn free_threaded_313_table_round_trips_to_the_generated_313t_table() {
    let Some(mut raw) = real_313_table() else { return };
    let ft = generated(13, true);
    let put = |raw: &mut Vec<u8>, index: usize, value: u64| {
        raw[index * 8..index * 8 + 8].copy_from_slice(&value.to_le_bytes());
    };
    // Word indexes in the 3.13 layout (header = words 0..3).
    put(&mut raw, 2, 1); // free_threaded
    put(&mut raw, 15, 7760); // interpreter_state.gil_runtime_state
    put(&mut raw, 16, 7760); // gil_runtime_state_enabled (enabled is the first field)
    put(&mut raw, 17, 7760 + ft.gil_locked.unwrap());
    put(&mut raw, 18, 7760 + ft.gil_last_holder.unwrap());
    put(&mut raw, 34, 224); // code_object.size
    put(&mut raw, 35, ft.code_filename);
    put(&mut raw, 36, ft.code_name);
    put(&mut raw, 37, ft.code_qualname.unwrap());
    put(&mut raw, 38, ft.code_linetable);
    put(&mut raw, 39, ft.code_firstlineno);
    put(&mut raw, 43, ft.code_code_adaptive.unwrap());
    put(&mut raw, 44, 32); // pyobject.size
    put(&mut raw, 45, ft.object_type);
    // Fields right after the 32-byte object header (checked by the parser's anchors).
    put(&mut raw, 47, 40); // type_object.tp_name
    for (size, item) in [(50, 48), (53, 56)] {
        put(&mut raw, size, item); // tuple_object/list_object: size, ob_item, ob_size
        put(&mut raw, size + 1, 40);
        put(&mut raw, size + 2, 32);
    }
    put(&mut raw, 59, 40); // float_object.size
    put(&mut raw, 60, 32); // float_object.ob_fval
    put(&mut raw, 61, 48); // long_object.size
    put(&mut raw, 62, 32); // long_object.lv_tag
    put(&mut raw, 63, 40); // long_object.ob_digit
    put(&mut raw, 64, 56); // bytes_object.size
    put(&mut raw, 65, ft.bytes_size);
    put(&mut raw, 66, ft.bytes_data);
    put(&mut raw, 67, 80); // unicode_object.size
    put(&mut raw, 68, ft.unicode_state.unwrap());
    put(&mut raw, 69, ft.unicode_length);
    put(&mut raw, 70, ft.unicode_ascii_data);
    let o = apply_debug_offsets(&ft, &raw).expect("apply 3.13t");
    assert_eq!(o, VersionOffsets { patch_min: 0, patch_max: 0, ..ft });
}

fn with_word(mut raw: Vec<u8>, index: usize, value: u64) -> Vec<u8> {
    raw[index * 8..index * 8 + 8].copy_from_slice(&value.to_le_bytes());
    raw
}

#[test]
fn rejects_corrupt_or_unknown_tables() {
    let good = synthetic_314_table(false);
    let code = |raw: &[u8]| parse(raw).unwrap_err().code();

    assert_eq!(code(&good[..HEADER_LEN - 1]), "ERR_DEBUG_OFFSETS_TOO_SHORT");
    assert_eq!(
        parse(&good[..TABLE_LEN_3_13]).unwrap_err(),
        DebugOffsetsError::TooShort { needed: 760, got: 584 }
    );
    let mut bad_cookie = good.clone();
    bad_cookie[0] = b'X';
    assert_eq!(code(&bad_cookie), "ERR_DEBUG_OFFSETS_BAD_COOKIE");
    for version in [0x030c01f0u64, 0x030e00a1, 0x020718f0, 0x1_030e00f0] {
        assert_eq!(
            parse(&with_word(good.clone(), 1, version)).unwrap_err(),
            DebugOffsetsError::UnsupportedVersion(version),
            "version 0x{version:x}"
        );
    }
    assert!(parse(&with_word(good.clone(), 1, 0x030e00b3)).is_ok(), "3.14 betas use the final layout");
    // A 3.14 table labelled 3.15 is read with the longer 3.15 layout: too short, or, padded,
    // its shifted fields fail the checks.
    assert_eq!(
        parse(&with_word(good.clone(), 1, 0x030f02f0)).unwrap_err(),
        DebugOffsetsError::TooShort { needed: 888, got: 760 }
    );
    let mut padded = with_word(good.clone(), 1, 0x030f02f0);
    padded.resize(888, 0);
    assert_eq!(code(&padded), "ERR_DEBUG_OFFSETS_INVALID");
    assert_eq!(parse(&with_word(good.clone(), 2, 2)).unwrap_err(), DebugOffsetsError::BadFreeThreadedFlag(2));
    // runtime_state.size = 0
    assert_eq!(code(&with_word(good.clone(), 3, 0)), "ERR_DEBUG_OFFSETS_INVALID");
    // interpreter_state.threads_head far outside the interpreter
    assert!(matches!(
        parse(&with_word(good.clone(), 9, 1 << 40)),
        Err(DebugOffsetsError::OffsetOutOfRange { group: "interpreter_state", field: "threads_head", .. })
    ));
    // thread_state.current_frame beyond thread_state.size (word 6 + 16 + 4)
    assert!(matches!(
        parse(&with_word(good.clone(), 26, 824)),
        Err(DebugOffsetsError::OffsetOutOfRange { group: "thread_state", field: "current_frame", .. })
    ));
    let message = parse(&with_word(good, 26, 824)).unwrap_err().to_string();
    assert!(message.starts_with("ERR_DEBUG_OFFSETS_INVALID: thread_state.current_frame = 824"), "{message}");
}

/// A 3.13 table that claims to be 3.14 is read with the wrong layout; validation must notice.
#[test]
fn a_313_table_read_with_the_314_layout_is_rejected() {
    let Some(raw) = real_313_table() else { return };
    let mut as_314 = with_word(raw, 1, 0x030e00f0);
    as_314.resize(TABLE_LEN_3_14, 0);
    assert_eq!(parse(&as_314).unwrap_err().code(), "ERR_DEBUG_OFFSETS_INVALID");
}

/// A table written by `tools/debug-offsets/probe.sh` from CPython's headers: the cookie, then
/// one u64 per line. Returns (file stem, raw table).
fn header_tables() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/debug-offsets");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/debug-offsets") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut raw = b"xdebugpy".to_vec();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            raw.extend_from_slice(&line.trim().parse::<u64>().expect("decimal word").to_le_bytes());
        }
        out.push((path.file_stem().unwrap().to_string_lossy().into_owned(), raw));
    }
    out.sort();
    out
}

/// The root filesystem of scripts/pythons/fetch.sh (Debian unstable's 3.14 and 3.15), if fetched.
fn sid_root() -> Option<PathBuf> {
    let cache = std::env::var("PYFLAME_TS_CACHE").unwrap_or_else(|_| "/var/cache/pyflame-ts".into());
    let mut roots: Vec<PathBuf> = std::fs::read_dir(PathBuf::from(cache).join("pythons"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("sid-")) && p.join(".complete").exists())
        .collect();
    roots.sort();
    roots.pop()
}

#[test]
fn header_tables_of_314_315_and_their_free_threaded_builds_parse() {
    let tables = header_tables();
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["3.14.10", "3.14.10t", "3.15.2", "3.15.2t"]);
    for (name, raw) in &tables {
        let d = parse(raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.version.to_string(), name.trim_end_matches('t'), "{name}");
        assert_eq!(d.free_threaded, name.ends_with('t'), "{name}");
        assert!(!d.layout_is_guessed(), "{name}");
        assert_eq!(raw.len(), table_len(d.version), "{name}: the layout's length is the struct's size");
        let ft = d.free_threaded;
        assert_eq!(d.pyobject.size, if ft { 32 } else { 16 }, "{name}: object header");
        assert_eq!(d.interpreter_frame.tlbc_index.is_some(), ft, "{name}");
        assert_eq!(d.code_object.co_tlbc.is_some(), ft, "{name}");
        assert_eq!(d.interpreter_state.tlbc_generation.is_some(), ft, "{name}");
        if d.version.minor == 15 {
            let t = d.thread_state;
            assert_eq!((t.current_frame, t.base_frame, t.thread_id, t.native_thread_id, t.datastack_chunk, t.status, t.holds_gil), (72, Some(80), 176, 184, 256, 32, Some(36)), "{name}");
            assert_eq!(d.unicode_object.compactunicodeobject_size, Some(if ft { 72 } else { 56 }), "{name}");
        }
        // Completed by the built-in 3.13 table of the same flavour, as a live target is.
        let o = d.apply_to(&generated(13, ft)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(o.tstate_datastack_top, Some(d.thread_state.datastack_chunk + 8), "{name}");
        assert_eq!(o.unicode_compact_data, Some(d.unicode_object.asciiobject_size + 16), "{name}");
        assert_eq!(o.code_stacksize, Some(d.code_object.firstlineno - 4), "{name}");
        assert_eq!(o.code_nlocalsplus, Some(d.code_object.firstlineno + 4), "{name}");
    }
}

/// The tables inside Debian's 3.14 and 3.15 interpreters are the ones their headers give.
#[test]
fn debian_314_315_interpreters_publish_the_header_tables() {
    let Some(root) = sid_root() else {
        eprintln!("skipping: scripts/pythons/fetch.sh has not fetched Debian's 3.14/3.15 here");
        return;
    };
    for (name, raw) in header_tables().iter().filter(|(n, _)| !n.ends_with('t')) {
        let minor = &name[..4];
        let binary = root.join("usr/bin").join(format!("python{minor}"));
        // Debian's build configuration makes `_PyRuntimeState` and `PyInterpreterState` 8 bytes
        // bigger than the -dev headers compiled plainly; every offset is the same.
        let size_words = [3usize, 6];
        let published = py_runtime_section(&binary, raw.len());
        for word in (0..raw.len() / 8).filter(|w| !size_words.contains(w)) {
            assert_eq!(published[word * 8..word * 8 + 8], raw[word * 8..word * 8 + 8], "{}: word {word} of .PyRuntime vs headers", binary.display());
        }
        // The debug build has bigger structures but the same layout of the table itself.
        let debug = py_runtime_section(&root.join("usr/bin").join(format!("python{minor}d")), raw.len());
        let d = parse(&debug).expect("debug build table");
        assert_eq!(d.version.to_string(), *name);
    }
}

/// A minor newer than any known layout: read with the newest layout when it reads consistently
/// (a warning then), refused when the newer table inserted fields.
#[test]
fn newer_minors_are_read_with_the_newest_layout_only_when_consistent() {
    let (_, raw_315) = header_tables().into_iter().find(|(n, _)| n == "3.15.2").unwrap();
    let as_316 = with_word(raw_315.clone(), 1, 0x031000f0);
    let d = parse(&as_316).expect("a 3.16 table laid out like 3.15's");
    assert_eq!((d.version.minor, d.layout_minor), (16, 15));
    assert!(d.layout_is_guessed());
    // 3.16 with one more thread_state field after current_frame (word 3 + 3 + 16 + 5).
    let mut inserted = raw_315.clone();
    let at = (3 + 3 + 16 + 5) * 8;
    inserted.splice(at..at, 96u64.to_le_bytes());
    let inserted = with_word(inserted, 1, 0x031000f0);
    let err = parse(&inserted).unwrap_err();
    assert_eq!(err.code(), "ERR_DEBUG_OFFSETS_INVALID", "{err}");
}
