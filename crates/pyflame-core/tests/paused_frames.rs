//! ≤3.10: a thread stopped between naming its new frame in the thread state and marking that
//! frame executing (or, returning, between clearing the mark and naming the caller) has a top
//! frame object that is not marked executing. From a stopped thread that top is its stack; from
//! a running one it may be a frame that already returned, and is refused. (This was a dump of
//! a recursing 3.9 program printing "stack unreadable" now and then.)

mod fuzz_support;

use fuzz_support::{build_image, FUNCTIONS};
use pyflame_core::process::memory::{ImageMemory, RemoteMemory};
use pyflame_core::python::layout::Layout;
use pyflame_core::python::{PythonVersion, Sample, Walker};

/// Where the image's pthread lives, holding its kernel tid at glibc's offset (0x2d0).
const PTHREAD: u64 = 0x7000_0000;
const TID: i32 = 4242;

/// A one-thread image of `minor` whose top frame is not marked executing, and its walker.
fn unmarked_top(minor: u8) -> (ImageMemory, Walker) {
    let layout = Layout::for_version(PythonVersion::new(3, minor, 0), false).unwrap();
    let o = layout.offsets;
    let (img, target) = build_image(layout, 1);
    let mut mem = img.memory();
    let interp = mem.read_u64(img.interp_head_ptr).unwrap();
    let tstate = mem.read_u64(interp + o.interp_tstate_head).unwrap();
    let top = mem.read_u64(tstate + o.tstate_frame).unwrap();
    // 3.6-3.9: f_executing = 0; 3.10: f_state = FRAME_CREATED (-2).
    let unmarked = if minor >= 10 { -2i8 as u8 } else { 0 };
    mem.write(top + o.frame_executing.unwrap(), &[unmarked]);
    mem.alloc(PTHREAD, 0x800);
    mem.write_u32(PTHREAD + 0x2d0, TID as u32);
    mem.write_u64(tstate + o.tstate_thread_id, PTHREAD);
    let mut walker = Walker::new(target);
    walker.known_tids = vec![TID];
    (mem, walker)
}

#[test]
fn a_stopped_threads_top_frame_need_not_be_marked_executing() {
    for minor in 6..=10 {
        let (mem, mut walker) = unmarked_top(minor);
        let mut sample = Sample::default();

        walker.sample_paused(&mem, &mut sample, vec![TID]).unwrap();
        let thread = &sample.threads[0];
        assert_eq!(thread.native_tid, Some(TID), "3.{minor}");
        assert_eq!(thread.error, None, "3.{minor}: a stopped thread's stack is read whole");
        assert_eq!(sample.frames_of(thread).len(), FUNCTIONS.len(), "3.{minor}");

        // Read while it runs (or when it did not stop in time), the same memory is refused.
        walker.sample(&mem, &mut sample).unwrap();
        assert!(sample.threads[0].error.is_some(), "3.{minor}: running, an unmarked top frame is refused");
        walker.sample_paused(&mem, &mut sample, Vec::new()).unwrap();
        assert!(sample.threads[0].error.is_some(), "3.{minor}: a thread that did not stop is read as running");
    }
}

#[test]
fn a_stopped_thread_still_refuses_an_unmarked_frame_below_the_top() {
    for minor in 6..=10 {
        let layout = Layout::for_version(PythonVersion::new(3, minor, 0), false).unwrap();
        let o = layout.offsets;
        let (mem, mut walker) = unmarked_top(minor);
        let mut mem = mem;
        // Mark the top again and unmark its caller: only the innermost frame may be caught
        // half pushed; a caller that is not executing is a returned (zombie) frame.
        let interp = mem.read_u64(walker.target.interp_head_ptr).unwrap();
        let tstate = mem.read_u64(interp + o.interp_tstate_head).unwrap();
        let top = mem.read_u64(tstate + o.tstate_frame).unwrap();
        let caller = mem.read_u64(top + o.frame_back).unwrap();
        let executing = o.frame_executing.unwrap();
        mem.write(top + executing, &[if minor >= 10 { 0 } else { 1 }]);
        mem.write(caller + executing, &[if minor >= 10 { -2i8 as u8 } else { 0 }]);
        let mut sample = Sample::default();
        walker.sample_paused(&mem, &mut sample, vec![TID]).unwrap();
        assert!(sample.threads[0].error.is_some(), "3.{minor}");
    }
}
