//! `Recording`: a sampling session run off the JS thread, stoppable and observable from JS.

use crate::convert::{discover_options, profile, to_js_error, DiscoverOptions, RawProfile};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use pyflame_core::sampler::clock::Schedule;
use pyflame_core::{catching_panics, record, RecordOptions, RecordStats};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[napi(object)]
pub struct RecordingOptions {
    pub pid: i32,
    /// Seconds to record; omitted or negative: until `stop()` or until the target exits.
    pub seconds: Option<f64>,
    /// Mean seconds between samples (randomized, see `periodic`).
    pub interval: f64,
    /// Exactly `interval` apart instead of randomized gaps (aliases with periodic programs).
    pub periodic: Option<bool>,
    /// Stop after this many samples (Pyflame's `-s 0` is one sample).
    pub max_samples: Option<u32>,
    pub blocking: Option<bool>,
    /// Unwind each thread's native stack too and merge it with the Python stack (pauses the
    /// target like `blocking`).
    pub native: Option<bool>,
    pub subprocesses: Option<bool>,
    /// With `subprocesses`: seconds to wait for a first Python process before failing with
    /// `ERR_NOT_PYTHON` (default 2).
    pub subprocess_wait: Option<f64>,
    /// Keep each sample with its timestamp (flame charts, traces).
    pub timeline: Option<bool>,
    pub discover: Option<DiscoverOptions>,
    /// Only GIL holders will be shown (`--gil`): fail at once on a process without a GIL.
    pub require_gil: Option<bool>,
    /// asyncio tasks instead of threads: `"running"` (each thread's running task under the
    /// tasks awaiting it) or `"wall"` (also every waiting task). Omitted: plain threads.
    pub asyncio: Option<String>,
}

#[napi(object)]
pub struct RecordingProgress {
    pub ticks: f64,
    pub errors: f64,
    /// With `native`: thread samples whose native stack could not be unwound.
    pub native_failures: f64,
    pub gil_idle: f64,
    /// Sampling times skipped because the sampler was still busy (not taken late).
    pub missed: f64,
    /// Processes being sampled (more than one with `subprocesses`).
    pub processes: f64,
}

pub struct Shared {
    stop: AtomicBool,
    stats: RecordStats,
}

#[napi]
pub struct Recording {
    options: RecordOptions,
    shared: Arc<Shared>,
    started: AtomicBool,
}

#[napi]
impl Recording {
    #[napi(constructor)]
    pub fn new(options: RecordingOptions) -> Result<Recording> {
        let invalid = |m: &str| to_js_error(pyflame_core::Error::invalid(m));
        if !options.interval.is_finite() || options.interval <= 0.0 {
            return Err(invalid("the interval between samples must be a positive number of seconds"));
        }
        let duration = match options.seconds {
            Some(s) if s.is_nan() => return Err(invalid("the duration must be a number of seconds")),
            Some(s) if s >= 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s)),
            _ => None,
        };
        let subprocess_wait = match options.subprocess_wait {
            None => pyflame_core::DEFAULT_SUBPROCESS_WAIT,
            Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s.min(1e6)),
            Some(_) => return Err(invalid("the wait for a Python subprocess must be a number of seconds, 0 or more")),
        };
        let core_options = RecordOptions {
            pid: options.pid,
            duration,
            interval: Duration::from_secs_f64(options.interval),
            schedule: if options.periodic.unwrap_or(false) { Schedule::Periodic } else { Schedule::Poisson },
            max_samples: options.max_samples.map(u64::from),
            blocking: options.blocking.unwrap_or(false),
            native: options.native.unwrap_or(false),
            subprocesses: options.subprocesses.unwrap_or(false),
            subprocess_wait,
            timeline: options.timeline.unwrap_or(false),
            discover: discover_options(&options.discover.unwrap_or_default())?,
            require_gil: options.require_gil.unwrap_or(false),
            thread_names: true,
            asyncio: match options.asyncio.as_deref() {
                None => None,
                Some("running") => Some(pyflame_core::AsyncMode::Running),
                Some("wall") => Some(pyflame_core::AsyncMode::Wall),
                Some(_) => return Err(invalid("asyncio must be \"running\" or \"wall\"")),
            },
        };
        core_options.validate().map_err(to_js_error)?;
        Ok(Recording {
            options: core_options,
            shared: Arc::new(Shared { stop: AtomicBool::new(false), stats: RecordStats::default() }),
            started: AtomicBool::new(false),
        })
    }

    /// Starts sampling on a thread of its own (not libuv's pool, which a long recording would
    /// hold for its whole duration); resolves with the profile when it ends.
    #[napi(ts_return_type = "Promise<RawProfile>")]
    pub fn run<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Err(to_js_error(pyflame_core::Error::invalid("this recording has already been started")));
        }
        let (deferred, promise) = env.create_deferred()?;
        let options = self.options.clone();
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("pyflame-sampler".into())
            .spawn(move || match catching_panics("the recording", || record(&options, &shared.stop, &shared.stats)) {
                Ok(p) => deferred.resolve(move |_env| Ok(profile(p))),
                Err(e) => deferred.reject(to_js_error(e)),
            })
            .map_err(|e| napi::Error::from_reason(format!("ERR_INTERNAL: cannot start the sampler thread: {e}")))?;
        Ok(promise)
    }

    /// Ends the recording early; the profile collected so far is still returned by `run()`.
    #[napi]
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }

    /// The samples gathered since the previous drain (all of them the first time), without
    /// stopping; resolves to null once the recording has ended. The profile `run()` resolves
    /// to then holds only what was not drained.
    #[napi(ts_return_type = "Promise<RawProfile | null>")]
    pub fn drain(&self) -> AsyncTask<DrainTask<Shared>> {
        AsyncTask::new(DrainTask::new(self.shared.clone(), |shared| &shared.stats))
    }

    #[napi]
    pub fn progress(&self) -> RecordingProgress {
        RecordingProgress::of(&self.shared.stats)
    }
}

impl RecordingProgress {
    /// The counters a recording (or the agent's fleet sampler) publishes as it runs.
    pub fn of(s: &pyflame_core::RecordStats) -> RecordingProgress {
        RecordingProgress {
            ticks: s.ticks.load(Ordering::Relaxed) as f64,
            errors: s.errors.load(Ordering::Relaxed) as f64,
            native_failures: s.native_failures.load(Ordering::Relaxed) as f64,
            gil_idle: s.gil_idle.load(Ordering::Relaxed) as f64,
            missed: s.missed.load(Ordering::Relaxed) as f64,
            processes: s.processes.load(Ordering::Relaxed) as f64,
        }
    }
}

/// Waits (off the JS thread) for the sampler to hand over what it collected since the last
/// drain: `owner` keeps the recording's shared state alive, `stats` picks its counters.
pub struct DrainTask<S: Send + Sync + 'static> {
    owner: Arc<S>,
    stats: fn(&S) -> &RecordStats,
}

impl<S: Send + Sync + 'static> DrainTask<S> {
    pub fn new(owner: Arc<S>, stats: fn(&S) -> &RecordStats) -> DrainTask<S> {
        DrainTask { owner, stats }
    }
}

impl<S: Send + Sync + 'static> Task for DrainTask<S> {
    type Output = Option<pyflame_core::Profile>;
    type JsValue = Option<RawProfile>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok((self.stats)(&self.owner).request_drain(Duration::from_secs(5)))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(profile))
    }
}
