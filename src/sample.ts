// The Node API for sampling: `await sample({ pid, seconds, rate })` and the lower-level
// `startRecording()` that the CLI uses for progress and Ctrl-C.

import { fromNative, PyflameError } from './errors'
import { native } from './native'
import { DEFAULT_INTERVAL, DEFAULT_SECONDS, parseHertz, parseInterval, parseSubprocessWait, parsePid, parseSeconds } from './options'
import { Profile } from './profile'
import type { RawProfile } from './types'

export interface SampleOptions {
  /** PID of the Python process. */
  pid: number
  /** How long to record, in seconds (default 1). `0` takes a single sample; `Infinity` records until `signal` aborts or the target exits. */
  seconds?: number
  /** Mean seconds between samples, as Pyflame's `-r` (default 0.01). Gaps are randomized (exponential) unless `periodic`. */
  rate?: number
  /** Samples per second; an alternative to `rate`. */
  hz?: number
  /**
   * Sample exactly every `rate` seconds instead of at random times with that mean. Beware:
   * a program with a loop whose period divides the interval is then always sampled at the
   * same phase of the loop and its profile is wrong (aliasing).
   */
  periodic?: boolean
  /** Pause the target's threads around each sample for exact stacks (default false). */
  blocking?: boolean
  /**
   * Also unwind each thread's native (C/C++/Rust) stack and merge it with the Python stack:
   * `app.py:handler:12 → … → libz.so.1:deflate`. Pauses the threads around each sample like
   * `blocking`. Linux x86_64 and aarch64.
   */
  native?: boolean
  /** Also sample child processes, including ones started while recording. */
  subprocesses?: boolean
  /** With `subprocesses`: seconds to wait for a first Python process (the PID itself or a child) before failing with `ERR_NOT_PYTHON` (default 2). */
  subprocessWait?: number
  /** Keep every sample with its time (needed for flame charts and time-ordered traces). */
  timeline?: boolean
  /** Override Python version detection, e.g. `'3.11'`. */
  pythonVersion?: string
  /** Find the interpreter without its symbols (the path used for stripped binaries). */
  forceScan?: boolean
  /** Fail at once when the process runs without a GIL (free-threaded): for GIL-only views (`--gil`). */
  requireGil?: boolean
  /** Stops the recording early; the profile collected so far is returned. */
  signal?: AbortSignal
  /**
   * asyncio tasks instead of threads (CPython 3.7+; not free-threaded 3.13): `true` counts each sample under the
   * running task's logical stack (the tasks awaiting it above it, each headed by its name);
   * `'wall'` also counts every waiting task once per sample, under the thread that created it.
   */
  async?: boolean | 'wall'
}

export interface RecordingProgress {
  ticks: number
  errors: number
  /** With `native`: thread samples whose native stack could not be unwound. */
  nativeFailures: number
  gilIdle: number
  /** Sampling times skipped because the sampler was still busy with an earlier sample. */
  missed: number
  processes: number
}

/** A running recording: stop it, watch its progress, await its profile. */
export interface RecordingHandle {
  readonly done: Promise<Profile>
  stop(): void
  progress(): RecordingProgress
  /**
   * The samples gathered since the previous drain, without stopping (null once recording
   * has ended). After draining, `done` resolves to what was not drained yet.
   */
  drain(): Promise<Profile | null>
}

/** Resolved sampling parameters (what the recording will do). */
export interface ResolvedSampleOptions {
  pid: number
  seconds: number
  interval: number
}

export function resolveSampleOptions(options: SampleOptions): ResolvedSampleOptions {
  if (options === null || typeof options !== 'object') {
    throw new PyflameError('ERR_INVALID_ARGUMENT', 'sample() takes an options object: { pid, seconds, rate }')
  }
  const pid = parsePid(options.pid)
  const seconds = parseSeconds(options.seconds ?? DEFAULT_SECONDS)
  if (options.rate !== undefined && options.hz !== undefined) {
    throw new PyflameError('ERR_INVALID_ARGUMENT', 'give either rate (seconds between samples) or hz (samples per second), not both')
  }
  const interval = options.hz !== undefined ? parseHertz(options.hz) : parseInterval(options.rate ?? DEFAULT_INTERVAL, seconds)
  return { pid, seconds, interval }
}

function asyncMode(value: SampleOptions['async']): 'running' | 'wall' | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return 'running'
  if (value === 'wall') return 'wall'
  throw new PyflameError('ERR_INVALID_ARGUMENT', `async must be true, false or 'wall' (got ${JSON.stringify(value)})`)
}

/** Starts recording and returns at once; the work runs on a native thread. */
export function startRecording(options: SampleOptions): RecordingHandle {
  const { pid, seconds, interval } = resolveSampleOptions(options)
  let recording: InstanceType<typeof native.Recording>
  try {
    recording = new native.Recording({
      pid,
      seconds: Number.isFinite(seconds) ? seconds : undefined,
      interval,
      periodic: options.periodic ?? false,
      maxSamples: seconds === 0 ? 1 : undefined,
      blocking: options.blocking ?? false,
      native: options.native ?? false,
      subprocesses: options.subprocesses ?? false,
      subprocessWait: options.subprocesses ? parseSubprocessWait(options.subprocessWait) : undefined,
      timeline: options.timeline ?? false,
      discover: { pythonVersion: options.pythonVersion, forceScan: options.forceScan },
      requireGil: options.requireGil ?? false,
      asyncio: asyncMode(options.async),
    })
  } catch (error) {
    throw fromNative(error)
  }
  const onAbort = () => recording.stop()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted) recording.stop()
  const done = (recording.run() as Promise<RawProfile>).then(
    (raw) => new Profile(raw),
    (error: unknown) => {
      throw fromNative(error)
    },
  )
  done.finally(() => options.signal?.removeEventListener('abort', onAbort)).catch(() => {})
  return {
    done,
    stop: () => recording.stop(),
    progress: () => recording.progress(),
    drain: async () => {
      const raw = (await recording.drain()) as RawProfile | null
      return raw ? new Profile(raw) : null
    },
  }
}

/** Samples a running Python process and resolves to its profile. */
export async function sample(options: SampleOptions): Promise<Profile> {
  return startRecording(options).done
}
