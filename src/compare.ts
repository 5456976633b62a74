// The Node API's `diff()`: compare two profiles (recorded `Profile`s, folded lines, or folded
// files) and get the frames whose share changed, with intervals and significance, and
// optionally the differential flame graph. Loads the flame-graph code only when called.

import type { Profile } from './profile'
import type { DiffOptions, DiffResult } from './flamegraph/diff'
import type { FoldedOptions } from './writers/folded'

export type DiffSide = Profile | Iterable<string> | { file: string }

export interface DiffApiOptions extends DiffOptions {
  /** Also return the differential flame graph as SVG text. */
  svg?: boolean
  /** How recorded profiles are turned into folded stacks (e.g. `{ excludeIdle: true }`). */
  view?: FoldedOptions
}

export interface DiffApiResult extends DiffResult {
  svg?: string
  /** The text summary `pyflame-ts diff` prints. */
  summary: string
}

export async function diff(before: DiffSide, after: DiffSide, options: DiffApiOptions = {}): Promise<DiffApiResult> {
  const { diffFolded, formatDiffSummary } = await import('./flamegraph/diff')
  const { fileSource } = await import('./folded/line-reader')
  const input = (side: DiffSide) => {
    if ('file' in side && typeof side.file === 'string') return { sources: [fileSource(side.file, process.stdin)] }
    if ('foldedLines' in side && typeof side.foldedLines === 'function') return side.foldedLines(options.view ?? {})
    return side as Iterable<string>
  }
  let svg = ''
  const result = await diffFolded(input(before), input(after), options, options.svg ? (chunk: string) => (svg += chunk) : () => {})
  return { ...result, summary: formatDiffSummary(result), ...(options.svg ? { svg } : {}) }
}
