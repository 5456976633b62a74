//! Merging one thread's native stack with its Python stack into one root-first stack.
//!
//! Each interpreter eval-loop frame of the native stack (`_PyEval_EvalFrameDefault`,
//! `PyEval_EvalFrameEx` on 2.7) is replaced with the Python frames it was running. On ≤3.10
//! each eval call runs one Python frame; on 3.11+ one call runs a run of frames (calls between
//! Python functions stay inside the loop), and the walker marks where each run starts
//! (`RawFrame::entry`: `is_entry` on 3.11, the C-stack shim frame below it on 3.12+). Runs and
//! eval frames are paired from the root. The interpreter's own call plumbing between eval
//! frames (`_PyObject_Call`, `cfunction_vectorcall_*`, ...) and the start-up frames below the
//! first one (`main`, `__libc_start_main`, `start_thread`) are dropped; other native frames
//! are kept where they are, so a C extension calling back into Python reads
//! `py_entry → c_outer → callback.py:f`.

use crate::python::RawFrame;

/// What a native frame is, for merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeKind {
    /// The eval loop: replaced by Python frames.
    Eval,
    /// In the interpreter or the C library, and call plumbing or start-up: dropped between
    /// and below eval frames, kept above the innermost one only when not plumbing.
    Runtime { plumbing: bool },
    /// Anything else (extensions, other libraries): always kept.
    Other,
}

/// One frame of a merged stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergedFrame {
    Python(RawFrame),
    /// An interned native frame (see `NativeFrames`).
    Native(u32),
}

/// Merges `native` (root first, with each frame's kind) and `python` (root first) into `out`.
/// Returns false when the native stack has no eval frame although there are Python frames
/// (the unwinding stopped short of the interpreter): then `out` is left untouched.
pub fn merge(native: &[(u32, NativeKind)], python: &[RawFrame], out: &mut Vec<MergedFrame>) -> bool {
    let evals = native.iter().filter(|(_, k)| *k == NativeKind::Eval).count();
    if evals == 0 {
        if !python.is_empty() {
            return false;
        }
        // A thread with no Python frames: all of its native stack but the start-up frames.
        out.extend(native.iter().filter(|(_, k)| *k == NativeKind::Other || *k == NativeKind::Runtime { plumbing: false }).map(|(id, _)| MergedFrame::Native(*id)));
        return true;
    }
    let mut runs = python_runs(python);
    let mut seen_evals = 0;
    for &(id, kind) in native {
        match kind {
            NativeKind::Eval => {
                seen_evals += 1;
                // The innermost eval frame takes every run left (more runs than eval frames
                // happens while a call is between its push and its C entry).
                if seen_evals == evals {
                    out.extend(runs.by_ref().flatten().map(|f| MergedFrame::Python(*f)));
                } else if let Some(run) = runs.next() {
                    out.extend(run.iter().map(|f| MergedFrame::Python(*f)));
                }
            }
            NativeKind::Other => out.push(MergedFrame::Native(id)),
            NativeKind::Runtime { plumbing } => {
                let innermost = seen_evals == evals;
                if seen_evals > 0 && (innermost && !plumbing) {
                    out.push(MergedFrame::Native(id));
                }
            }
        }
    }
    true
}

/// The Python frames split into the runs of each eval call, root first.
fn python_runs(python: &[RawFrame]) -> impl Iterator<Item = &[RawFrame]> {
    let mut rest = python;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest[1..].iter().position(|f| f.entry).map_or(rest.len(), |p| p + 1);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use NativeKind::*;

    fn py(code: u32, entry: bool) -> RawFrame {
        RawFrame { code, line: 1, entry }
    }

    fn merged(native: &[(u32, NativeKind)], python: &[RawFrame]) -> Vec<String> {
        let mut out = Vec::new();
        assert!(merge(native, python, &mut out));
        out.iter()
            .map(|f| match f {
                MergedFrame::Python(p) => format!("py{}", p.code),
                MergedFrame::Native(n) => format!("c{n}"),
            })
            .collect()
    }

    const START: (u32, NativeKind) = (90, Runtime { plumbing: false });
    const CALL: (u32, NativeKind) = (91, Runtime { plumbing: true });

    #[test]
    fn one_python_frame_per_eval_call_as_on_3_10() {
        let native = [START, (1, Eval), CALL, (2, Eval), CALL, (50, Other), (51, Other)];
        assert_eq!(merged(&native, &[py(10, true), py(11, true)]), ["py10", "py11", "c50", "c51"]);
    }

    #[test]
    fn runs_of_frames_per_eval_call_as_on_3_11_and_later() {
        // py_entry (C) calls back into Python, which calls the C busy loop.
        let native = [START, (1, Eval), CALL, (60, Other), CALL, (2, Eval), (61, Other), (92, Runtime { plumbing: false })];
        let python = [py(10, true), py(11, false), py(12, false), py(20, true), py(21, false)];
        assert_eq!(merged(&native, &python), ["py10", "py11", "py12", "c60", "py20", "py21", "c61", "c92"]);
    }

    #[test]
    fn extra_runs_go_to_the_innermost_eval_frame_and_missing_ones_leave_it_empty() {
        let native = [(1, Eval), (2, Eval)];
        assert_eq!(merged(&native, &[py(10, true), py(20, true), py(30, true)]), ["py10", "py20", "py30"]);
        let native = [(1, Eval), (50, Other), (2, Eval), (3, Eval)];
        assert_eq!(merged(&native, &[py(10, true)]), ["py10", "c50"]);
    }

    #[test]
    fn no_eval_frame_with_python_frames_is_a_failed_unwind() {
        let mut out = Vec::new();
        assert!(!merge(&[(50, Other)], &[py(10, true)], &mut out));
        assert!(out.is_empty());
        assert_eq!(merged(&[START, (50, Other), CALL], &[]), ["c90", "c50"]);
    }
}
