//! `dump(pid)`: one snapshot of every thread's stack, computed off the JS thread.

use crate::convert::{discover_options, frame, to_js_error, DiscoverOptions, ProfileFrame};
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(object)]
pub struct DumpOptions {
    /// Pause the threads while reading (default true: a consistent snapshot).
    pub blocking: Option<bool>,
    pub discover: Option<DiscoverOptions>,
}

#[napi(object)]
pub struct DumpThread {
    pub tid: i32,
    pub python_thread_id: String,
    pub interpreter_id: i64,
    pub name: Option<String>,
    pub holds_gil: bool,
    pub idle: bool,
    /// Innermost frame first.
    pub frames: Vec<ProfileFrame>,
    pub error: Option<String>,
}

#[napi(object)]
pub struct DumpResult {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    pub threads: Vec<DumpThread>,
}

pub struct DumpTask {
    pid: i32,
    options: pyflame_core::dump::DumpOptions,
}

impl Task for DumpTask {
    type Output = pyflame_core::dump::Dump;
    type JsValue = DumpResult;

    fn compute(&mut self) -> Result<Self::Output> {
        pyflame_core::dump::dump(self.pid, &self.options).map_err(to_js_error)
    }

    fn resolve(&mut self, _env: Env, d: Self::Output) -> Result<Self::JsValue> {
        Ok(DumpResult {
            pid: d.pid,
            python_version: d.python_version,
            executable: d.executable,
            threads: d
                .threads
                .into_iter()
                .map(|t| DumpThread {
                    tid: t.tid,
                    python_thread_id: t.python_thread_id.to_string(),
                    interpreter_id: t.interpreter_id,
                    name: t.name,
                    holds_gil: t.holds_gil,
                    idle: t.idle,
                    frames: t.frames.into_iter().map(frame).collect(),
                    error: t.error,
                })
                .collect(),
        })
    }
}

#[napi(ts_return_type = "Promise<DumpResult>")]
pub fn dump(pid: i32, options: Option<DumpOptions>) -> Result<AsyncTask<DumpTask>> {
    let options = options.unwrap_or(DumpOptions { blocking: None, discover: None });
    let core = pyflame_core::dump::DumpOptions {
        blocking: options.blocking.unwrap_or(true),
        discover: discover_options(&options.discover.unwrap_or_default())?,
    };
    Ok(AsyncTask::new(DumpTask { pid, options: core }))
}
