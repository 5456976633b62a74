//! The agent's windows: each process's share of a drained fleet window, as the gzipped pprof
//! Pyroscope ingests. Built here, off the JS thread, so a window never becomes a graph of JS
//! objects. Its content is what `src/writers/pprof.ts` writes for one process with
//! `threads` and `excludeIdle` (CPU time of the threads that ran), without per-sample labels
//! (pid, tid and GIL would each make a series on the server) except, when asked, the thread's
//! name as `thread_name`.

use crate::convert::{ProfileEntry, RawProfile};
use crate::pprof_proto as pb;
use flate2::write::GzEncoder;
use flate2::Compression;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use prost::Message;
use std::collections::HashMap;
use std::io::Write;

/// The one mapping: the interpreter's executable (pprof tools name the profile after it).
const MAPPING_ID: u64 = 1;

/// One process's window, as the agent pushes it.
pub struct ProcessPprof {
    pub pid: i32,
    pub python_version: String,
    pub ticks: f64,
    /// The gzipped pprof; None when no thread of the process ran during the window.
    pub pprof: Option<Vec<u8>>,
}

/// Every process's window from one drain, with when it was recorded.
pub struct WindowPprofs {
    pub start_time_ms: f64,
    pub duration_secs: f64,
    pub processes: Vec<ProcessPprof>,
}

#[napi(object, object_from_js = false)]
pub struct ProcessWindow {
    pub pid: i32,
    /// Exact version, e.g. `3.12.1`.
    pub python_version: String,
    /// Ticks that reached the process in the window.
    pub ticks: f64,
    /// The gzipped pprof; absent when no thread of the process ran during the window.
    pub pprof: Option<Buffer>,
}

#[napi(object, object_from_js = false)]
pub struct AgentWindow {
    /// Unix time in milliseconds when the window started.
    pub start_time_ms: f64,
    /// Wall time the window lasted, in seconds.
    pub duration_secs: f64,
    /// One per process in the window, in the recording's order.
    pub processes: Vec<ProcessWindow>,
}

impl From<WindowPprofs> for AgentWindow {
    fn from(w: WindowPprofs) -> AgentWindow {
        AgentWindow {
            start_time_ms: w.start_time_ms,
            duration_secs: w.duration_secs,
            processes: w
                .processes
                .into_iter()
                .map(|p| ProcessWindow { pid: p.pid, python_version: p.python_version, ticks: p.ticks, pprof: p.pprof.map(Buffer::from) })
                .collect(),
        }
    }
}

/// Splits a fleet window by process and encodes each share (the agent's last window, and tests
/// that compare it with the TypeScript pprof writer).
#[napi]
pub fn agent_window_pprofs(profile: RawProfile, thread_labels: bool) -> AgentWindow {
    window_pprofs(&profile, thread_labels).into()
}

pub fn window_pprofs(raw: &RawProfile, thread_labels: bool) -> WindowPprofs {
    let process_of_pid: HashMap<i32, usize> = raw.processes.iter().enumerate().map(|(i, p)| (p.pid, i)).collect();
    let mut entries_of: Vec<Vec<&ProfileEntry>> = vec![Vec::new(); raw.processes.len()];
    for entry in &raw.entries {
        let Some(thread) = raw.threads.get(entry.thread as usize) else { continue };
        if let Some(&i) = process_of_pid.get(&thread.pid) {
            entries_of[i].push(entry);
        }
    }
    let processes = raw
        .processes
        .iter()
        .zip(&entries_of)
        .map(|(summary, entries)| ProcessPprof {
            pid: summary.pid,
            python_version: summary.python_version.clone(),
            ticks: summary.ticks,
            pprof: process_profile(raw, summary.pid, entries, thread_labels).map(|p| gzip(&p.encode_to_vec())),
        })
        .collect();
    WindowPprofs { start_time_ms: raw.start_time_ms, duration_secs: raw.duration_secs, processes }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4 + 64), Compression::default());
    // Writing into a Vec cannot fail.
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// pprof's string table: each string once, "" first.
#[derive(Default)]
struct Strings<'a> {
    table: Vec<String>,
    index: HashMap<&'a str, i64>,
}

impl<'a> Strings<'a> {
    fn new() -> Strings<'a> {
        let mut strings = Strings::default();
        strings.id("");
        strings
    }

    fn id(&mut self, s: &'a str) -> i64 {
        *self.index.entry(s).or_insert_with(|| {
            self.table.push(s.to_string());
            (self.table.len() - 1) as i64
        })
    }
}

/// Entries aggregated into one sample: same locations, thread, GIL and idle state.
type SampleKey = (Vec<u64>, u32, bool, bool);

/// The pprof of one process (`pid`) of the window; None when it has no sample.
fn process_profile(raw: &RawProfile, pid: i32, entries: &[&ProfileEntry], thread_labels: bool) -> Option<pb::Profile> {
    let summary = raw.processes.iter().find(|p| p.pid == pid);
    let (python_version, ticks, errors, gil_idle_ticks) = summary.map_or(("", 0.0, 0.0, 0.0), |s| (s.python_version.as_str(), s.ticks, s.errors, s.gil_idle_ticks));
    let comments = [
        format!("pyflame-ts: pid {pid}, Python {python_version}"),
        format!("{ticks} ticks, {} missed, {errors} errors, {gil_idle_ticks} without a GIL holder, ended by {}", raw.missed, raw.end_reason),
    ];
    let mut strings = Strings::new();
    let mut functions: Vec<pb::Function> = Vec::new();
    let mut function_ids: HashMap<(&str, &str), u64> = HashMap::new();
    let mut locations: Vec<pb::Location> = Vec::new();
    let mut location_ids: HashMap<(u64, i64), u64> = HashMap::new();
    let mut location_of_frame: HashMap<u32, u64> = HashMap::new();
    let mut samples: Vec<(Vec<u64>, f64, u32)> = Vec::new();
    let mut sample_index: HashMap<SampleKey, usize> = HashMap::new();

    for entry in entries {
        // CPU time only: a thread the kernel did not find running, without the GIL, was off CPU.
        if entry.idle && !entry.gil {
            continue;
        }
        let Some(stack) = raw.stacks.get(entry.stack as usize) else { continue };
        let mut leaf_first = Vec::with_capacity(stack.len());
        for &frame_index in stack.iter().rev() {
            let Some(frame) = raw.frames.get(frame_index as usize) else { continue };
            let id = *location_of_frame.entry(frame_index).or_insert_with(|| {
                let function_id = *function_ids.entry((frame.name.as_str(), frame.filename.as_str())).or_insert_with(|| {
                    let id = functions.len() as u64 + 1;
                    let name = strings.id(&frame.name);
                    let filename = strings.id(&frame.filename);
                    functions.push(pb::Function { id, name, system_name: name, filename, start_line: frame.first_line as i64 });
                    id
                });
                let line = frame.line as i64;
                *location_ids.entry((function_id, line)).or_insert_with(|| {
                    let id = locations.len() as u64 + 1;
                    locations.push(pb::Location { id, mapping_id: MAPPING_ID, line: vec![pb::Line { function_id, line }] });
                    id
                })
            });
            leaf_first.push(id);
        }
        if leaf_first.is_empty() {
            continue;
        }
        let key = (leaf_first, entry.thread, entry.gil, entry.idle);
        match sample_index.get(&key) {
            Some(&i) => samples[i].1 += entry.count,
            None => {
                sample_index.insert(key.clone(), samples.len());
                samples.push((key.0, entry.count, entry.thread));
            }
        }
    }
    if samples.is_empty() {
        return None;
    }

    let interval_ns = (raw.interval_secs * 1e9).round();
    let thread_name_key = strings.id("thread_name");
    let samples = samples
        .into_iter()
        .map(|(location_id, count, thread)| {
            let mut label = Vec::new();
            if thread_labels {
                let name = raw.threads[thread as usize].name.as_deref().filter(|n| !n.is_empty()).unwrap_or("unnamed");
                label.push(pb::Label { key: thread_name_key, str: strings.id(name), num: 0 });
            }
            pb::Sample { location_id, value: vec![count as i64, (count * interval_ns) as i64], label }
        })
        .collect();

    let mapping = pb::Mapping { id: MAPPING_ID, filename: strings.id(summary.map_or("python", |s| s.executable.as_str())), has_functions: true, has_filenames: true, has_line_numbers: true };
    let cpu = strings.id("cpu");
    let nanoseconds = strings.id("nanoseconds");
    let sample_type = vec![pb::ValueType { r#type: strings.id("samples"), unit: strings.id("count") }, pb::ValueType { r#type: cpu, unit: nanoseconds }];
    let comment = comments.iter().map(|c| strings.id(c)).collect();
    Some(pb::Profile {
        sample_type,
        sample: samples,
        mapping: vec![mapping],
        location: locations,
        function: functions,
        time_nanos: raw.start_time_ms.round() as i64 * 1_000_000,
        duration_nanos: (raw.duration_secs * 1e9).round() as i64,
        period_type: Some(pb::ValueType { r#type: cpu, unit: nanoseconds }),
        period: interval_ns as i64,
        comment,
        default_sample_type: cpu,
        string_table: strings.table,
    })
}
