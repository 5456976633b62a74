// Pyflame's folded text. The rows and the (idle) count come from the shared view
// (selectEntries); only the frame label differs from the shared folded writer: Pyflame always
// wrote `path:function:line`, with 0 for a line it could not tell (CPython 3.13's `__init__`
// shim frame has none), where the shared writer leaves the line out.

import type { ProfileFrame, RawProfile } from '../types'
import { frameLabel } from '../writers/folded'
import { selectEntries } from '../writers/view'
import type { ViewOptions } from '../writers/view-options'

/** `path:function:line` (`path:function` without line numbers), cleaned as every writer does. */
export function pyflameFrameLabel(frame: ProfileFrame, lineNumbers: boolean): string {
  const base = frameLabel(frame, { lineNumbers: false })
  return lineNumbers ? `${base}:${Math.max(frame.line, 0)}` : base
}

export function* pyflameFoldedLines(profile: RawProfile, view: ViewOptions): Generator<string> {
  const labels = profile.frames.map((frame) => pyflameFrameLabel(frame, view.lineNumbers !== false))
  const counts = new Map<string, number>()
  const { entries, idle } = selectEntries(profile, view)
  for (const entry of entries) {
    const frames = profile.stacks[entry.stack]
    if (frames.length === 0) continue
    const key = frames.map((f) => labels[f]).join(';')
    counts.set(key, (counts.get(key) ?? 0) + entry.count)
  }
  for (const key of [...counts.keys()].sort()) yield `${key} ${counts.get(key)}`
  if (idle > 0) yield `(idle) ${idle}`
}
