//! The asyncio layout of a real 3.14 build: `_Py_DebugOffsets` and `.AsyncioDebug` as Debian's
//! python3.14 3.14.10 ships them (copied from its files into tests/fixtures), parsed and checked
//! against the values its C structures have; corrupt or short sections are refused.

use pyflame_core::python::asyncio::layout::{AsyncioLayout, ASYNCIO_DEBUG_LEN, FRAME_STATES_313};
use pyflame_core::python::debug_offsets::parse;
use pyflame_core::ErrorCode;

const PY: &[u8] = include_bytes!("fixtures/debian-3.14.10-py-debug-offsets.bin");
const ASYNCIO: &[u8] = include_bytes!("fixtures/debian-3.14.10-asyncio-debug.bin");

#[test]
fn debian_314_sections_give_the_task_layout() {
    let debug = parse(PY).expect("3.14 debug offsets");
    assert_eq!(debug.version.to_string(), "3.14.10");
    let l = AsyncioLayout::from_sections(ASYNCIO, &debug).expect("asyncio layout");
    // TaskObj of 3.14.10: FutureObj_HEAD, then the task fields (`Modules/_asynciomodule.c`).
    assert_eq!((l.task_size, l.task_name, l.task_awaited_by, l.task_is_task, l.task_awaited_by_is_set, l.task_coro, l.task_node), (168, 136, 96, 108, 109, 128, 152));
    assert_eq!((l.interp_tasks_head, l.tstate_running_loop, l.tstate_running_task, l.tstate_tasks_head), (10880, 864, 872, 880));
    assert_eq!(l.frame_states, FRAME_STATES_313);
    assert_eq!(l.awaited_slot, 1);
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
