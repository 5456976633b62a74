//! Free-threaded builds (3.13t and later, `--disable-gil`): whether the interpreter is running
//! without its GIL, and what that means for the default view.
//!
//! Their thread states and frames are read like a default build's (the debug offsets describe
//! them; the 32-byte object header with `ob_tid`, `ob_ref_local` and `ob_ref_shared` only moves
//! `ob_type` and the fields after it, which the offsets already account for; deferred and
//! biased reference counts are never read). What differs is the GIL: the build has one, but it
//! is off unless `PYTHON_GIL=1` or an extension asked for it, and then nobody "holds" it.

use crate::process::memory::RemoteMemory;

use super::target::PythonTarget;

/// How a sampled process schedules Python code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threading {
    /// Built with `--disable-gil` (the debug offsets' `free_threaded`).
    pub free_threaded: bool,
    /// Free-threaded and its main interpreter's GIL is off now: threads run Python in parallel.
    pub gil_disabled: bool,
}

impl Threading {
    /// Reads `_gil_runtime_state.enabled` of the main interpreter (an int: 0 = off, a count of
    /// transient requests, or INT_MAX = on for good). A read failure counts as "off": a
    /// free-threaded process is far more likely to run without its GIL than with it.
    pub fn of(target: &PythonTarget, mem: &dyn RemoteMemory) -> Threading {
        let layout = &target.layout;
        let Some(enabled_off) = layout.gil_enabled_offset.filter(|_| layout.offsets.free_threaded) else {
            return Threading { free_threaded: false, gil_disabled: false };
        };
        let enabled = (|| {
            let interp = mem.read_u64(target.interp_head_ptr).ok().filter(|&p| p != 0)?;
            let gil = mem.read_u64(interp.wrapping_add(layout.offsets.interp_ceval_gil?)).ok().filter(|&p| p != 0)?;
            mem.read_u32(gil.wrapping_add(enabled_off)).ok()
        })();
        Threading { free_threaded: true, gil_disabled: enabled.unwrap_or(0) == 0 }
    }

    /// The line said once on stderr and kept in the profile when there is no GIL to follow:
    /// what the default view counts, given how the sampler tells a thread on a CPU.
    pub fn notice(&self, version: &str, by: OnCpuBy) -> Option<String> {
        let how = match by {
            OnCpuBy::SwitchCounts => "the samples that found a thread on a CPU, together worth its CPU time (schedstat); threads asleep or waiting for a CPU count as (idle)",
            OnCpuBy::RunState => "every thread the kernel reports running or waiting for a CPU (it keeps no scheduler statistics to tell them apart), the others as (idle)",
        };
        self.gil_disabled.then(|| format!("free-threaded Python {version} runs without a GIL: the default view counts {how}"))
    }
}

/// How the sampler tells, without a GIL, which threads are on a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCpuBy {
    /// Its switches onto and off a CPU (`process/on_cpu.rs`, `sampler/on_cpu.rs`).
    SwitchCounts,
    /// The kernel's R state alone.
    RunState,
}
