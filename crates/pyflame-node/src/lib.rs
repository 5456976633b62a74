//! napi-rs binding for pyflame-core. It only converts: JS options → core options, core
//! results → plain JS objects, core errors → JS errors whose message starts with the
//! stable code (`ERR_…: message`), which `src/errors.ts` turns into `error.code`.

mod async_dump_task;
mod convert;
mod dump_task;
mod fleet;
mod folded;
mod pprof_proto;
mod recording;
mod window_pprof;

pub use async_dump_task::*;
pub use dump_task::*;
pub use fleet::*;
pub use folded::*;
pub use recording::*;
pub use window_pprof::*;

use napi_derive::napi;

/// Version of the native core (matches the npm package version).
#[napi]
pub fn core_version() -> String {
    pyflame_core::version().to_string()
}

/// CPython minor versions with built-in layouts, e.g. `["2.7", "3.6", ...]`.
#[napi]
pub fn supported_python_versions() -> Vec<String> {
    pyflame_core::python::layout::supported_versions().split(", ").map(String::from).collect()
}
