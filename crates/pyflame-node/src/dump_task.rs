//! `dump(pid)`: one snapshot of every thread's stack, computed off the JS thread.

use crate::convert::{discover_options, to_js_error, DiscoverOptions};
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(object)]
pub struct DumpOptions {
    /// Pause the threads while reading (default true: a consistent snapshot).
    pub blocking: Option<bool>,
    pub discover: Option<DiscoverOptions>,
    /// Also read each frame's local variables.
    pub locals: Option<bool>,
    /// Also unwind each thread's native stack and merge it with the Python frames.
    pub native: Option<bool>,
}

#[napi(object)]
pub struct DumpLocal {
    pub name: String,
    /// Short repr (at most 80 characters): `42`, `'hello'`, `None`, or `<list>`.
    pub repr: String,
}

#[napi(object)]
pub struct DumpFrame {
    pub name: String,
    pub filename: String,
    pub line: u32,
    pub first_line: u32,
    /// Set (true) on native frames (with `native`).
    pub native: Option<bool>,
    /// With `locals`: the frame's local variables that are bound.
    pub locals: Option<Vec<DumpLocal>>,
}

#[napi(object)]
pub struct DumpThread {
    pub tid: i32,
    pub python_thread_id: String,
    pub interpreter_id: i64,
    /// Python's name for the thread (`threading.Thread.name`), else the kernel's.
    pub name: Option<String>,
    /// The kernel's name for the thread (`/proc/PID/task/TID/comm`).
    pub kernel_name: Option<String>,
    pub holds_gil: bool,
    pub idle: bool,
    /// Innermost frame first.
    pub frames: Vec<DumpFrame>,
    pub error: Option<String>,
    /// With `locals`: why this thread's locals could not be read.
    pub locals_error: Option<String>,
}

#[napi(object)]
pub struct DumpResult {
    pub pid: i32,
    pub python_version: String,
    pub executable: String,
    /// Built with `--disable-gil` (3.13t and later).
    pub free_threaded: bool,
    /// Free-threaded and running without a GIL (no thread can hold it).
    pub gil_disabled: bool,
    /// One-line warnings about how the process was read.
    pub notices: Vec<String>,
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
        pyflame_core::catching_panics("the dump", || pyflame_core::dump::dump(self.pid, &self.options)).map_err(to_js_error)
    }

    fn resolve(&mut self, _env: Env, d: Self::Output) -> Result<Self::JsValue> {
        Ok(DumpResult {
            pid: d.pid,
            python_version: d.python_version,
            executable: d.executable,
            free_threaded: d.free_threaded,
            gil_disabled: d.gil_disabled,
            notices: d.notices,
            threads: d
                .threads
                .into_iter()
                .map(|t| {
                    let mut locals = t.locals.map(|l| l.into_iter());
                    DumpThread {
                        tid: t.tid,
                        python_thread_id: t.python_thread_id.to_string(),
                        interpreter_id: t.interpreter_id,
                        name: t.name,
                        kernel_name: t.kernel_name,
                        holds_gil: t.holds_gil,
                        idle: t.idle,
                        frames: t
                            .frames
                            .into_iter()
                            .map(|f| DumpFrame {
                                name: f.name,
                                filename: f.filename,
                                line: f.line,
                                first_line: f.first_line,
                                native: f.native.then_some(true),
                                locals: locals.as_mut().and_then(|l| l.next()).map(|vars| {
                                    vars.into_iter().map(|v| DumpLocal { name: v.name, repr: v.repr }).collect()
                                }),
                            })
                            .collect(),
                        error: t.error,
                        locals_error: t.locals_error,
                    }
                })
                .collect(),
        })
    }
}

#[napi(ts_return_type = "Promise<DumpResult>")]
pub fn dump(pid: i32, options: Option<DumpOptions>) -> Result<AsyncTask<DumpTask>> {
    let options = options.unwrap_or(DumpOptions { blocking: None, discover: None, locals: None, native: None });
    let core = pyflame_core::dump::DumpOptions {
        blocking: options.blocking.unwrap_or(true),
        discover: discover_options(&options.discover.unwrap_or_default())?,
        locals: options.locals.unwrap_or(false),
        native: options.native.unwrap_or(false),
    };
    Ok(AsyncTask::new(DumpTask { pid, options: core }))
}
