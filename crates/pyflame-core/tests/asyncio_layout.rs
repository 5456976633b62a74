//! The asyncio layout of real 3.14 and 3.15 builds: `_Py_DebugOffsets` and `.AsyncioDebug` as
//! Debian's python3.14 3.14.10 and python3.15 3.15.2 ship them (copied from their files into
//! tests/fixtures with `objcopy -O binary --only-section`), parsed and checked against the
//! values their C structures have; corrupt or short sections are refused.

use pyflame_core::python::asyncio::layout::{AsyncioLayout, ASYNCIO_DEBUG_LEN, FRAME_STATES_313, FRAME_STATES_315};
use pyflame_core::python::debug_offsets::{parse, table_len};
use pyflame_core::ErrorCode;

const PY: &[u8] = include_bytes!("fixtures/debian-3.14.10-py-debug-offsets.bin");
const ASYNCIO: &[u8] = include_bytes!("fixtures/debian-3.14.10-asyncio-debug.bin");
/// The head of 3.15.2's `.PyRuntime` (its debug offsets table, then the runtime's first fields).
const PY_315: &[u8] = include_bytes!("fixtures/debian-3.15.2-py-runtime-head.bin");
const ASYNCIO_315: &[u8] = include_bytes!("fixtures/debian-3.15.2-asyncio-debug.bin");

#[test]
fn debian_314_sections_give_the_task_layout() {
    let debug = parse(PY).expect("3.14 debug offsets");
    assert_eq!(debug.version.to_string(), "3.14.10");
    let l = AsyncioLayout::from_sections(ASYNCIO, &debug).expect("asyncio layout");
    // TaskObj of 3.14.10: FutureObj_HEAD, then the task fields (`Modules/_asynciomodule.c`).
    assert_eq!((l.task_size, l.task_name, l.task_awaited_by, l.task_is_task, l.task_awaited_by_is_set, l.task_coro, l.task_node), (168, 136, 96, 108, 109, 128, 152));
    assert_eq!((l.interp_tasks_head, l.tstate_running_loop, l.tstate_running_task, l.tstate_tasks_head), (10880, 864, 872, 880));
    assert_eq!(l.frame_states, FRAME_STATES_313);
    assert_eq!(l.frame_states.awaited_slot, 1);
    assert_eq!(l.gen_iframe, debug.gen_object.unwrap().gi_iframe);
}

#[test]
fn debian_315_sections_give_the_renumbered_frame_states() {
    let version = parse(PY_315).expect("3.15 debug offsets").version;
    let debug = parse(&PY_315[..table_len(version)]).expect("3.15 debug offsets at its length");
    assert_eq!(debug.version.to_string(), "3.15.2");
    let l = AsyncioLayout::from_sections(ASYNCIO_315, &debug).expect("asyncio layout");
    assert!(l.task_coro + 8 <= l.task_size && l.task_node + 16 <= l.task_size);
    // 3.15 numbers the frame states from 0 (created) to 5 (cleared), and keeps the awaited
    // object two words below the stack pointer (checked on the live interpreter by the tests).
    assert_eq!(l.frame_states, FRAME_STATES_315);
    assert_eq!(l.frame_states.awaited_slot, 2);
    assert_eq!(l.gen_iframe, debug.gen_object.unwrap().gi_iframe);
}

fn with_field(index: usize, value: u64) -> Vec<u8> {
    let mut raw = ASYNCIO.to_vec();
    raw[index * 8..index * 8 + 8].copy_from_slice(&value.to_le_bytes());
    raw
}

#[test]
fn corrupt_or_short_sections_are_refused() {
    let debug = parse(PY).unwrap();
    for raw in [with_field(5, 4096), with_field(0, 0), with_field(0, 1 << 20), with_field(12, 1 << 16), ASYNCIO[..ASYNCIO_DEBUG_LEN - 8].to_vec()] {
        let err = AsyncioLayout::from_sections(&raw, &debug).expect_err("refused");
        assert_eq!(err.code, ErrorCode::UnsupportedPython, "{}", err.message);
    }
}
