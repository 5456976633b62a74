//! Everything CPython-specific: versions, layouts, finding the interpreter, walking stacks.

pub mod asyncio;
pub mod code_cache;
pub mod debug_offsets;
pub mod frame_cache;
pub mod free_threaded;
pub mod layout;
pub mod linetable;
pub mod locals;
pub mod objects;
pub mod offsets;
pub mod offsets_generated;
pub mod prefetch;
pub mod scan;
pub mod strings;
pub mod target;
pub mod thread_names;
pub mod version;
pub mod walker;

#[cfg(test)]
pub mod testing;

pub use layout::Layout;
pub use target::{DiscoverOptions, PythonTarget};
pub use version::PythonVersion;
pub use walker::{RawFrame, Sample, ThreadSnapshot, Walker};
