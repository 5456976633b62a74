// The progress line shown on a terminal while recording, and the final summary line.

import { SingleBar } from 'cli-progress'
import type { RecordingProgress } from './sample'

export interface ProgressDisplay {
  update(progress: RecordingProgress): void
  stop(): void
}

/** A one-line progress display on stderr; a no-op when stderr is not a terminal. */
export function progressDisplay(seconds: number, interval: number): ProgressDisplay {
  if (!process.stderr.isTTY) return { update() {}, stop() {} }
  const bounded = Number.isFinite(seconds) && seconds > 0
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: bounded
        ? 'Sampling {bar} {elapsed}/{total}s | {samples} samples | {errors} errors | {rate} Hz (target {target} Hz)'
        : 'Sampling {elapsed}s (Ctrl-C to stop) | {samples} samples | {errors} errors | {rate} Hz (target {target} Hz)',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
  )
  const started = Date.now()
  const target = Math.round(1 / interval)
  bar.start(bounded ? Math.round(seconds) : 1, 0, { elapsed: '0.0', samples: 0, errors: 0, rate: 0, target })
  return {
    update(p) {
      const elapsed = (Date.now() - started) / 1000
      bar.update(bounded ? Math.min(elapsed, seconds) : 0, {
        elapsed: elapsed.toFixed(1),
        samples: p.ticks,
        errors: p.errors,
        rate: elapsed > 0 ? Math.round(p.ticks / elapsed) : 0,
        target,
      })
    },
    stop() {
      bar.stop()
    },
  }
}
