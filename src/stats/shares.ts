// Which functions a recording spent its samples in, each share with its sampling error: the
// lines under `record`'s summary ("alpha (app.py)  60.1 % ± 1.5").

import type { RawProfile } from '../types'
import { selectEntries } from '../writers/view'
import type { ViewOptions } from '../writers/view-options'
import { marginOfError, zFor } from './proportion'

export interface FunctionShare {
  /** `function (file)` of the innermost frame, or `(idle)`. */
  label: string
  samples: number
  /** Percent of the samples in the view. */
  share: number
  /** Half-width of the confidence interval, in percentage points. */
  margin: number
}

/**
 * Self time by function (the innermost frame of each sample) in the view `opts` shows, the
 * largest first; `(idle)` is a row of its own unless the view drops it.
 */
export function functionShares(profile: RawProfile, opts: ViewOptions = {}, top = 5, confidence = 0.95): { total: number; shares: FunctionShare[] } {
  const view = selectEntries(profile, opts)
  const counts = new Map<string, number>()
  let total = view.idle
  for (const entry of view.entries) {
    total += entry.count
    const stack = profile.stacks[entry.stack]
    const leaf = stack.length > 0 ? profile.frames[stack[stack.length - 1]] : undefined
    const label = leaf ? `${leaf.name} (${baseName(leaf.filename)})` : '(no Python frame)'
    counts.set(label, (counts.get(label) ?? 0) + entry.count)
  }
  if (view.idle > 0) counts.set('(idle)', view.idle)
  const z = zFor(confidence)
  const shares = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([label, samples]) => ({ label, samples, share: total > 0 ? (100 * samples) / total : 0, margin: total > 0 ? 100 * marginOfError(samples, total, z) : 100 }))
  return { total, shares }
}

function baseName(file: string): string {
  const slash = file.lastIndexOf('/')
  return slash >= 0 ? file.slice(slash + 1) : file
}
