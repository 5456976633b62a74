//! pyflame-core: sample the Python stacks of a running CPython process from outside.
//!
//! Layers, bottom up: `process` (maps, memory reads, threads, pausing), `binary` (ELF
//! symbols and sections), `python` (version, layouts, interpreter discovery, stack walking),
//! `sampler` (the timed loop) and `profile` (aggregation into interned tables).

pub mod binary;
pub mod dump;
pub mod dump_async;
pub mod error;
pub mod folded;
pub mod native;
pub mod process;
pub mod profile;
pub mod python;
pub mod sampler;

pub use error::{catching_panics, Error, ErrorCode, Result};
pub use profile::Profile;
pub use sampler::clock::Schedule;
pub use sampler::{record, AsyncMode, RecordOptions, RecordStats, DEFAULT_SUBPROCESS_WAIT};

pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
