//! `FleetRecording`: the agent's recording of a changing set of processes on one sampler
//! thread (pyflame-core's `sampler::fleet`). JS attaches PIDs as it finds them, drains a
//! window of samples every few seconds and learns which processes exited.

use crate::convert::{discover_options, profile, to_js_error, DiscoverOptions};
use crate::recording::{DrainTask, RecordingProgress};
use crate::window_pprof::{window_pprofs, AgentWindow, WindowPprofs};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use pyflame_core::sampler::fleet::{fleet_options, record_fleet, FleetControl};
use pyflame_core::sampler::process_set::Attached;
use pyflame_core::{catching_panics, RecordOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[napi(object)]
pub struct FleetOptions {
    /// Seconds between samples.
    pub interval: f64,
    pub discover: Option<DiscoverOptions>,
    /// Read Python's thread names (default true); without them threads carry the kernel's name.
    pub thread_names: Option<bool>,
    /// Log quiet threads' context switches with perf events (default true); false checks
    /// them through `schedstat` only.
    pub perf_events: Option<bool>,
}

#[napi(object)]
pub struct AttachedProcess {
    pub pid: i32,
    /// Exact version, e.g. `3.12.1`.
    pub python_version: String,
    pub executable: String,
}

#[napi]
pub struct FleetRecording {
    options: RecordOptions,
    control: Arc<FleetControl>,
    started: AtomicBool,
    perf_events: bool,
}

#[napi]
impl FleetRecording {
    #[napi(constructor)]
    pub fn new(options: FleetOptions) -> Result<FleetRecording> {
        if !options.interval.is_finite() || options.interval <= 0.0 {
            return Err(to_js_error(pyflame_core::Error::invalid("the interval between samples must be a positive number of seconds")));
        }
        let mut core_options = fleet_options(Duration::from_secs_f64(options.interval), discover_options(&options.discover.unwrap_or_default())?);
        core_options.thread_names = options.thread_names.unwrap_or(true);
        core_options.validate().map_err(to_js_error)?;
        Ok(FleetRecording { options: core_options, control: Arc::new(FleetControl::default()), started: AtomicBool::new(false), perf_events: options.perf_events.unwrap_or(true) })
    }

    /// Starts the sampler thread; resolves with the last window once `stop()` is called.
    #[napi(ts_return_type = "Promise<RawProfile>")]
    pub fn run<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Err(to_js_error(pyflame_core::Error::invalid("this recording has already been started")));
        }
        let (deferred, promise) = env.create_deferred()?;
        let options = self.options.clone();
        let control = self.control.clone();
        std::thread::Builder::new()
            .name("pyflame-fleet".into())
            .spawn(move || match catching_panics("the fleet recording", || record_fleet(&options, &control)) {
                Ok(p) => deferred.resolve(move |_env| Ok(profile(p))),
                Err(e) => deferred.reject(to_js_error(e)),
            })
            .map_err(|e| napi::Error::from_reason(format!("ERR_INTERNAL: cannot start the sampler thread: {e}")))?;
        Ok(promise)
    }

    /// Finds the interpreter of `pid` (on libuv's pool, not the sampler thread) and adds the
    /// process to the recording; rejects with the reason it cannot be sampled.
    #[napi(ts_return_type = "Promise<AttachedProcess>")]
    pub fn attach(&self, pid: i32) -> AsyncTask<AttachTask> {
        AsyncTask::new(AttachTask { pid, options: self.options.clone(), control: self.control.clone(), perf_events: self.perf_events })
    }

    /// Stops sampling a process that still runs (its samples so far stay in the next window).
    #[napi]
    pub fn leave(&self, pid: i32) {
        self.control.leave(pid);
    }

    /// PIDs that exited and left the recording since the last call (after their last window).
    #[napi]
    pub fn take_exited(&self) -> Vec<i32> {
        self.control.take_exited()
    }

    /// The window since the previous drain (its `startTimeMs` and `durationSecs` say when it
    /// was recorded); null once the recording has ended.
    #[napi(ts_return_type = "Promise<RawProfile | null>")]
    pub fn drain(&self) -> AsyncTask<DrainTask<FleetControl>> {
        AsyncTask::new(DrainTask::new(self.control.clone(), |control| &control.stats))
    }

    /// Like `drain`, but resolves with each process's share of the window already encoded as
    /// the agent pushes it (gzipped pprof, built on libuv's pool instead of the JS thread).
    #[napi(ts_return_type = "Promise<AgentWindow | null>")]
    pub fn drain_windows(&self, thread_labels: bool) -> AsyncTask<DrainWindowsTask> {
        AsyncTask::new(DrainWindowsTask { control: self.control.clone(), thread_labels })
    }

    #[napi]
    pub fn stop(&self) {
        self.control.stop.store(true, Ordering::SeqCst);
    }

    #[napi]
    pub fn progress(&self) -> RecordingProgress {
        RecordingProgress::of(&self.control.stats)
    }

    /// Why perf events could not log quiet threads' switches (then `schedstat` does, at a
    /// higher CPU cost), if the kernel refused one.
    #[napi]
    pub fn perf_events_refusal(&self) -> Option<String> {
        pyflame_core::process::switch_log::refusal().map(str::to_string)
    }
}

pub struct AttachTask {
    pid: i32,
    options: RecordOptions,
    control: Arc<FleetControl>,
    perf_events: bool,
}

impl Task for AttachTask {
    type Output = AttachedProcess;
    type JsValue = AttachedProcess;

    fn compute(&mut self) -> Result<Self::Output> {
        let attached = catching_panics("attaching a process", || Attached::attach(self.pid, &self.options)).map_err(to_js_error)?;
        let attached = if self.perf_events { attached } else { attached.without_switch_logs() };
        let info = AttachedProcess { pid: self.pid, python_version: attached.python_version().to_string(), executable: attached.executable().to_string() };
        self.control.join(attached);
        Ok(info)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}


pub struct DrainWindowsTask {
    control: Arc<FleetControl>,
    thread_labels: bool,
}

impl Task for DrainWindowsTask {
    type Output = Option<WindowPprofs>;
    type JsValue = Option<AgentWindow>;

    fn compute(&mut self) -> Result<Self::Output> {
        let drained = self.control.stats.request_drain(Duration::from_secs(5));
        catching_panics("encoding the agent's windows", || Ok(drained.map(|p| window_pprofs(&profile(p), self.thread_labels)))).map_err(to_js_error)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(AgentWindow::from))
    }
}
