//! The asyncio layouts of 3.11–3.13 (`legacy_layout_generated.rs`): what the generator writes
//! on this machine (its C probe and its check against a live task of each interpreter), and
//! the shape every table must have for the coroutine reader.

use pyflame_core::python::asyncio::layout::{supported_versions, ValueStack, YieldFrom};
use pyflame_core::python::asyncio::legacy_layout::{covered_minors, offsets_for};
use pyflame_core::python::version::PythonVersion;

/// The committed tables must be what `tools/gen-offsets/gen_asyncio.py` writes: installed
/// versions re-measured (and their task offsets checked against a live task), others from
/// asyncio_offsets.json. Skipped when no C compiler or python3 is available.
#[test]
fn committed_tables_are_up_to_date_with_generator() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let have = |tool: &str| std::process::Command::new(tool).arg("--version").output().is_ok();
    if !have("python3") || !have("cc") {
        eprintln!("skipping: python3 or cc not found");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg("tools/gen-offsets/gen_asyncio.py")
        .arg("--check")
        .current_dir(&repo)
        .output()
        .expect("run gen_asyncio.py --check");
    assert!(out.status.success(), "gen_asyncio.py --check: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn tables_cover_311_to_313_and_the_message_names_them() {
    assert_eq!(covered_minors().collect::<Vec<_>>(), vec![11, 12, 13]);
    assert!(supported_versions().starts_with("3.11, 3.12, 3.13, 3.14"), "{}", supported_versions());
    assert!(offsets_for(PythonVersion::new(3, 10, 0)).is_none());
    assert!(offsets_for(PythonVersion::new(3, 14, 0)).is_none());
}

#[test]
fn each_version_reads_its_stack_top_and_await_state_its_own_way() {
    for minor in 11..=13u8 {
        let o = offsets_for(PythonVersion::new(3, minor, 0)).expect("table");
        let l = o.asyncio_layout(PythonVersion::new(3, minor, 0));
        // The frame header read covers every field the coroutine reader takes from it.
        assert!(l.frame_size >= l.frame_owner + 1 && l.frame_size >= l.frame_instr_ptr + 8 && l.frame_size >= l.frame_executable + 8);
        let ValueStack::Index { stacktop, localsplus } = l.stack else { panic!("3.{minor}: stack top is an index") };
        assert!(stacktop + 4 <= localsplus);
        match (minor, l.yield_from) {
            // 3.11 and 3.12 have no state of their own for "suspended in await".
            (11 | 12, YieldFrom::NextIsResume { resume, variant }) => {
                assert_eq!(resume, 151);
                assert_eq!(variant, Some(if minor == 11 { 150 } else { 240 }));
                assert_eq!(l.frame_states.suspended_yield_from, l.frame_states.suspended);
            }
            (13, YieldFrom::State) => assert_eq!((l.frame_states.created, l.frame_states.suspended_yield_from), (-3, -1)),
            (_, other) => panic!("3.{minor}: {other:?}"),
        }
        // A task's fields sit after the future's (the same header for both).
        assert!(o.task_fut_waiter > o.task_callbacks && o.task_coro > o.task_loop && o.task_name < o.task_size);
    }
}
