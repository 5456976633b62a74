// The profile shape that crosses from the Rust core into TypeScript.
// The binding crate produces exactly this (see crates/pyflame-node/src/profile.rs); writers
// (folded, svg, speedscope, chrometrace, pprof) consume it. Frames and stacks are interned
// tables, so a long recording crosses the boundary as a few arrays, not one object per sample.

export interface ProfileFrame {
  /** Function name: the qualified name (`Class.method`) where the Python version has one. */
  name: string
  /** `co_filename` as the target has it. */
  filename: string
  /** Line being executed, 0 when unknown. */
  line: number
  /** `co_firstlineno`: the line the function starts on. */
  firstLine: number
}

export interface ProfileThread {
  /** Process the thread belongs to. */
  pid: number
  /** Kernel thread id as the target sees it (its own PID namespace); 0 when unknown. */
  tid: number
  /** Python's `threading.get_ident()` value, as a decimal string (it is a 64-bit pthread_t). */
  pythonThreadId: string
  /** Sub-interpreter id (0 = main interpreter). */
  interpreterId: number
  /** Thread name when known (the OS `comm` of the thread). */
  name?: string
}

/** One aggregated row: how many samples saw `thread` running `stack` in this state. */
export interface ProfileEntry {
  /** Index into `stacks`. */
  stack: number
  /** Index into `threads`. */
  thread: number
  count: number
  /** The thread held the GIL in these samples. */
  gil: boolean
  /** The kernel did not report the thread as running (R) in these samples. */
  idle: boolean
}

/** One timestamped sample (only recorded with `timeline: true`, e.g. for `--flamechart`). */
export interface TimelineSample {
  /** Microseconds since the recording started. */
  timeUs: number
  /** Index into `threads`. */
  thread: number
  stack: number
  gil: boolean
  idle: boolean
}

export interface ProcessSummary {
  pid: number
  /** Exact version, e.g. `3.12.1`. */
  pythonVersion: string
  /** Executable path of the process (`/proc/PID/exe`). */
  executable: string
  /** Sampling ticks that reached this process. */
  ticks: number
  /** Ticks where no thread held the GIL: Pyflame's `(idle)`. */
  gilIdleTicks: number
  /** Ticks whose read failed validation (torn or unreadable stack). */
  errors: number
}

export interface RawProfile {
  /** The PID that was asked for (the root with `subprocesses`). */
  pid: number
  pythonVersion: string
  /** Unix time in milliseconds when sampling started. */
  startTimeMs: number
  /** Wall time the recording lasted, in seconds. */
  durationSecs: number
  /** Requested interval between samples, in seconds. */
  intervalSecs: number
  /** Sampling ticks taken (each tick samples every thread of every process once). */
  ticks: number
  /** Ticks with no GIL holder in the root process (Pyflame's `(idle)` count). */
  gilIdleTicks: number
  /** Ticks that failed validation and were dropped. */
  errors: number
  frames: ProfileFrame[]
  /** Each stack is a list of frame indices, root (outermost) first. */
  stacks: number[][]
  threads: ProfileThread[]
  entries: ProfileEntry[]
  processes: ProcessSummary[]
  timeline?: TimelineSample[]
  /** Why the recording stopped: `duration`, `stopped` (Ctrl-C/stop()), `target-exited`. */
  endReason: string
}
