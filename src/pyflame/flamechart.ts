// Pyflame's `--flamechart` text: for every sample, a line with its time in microseconds since
// the Unix epoch, then its stack root first with a `;` after every frame (no count), or
// `(idle)` when no thread held the GIL. Samples stay in time order; nothing is merged.

import type { RawProfile, TimelineSample } from '../types'
import type { ViewOptions } from '../writers/view-options'
import { pyflameFrameLabel } from './folded-text'

export function* flamechartLines(profile: RawProfile, view: ViewOptions): Generator<string> {
  const labels = profile.frames.map((frame) => pyflameFrameLabel(frame, view.lineNumbers !== false))
  const startUs = profile.startTimeMs * 1000
  const stackText = (sample: TimelineSample) => {
    const frames = profile.stacks[sample.stack]
    return frames.length === 0 ? '(idle)' : frames.map((f) => `${labels[f]};`).join('')
  }
  for (const tick of ticks(profile.timeline ?? [])) {
    const time = String(Math.round(startUs + tick[0].timeUs))
    if (view.threads) {
      // Pyflame wrote every thread of every tick; -x does not drop threads.
      for (const sample of tick) yield* [time, stackText(sample)]
      continue
    }
    const holder = tick.find((sample) => sample.gil)
    if (holder) yield* [time, stackText(holder)]
    else if (!view.excludeIdle) yield* [time, '(idle)']
  }
}

/** The timeline cut into ticks: every thread of one tick shares its timestamp. */
function* ticks(timeline: TimelineSample[]): Generator<TimelineSample[]> {
  let current: TimelineSample[] = []
  for (const sample of timeline) {
    if (current.length > 0 && current[0].timeUs !== sample.timeUs) {
      yield current
      current = []
    }
    current.push(sample)
  }
  if (current.length > 0) yield current
}
