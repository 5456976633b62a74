//! The asyncio layouts of 3.7–3.13 (`legacy_layout_generated.rs`): what the generator writes
//! on this machine (its C probe and its check against a live task of each interpreter), and
//! the shape every table must have for the coroutine reader.

use pyflame_core::python::asyncio::frame_objects::FrameObjectStack;
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
fn tables_cover_37_to_313_and_the_message_names_them() {
    assert_eq!(covered_minors().collect::<Vec<_>>(), vec![7, 8, 9, 10, 11, 12, 13]);
    assert_eq!(supported_versions(), "3.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15");
    assert!(offsets_for(PythonVersion::new(3, 6, 15)).is_none());
    assert!(offsets_for(PythonVersion::new(3, 14, 0)).is_none());
}

#[test]
fn heap_frame_versions_read_their_stack_top_their_own_way() {
    for minor in 7..=10u8 {
        let o = offsets_for(PythonVersion::new(3, minor, 0)).expect("table");
        let frames = o.asyncio_layout(PythonVersion::new(3, minor, 0)).frame_objects.expect("heap frames");
        // The frame bytes read cover every field taken from them.
        assert!(frames.frame_size >= frames.frame_code + 8 && frames.frame_size >= frames.frame_lasti + 4 && frames.frame_size >= frames.frame_valuestack + 8);
        match frames.stack {
            FrameObjectStack::StackTop { stacktop } => {
                assert!(minor <= 9);
                assert!(frames.frame_size >= stacktop + 8);
            }
            FrameObjectStack::Depth { stackdepth, state, executing, finished_from } => {
                assert_eq!(minor, 10);
                assert!(frames.frame_size >= stackdepth + 4 && frames.frame_size > state);
                // 3.10's PyFrameState: EXECUTING 0, RETURNED 1 and on (finished).
                assert_eq!((executing, finished_from), (0, 1));
            }
        }
        assert_eq!(frames.lasti_in_code_units, minor == 10);
        assert_eq!(o.task_name.is_some(), minor >= 8);
    }
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
        assert!(o.task_fut_waiter > o.task_callbacks && o.task_coro > o.task_loop && o.task_name.expect("named") < o.task_size);
    }
}
