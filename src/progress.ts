// The progress line shown on a terminal while recording, and the final summary line.

import type { SingleBar as Bar } from 'cli-progress'
import type { RecordingProgress } from './sample'

export interface ProgressDisplay {
  update(progress: RecordingProgress): void
  stop(): void
}

/** A one-line progress display on stderr; a no-op when stderr is not a terminal. */
export function progressDisplay(seconds: number, interval: number): ProgressDisplay {
  if (!process.stderr.isTTY) return { update() {}, stop() {} }
  const bounded = Number.isFinite(seconds) && seconds > 0
  // Loaded only when a progress line is shown (a terminal): ~10 ms of modules otherwise.
  const { SingleBar } = require('cli-progress') as { SingleBar: typeof Bar }
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: bounded
        ? 'Sampling {bar} {elapsed}/{length} s | {samples} samples, {errors} errors | rate {rate} of {target} Hz asked'
        : 'Sampling for {elapsed} s (Ctrl-C to stop and write) | {samples} samples, {errors} errors | rate {rate} of {target} Hz asked',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
  )
  const started = Date.now()
  const target = Math.round(1 / interval)
  // The recording's length as asked (1.5 stays 1.5); cli-progress' own {total} and {duration} mean other things.
  const length = bounded ? String(Number(seconds.toFixed(1))) : ''
  bar.start(bounded ? seconds : 1, 0, { elapsed: '0.0', length, samples: 0, errors: 0, rate: '…', target })
  return {
    update(p) {
      const elapsed = (Date.now() - started) / 1000
      bar.update(bounded ? Math.min(elapsed, seconds) : 0, {
        elapsed: elapsed.toFixed(1),
        length,
        samples: p.ticks,
        errors: p.errors,
        rate: achievedRate(p.ticks, elapsed),
        target,
      })
    },
    stop() {
      bar.stop()
    },
  }
}

/**
 * The rate achieved so far, as shown: the first sample is taken at once, so over the first
 * moments ticks/elapsed overstates it (a 100 Hz recording showed 174 Hz); count the intervals
 * between samples, and show nothing until a second has passed.
 */
export function achievedRate(ticks: number, elapsedSecs: number): string {
  if (elapsedSecs < 1 || ticks < 2) return '…'
  return String(Math.round((ticks - 1) / elapsedSecs))
}
