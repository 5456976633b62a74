//! Checks the generated per-version tables against values measured independently in
//! /work/shared/reference/cpython-internals.md (§3–§6, §8, §10), and that the committed
//! file is what `tools/gen-offsets/gen.py` produces on this machine.

// Included by path so this test does not depend on how `python/mod.rs` wires the modules.
#[path = "../src/python"]
mod python {
    pub mod offsets;
    pub mod offsets_generated;
}

use python::offsets::VersionOffsets;
use python::offsets_generated::GENERATED_OFFSETS;

fn table(minor: (u8, u8), patch: u8, free_threaded: bool) -> &'static VersionOffsets {
    let matches: Vec<_> = GENERATED_OFFSETS
        .iter()
        .filter(|t| {
            (t.major, t.minor) == minor
                && t.free_threaded == free_threaded
                && t.patch_min <= patch
                && patch <= t.patch_max
        })
        .collect();
    assert_eq!(matches.len(), 1, "exactly one table for {minor:?}.{patch} ft={free_threaded}");
    matches[0]
}

#[test]
fn every_installed_minor_has_exactly_one_table_per_patch() {
    for minor in [(2, 7), (3, 6), (3, 7), (3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13)] {
        for patch in [0u8, 3, 4, 7, 18, 255] {
            table(minor, patch, false);
        }
    }
    table((3, 13), 0, true);
}

#[test]
fn tables_are_sorted_and_ranges_do_not_overlap() {
    for pair in GENERATED_OFFSETS.windows(2) {
        let key = |t: &VersionOffsets| (t.major, t.minor, t.free_threaded, t.patch_min);
        assert!(key(&pair[0]) < key(&pair[1]), "sorted: {:?} then {:?}", key(&pair[0]), key(&pair[1]));
        if (pair[0].major, pair[0].minor, pair[0].free_threaded)
            == (pair[1].major, pair[1].minor, pair[1].free_threaded)
        {
            assert_eq!(pair[0].patch_max + 1, pair[1].patch_min, "contiguous patch ranges");
        }
    }
}

#[test]
fn runtime_state_matches_reference_section_3_1() {
    assert_eq!(table((2, 7), 18, false).runtime_interpreters_head, None);
    assert_eq!(table((3, 6), 15, false).runtime_tstate_current, None);
    assert_eq!(table((3, 7), 16, false).runtime_interpreters_head, Some(24));
    assert_eq!(table((3, 7), 16, false).runtime_tstate_current, Some(1480));
    // The only hand-entered value (py-spy's 3.7.0–3.7.3 table, via the reference).
    assert_eq!(table((3, 7), 3, false).runtime_tstate_current, Some(1392));
    assert_eq!(table((3, 8), 18, false).runtime_tstate_current, Some(1368));
    assert_eq!(table((3, 9), 18, false).runtime_tstate_current, Some(568));
    assert_eq!(table((3, 10), 13, false).runtime_interpreters_head, Some(32));
    assert_eq!(table((3, 11), 7, false).runtime_tstate_current, Some(576));
    assert_eq!(table((3, 12), 1, false).runtime_interpreters_head, Some(40));
    assert_eq!(table((3, 12), 1, false).runtime_tstate_current, None);
    assert_eq!(table((3, 13), 0, false).runtime_interpreters_head, Some(632));
}

#[test]
fn interpreter_and_thread_state_match_reference_sections_3_2_and_3_3() {
    let t312 = table((3, 12), 1, false);
    assert_eq!(t312.interp_tstate_head, 72);
    assert_eq!(t312.interp_ceval_gil, Some(384));
    assert_eq!((t312.gil_last_holder, t312.gil_locked), (Some(8), Some(16)));
    assert_eq!(t312.tstate_status, Some(24));
    assert_eq!(t312.cframe_current_frame, Some(0));
    let t313 = table((3, 13), 0, false);
    assert_eq!((t313.interp_next, t313.interp_tstate_head, t313.interp_id), (7264, 7344, Some(7272)));
    assert_eq!(t313.tstate_frame, 72);
    assert_eq!(t313.tstate_status_holds_gil_mask, Some(0x20));
    assert_eq!(table((3, 11), 7, false).cframe_current_frame, Some(8));
    assert_eq!(table((3, 11), 7, false).tstate_datastack_chunk, Some(296));
    let thread_ids: Vec<u64> = [(2, 7), (3, 6), (3, 7), (3, 10), (3, 11), (3, 12), (3, 13)]
        .iter()
        .map(|&m| table(m, 0, false).tstate_thread_id)
        .collect();
    assert_eq!(thread_ids, [144, 152, 176, 176, 152, 136, 152]);
    assert_eq!(table((3, 6), 15, false).tstate_size, 2272);
}

#[test]
fn frames_match_reference_sections_3_4_and_3_5() {
    assert_eq!(table((2, 7), 18, false).frame_lasti, 120);
    assert_eq!(table((3, 9), 18, false).frame_lasti, 104);
    assert_eq!(table((3, 10), 13, false).frame_lasti, 96);
    let t311 = table((3, 11), 2, false);
    assert_eq!((t311.frame_code, t311.frame_back, t311.frame_lasti), (32, 48, 56));
    assert_eq!((t311.frame_is_entry, t311.frame_owner), (Some(68), Some(69)));
    assert_eq!(table((3, 12), 1, false).frame_owner, Some(70));
    assert_eq!(table((3, 13), 0, false).frame_code, 0);
    for t in GENERATED_OFFSETS {
        let ends = [t.frame_back + 8, t.frame_code + 8, t.frame_lasti + 4];
        assert!(ends.iter().all(|&end| end <= t.frame_size), "frame_size covers fields: {t:?}");
    }
}

#[test]
fn code_objects_match_reference_section_4() {
    assert_eq!(table((3, 11), 7, false).code_code_adaptive, Some(184));
    assert_eq!(table((3, 12), 1, false).code_code_adaptive, Some(192));
    assert_eq!(table((3, 13), 0, false).code_code_adaptive, Some(200));
    assert_eq!(table((2, 7), 18, false).code_firstlineno, 96);
    assert_eq!(table((3, 6), 15, false).code_firstlineno, 36);
    let t310 = table((3, 10), 13, false);
    assert_eq!((t310.code_filename, t310.code_name, t310.code_linetable), (104, 112, 120));
    assert_eq!(table((3, 11), 7, false).code_qualname, Some(128));
}

#[test]
fn strings_match_reference_section_6() {
    let t27 = table((2, 7), 18, false);
    assert_eq!((t27.unicode_length, t27.unicode_ascii_data, t27.unicode_state), (16, 36, None));
    let t311 = table((3, 11), 7, false);
    assert_eq!((t311.unicode_ascii_data, t311.unicode_compact_data), (48, Some(72)));
    let t312 = table((3, 12), 1, false);
    assert_eq!((t312.unicode_ascii_data, t312.unicode_compact_data), (40, Some(56)));
    assert_eq!((t312.bytes_size, t312.bytes_data), (16, 32));
}

#[test]
fn free_threaded_313_matches_reference_section_10() {
    let t = table((3, 13), 0, true);
    assert_eq!(t.object_type, 24);
    assert_eq!((t.unicode_length, t.unicode_state, t.unicode_ascii_data), (32, Some(48), 56));
    assert_eq!(t.unicode_compact_data, Some(72));
    assert_eq!((t.code_firstlineno, t.code_filename, t.code_name), (84, 128, 136));
    assert_eq!(t.code_code_adaptive, Some(216));
    assert_eq!((t.gil_last_holder, t.gil_locked), (Some(16), Some(24)));
    assert_eq!(t.interp_tstate_head, 7344);
}

/// The committed file must be what the generator writes (installed versions re-measured,
/// others from offsets.json). Skipped when no C compiler or python3 is available.
#[test]
fn committed_tables_are_up_to_date_with_generator() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let have = |tool: &str| std::process::Command::new(tool).arg("--version").output().is_ok();
    if !have("python3") || !have("cc") {
        eprintln!("skipping: python3 or cc not found");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg("tools/gen-offsets/gen.py")
        .arg("--check")
        .current_dir(&repo)
        .output()
        .expect("run gen.py --check");
    assert!(out.status.success(), "gen.py --check: {}", String::from_utf8_lossy(&out.stderr));
}
