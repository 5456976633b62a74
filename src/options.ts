// Option values with Pyflame's meanings, validated once for every front (the `pyflame-ts`
// CLI, the `pyflame` drop-in, and the Node API).

import { invalidArgument } from './errors'

/** Pyflame's default interval between samples, in seconds (100 samples a second). */
export const DEFAULT_INTERVAL = 0.01
/** Pyflame's default duration, in seconds. */
export const DEFAULT_SECONDS = 1

/** Parses a PID given on a command line or to the API. */
export function parsePid(value: unknown): number {
  const text = String(value).trim()
  if (!/^\d+$/.test(text)) {
    throw invalidArgument(`failed to parse "${String(value)}" as a PID: give the number of a running process (e.g. -p 1234)`)
  }
  const pid = Number(text)
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 2 ** 22) {
    throw invalidArgument(`${text} is not a valid PID: PIDs are between 1 and ${2 ** 22}`)
  }
  return pid
}

/**
 * Parses a duration in seconds. `unlimited` means until stopped (a negative number is refused);
 * `0` means one sample, as in Pyflame.
 */
export function parseSeconds(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_SECONDS
  const text = String(value).trim().toLowerCase()
  if (text === 'unlimited' || text === 'inf' || text === 'infinity') return Infinity
  const seconds = Number(text)
  if (text === '' || !Number.isFinite(seconds)) {
    throw invalidArgument(`invalid duration "${String(value)}": give a number of seconds (e.g. -s 10) or "unlimited"`)
  }
  if (seconds < 0) {
    throw invalidArgument(`invalid duration ${seconds}: it must be 0 (one sample), a positive number of seconds, or "unlimited"`)
  }
  return seconds
}

/**
 * Parses Pyflame's `-r`: the interval between samples in seconds. A value that looks like a
 * rate in hertz (1 or more, or longer than the whole recording) is rejected with a suggestion.
 */
export function parseInterval(value: unknown, seconds = DEFAULT_SECONDS): number {
  if (value === undefined || value === null) return DEFAULT_INTERVAL
  const interval = Number(String(value).trim())
  if (String(value).trim() === '' || !Number.isFinite(interval) || interval <= 0) {
    throw invalidArgument(`invalid interval "${String(value)}": -r is the time between samples in seconds, e.g. -r 0.01 for 100 samples a second`)
  }
  const looksLikeHertz = interval >= 1 && Number.isInteger(interval) && (interval > seconds || interval >= 10)
  if (looksLikeHertz) {
    throw invalidArgument(
      `-r ${interval} means one sample every ${interval} seconds; -r is an interval in seconds as in Pyflame. ` +
        `For ${interval} samples a second use -r ${formatInterval(1 / interval)} (or --hz ${interval})`,
    )
  }
  if (Number.isFinite(seconds) && seconds > 0 && interval > seconds) {
    throw invalidArgument(`the interval (${interval} s) is longer than the duration (${seconds} s): no second sample would be taken; shorten -r or lengthen -s`)
  }
  return interval
}

/** `--hz N`: samples per second, turned into an interval. */
/** Default of `--subprocess-wait`: seconds `--subprocesses` waits for a first Python process. */
export const DEFAULT_SUBPROCESS_WAIT = 2

/** `--subprocess-wait SECONDS`: how long `--subprocesses` waits for Python to appear (0 = not at all). */
export function parseSubprocessWait(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_SUBPROCESS_WAIT
  const text = String(value).trim()
  const seconds = Number(text)
  if (text === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw invalidArgument(`invalid wait "${String(value)}": --subprocess-wait takes a number of seconds from 0 to 3600 (e.g. --subprocess-wait 10)`)
  }
  return seconds
}

export function parseHertz(value: unknown): number {
  const hz = Number(String(value).trim())
  if (!Number.isFinite(hz) || hz <= 0) {
    throw invalidArgument(`invalid rate "${String(value)}": --hz takes a positive number of samples per second, e.g. --hz 100`)
  }
  if (hz > 1_000_000) throw invalidArgument(`--hz ${hz} is too high: at most 1000000 samples a second`)
  return 1 / hz
}

function formatInterval(interval: number): string {
  return Number(interval.toPrecision(6)).toString()
}
