//! `dumpAsync(pid)`: every asyncio task of a process at one moment, computed off the JS thread.

use crate::convert::{discover_options, to_js_error};
use crate::dump_task::DumpOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(object)]
pub struct AsyncDumpFrame {
    pub name: String,
    pub filename: String,
    pub line: u32,
    pub first_line: u32,
}

#[napi(object)]
pub struct AsyncDumpTask {
    /// Address of the task object, in hex: the identity `awaitedBy` and `awaitsTask` refer to.
    pub id: String,
    pub name: String,
    /// Kernel tid of the thread running the task now; absent when it waits.
    pub running_tid: Option<i32>,
    /// Outermost coroutine first.
    pub frames: Vec<AsyncDumpFrame>,
    pub awaits_task: Option<String>,
    /// Type of what it awaits when that is not a task (`_asyncio.Future`, `_GatheringFuture`).
    pub awaits_object: Option<String>,
    pub awaited_by: Vec<String>,
    pub error: Option<String>,
}

#[napi(object)]
pub struct AsyncDumpResult {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    /// False when the process has not imported asyncio.
    pub asyncio_loaded: bool,
    pub tasks: Vec<AsyncDumpTask>,
}

pub struct AsyncDumpJob {
    pid: i32,
    options: pyflame_core::dump::DumpOptions,
}

fn hex(addr: u64) -> String {
    format!("0x{addr:x}")
}

impl Task for AsyncDumpJob {
    type Output = pyflame_core::dump_async::AsyncDump;
    type JsValue = AsyncDumpResult;

    fn compute(&mut self) -> Result<Self::Output> {
        pyflame_core::catching_panics("the asyncio dump", || pyflame_core::dump_async::dump_async(self.pid, &self.options)).map_err(to_js_error)
    }

    fn resolve(&mut self, _env: Env, d: Self::Output) -> Result<Self::JsValue> {
        Ok(AsyncDumpResult {
            pid: d.pid,
            python_version: d.python_version,
            executable: d.executable,
            asyncio_loaded: d.asyncio_loaded,
            tasks: d
                .tasks
                .into_iter()
                .map(|t| AsyncDumpTask {
                    id: hex(t.id),
                    name: t.name,
                    running_tid: t.running_tid,
                    frames: t.frames.into_iter().map(|f| AsyncDumpFrame { name: f.name, filename: f.filename, line: f.line, first_line: f.first_line }).collect(),
                    awaits_task: t.awaits_task.map(hex),
                    awaits_object: t.awaits_object,
                    awaited_by: t.awaited_by.into_iter().map(hex).collect(),
                    error: t.error,
                })
                .collect(),
        })
    }
}

#[napi(ts_return_type = "Promise<AsyncDumpResult>")]
pub fn dump_async(pid: i32, options: Option<DumpOptions>) -> Result<AsyncTask<AsyncDumpJob>> {
    let options = options.unwrap_or(DumpOptions { blocking: None, discover: None, locals: None, native: None });
    let core = pyflame_core::dump::DumpOptions {
        blocking: options.blocking.unwrap_or(true),
        discover: discover_options(&options.discover.unwrap_or_default())?,
        locals: false,
        native: false,
    };
    Ok(AsyncTask::new(AsyncDumpJob { pid, options: core }))
}
