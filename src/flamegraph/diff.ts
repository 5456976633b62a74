// Before/after comparison: a differential flame graph (widths from "after", red where a frame's
// share grew, blue where it shrank, stronger for bigger changes) and a text summary of the
// functions whose share of all samples changed most.
//
// Process and thread labels differ between runs, so by default leading frames that name a
// process or thread are set aside before matching (see folded/labels.ts `isRunLabel`:
// `process 1234`, `process 1234:"cmd"`, `thread 5678`, `thread 5678 (name)`,
// `thread (5678): name`, `pid:1234`, `tid:5678`, `P1234`, `T5678`).

import { fileShortener, functionFirstLabel, isRunLabel } from '../folded/labels'
import { readFolded } from '../folded/reader'
import { native } from '../native'
import { layoutOptions, toSources, type FoldedInput } from './layout'
import { resolveOptions, type FlamegraphOptions } from './options'
import { drawFlamegraph, type RenderHooks, type RenderSummary } from './render'
import type { Output } from './sink'

export type DiffInput = FoldedInput

export interface DiffOptions extends FlamegraphOptions {
  /** Keep process/thread root labels when matching stacks (default: set them aside). */
  keepRunLabels?: boolean
  /** Rows in the text summary (default 10). */
  top?: number
}

export interface FrameShareChange {
  /** Frame label as shown (annotation stripped). */
  label: string
  /** Share of all samples in stacks containing the frame, in percent (recursion counted once). */
  before: number
  after: number
  /** after − before, in percentage points. */
  change: number
}

export interface DiffResult {
  render: RenderSummary
  totalBefore: string
  totalAfter: string
  /** Frames whose share changed most, largest change first. */
  changes: FrameShareChange[]
}

export async function diffFolded(before: DiffInput, after: DiffInput, options: DiffOptions, output: Output, hooks: RenderHooks = {}): Promise<DiffResult> {
  // The legend: what the colours and the widths mean (the widths hide what shrank to nothing).
  const legend = options.negate
    ? 'Widths: before. Red: share grew, blue: share shrank (after − before). Without --negate: the after widths'
    : 'Widths: after. Red: share grew, blue: share shrank. Removed frames are visible with --negate, both directions with --html'
  const resolved = resolveOptions({
    ...options,
    title: options.title ?? (options.negate ? 'Differential Flame Graph (negated)' : 'Differential Flame Graph'),
    subtitle: options.subtitle ?? legend,
  })
  // One tree, two columns: the side that gives the widths fills "samples", the other "before".
  const merger = new native.FoldedMerger({ reverse: options.reverse, differential: false, beforeSources: true, dropRunLabels: !options.keepRunLabels, skipInvalid: options.skipInvalid })
  // With negate, "before" gives the widths (frames that disappeared become visible) and the
  // colours and signs are flipped so they still read as after − before.
  const [widthSide, otherSide] = options.negate ? [before, after] : [after, before]
  const readOptions = { skipInvalid: options.skipInvalid, onInvalidLine: hooks.onInvalidLine }
  await readFolded(toSources(otherSide, options.negate ? 'after' : 'before'), merger, { ...readOptions, intoBefore: true })
  await readFolded(toSources(widthSide, options.negate ? 'before' : 'after'), merger, readOptions)
  const layout = merger.finish(layoutOptions(resolved, true))

  const render = await drawFlamegraph(layout, resolved, output)
  const shares = layout.nameShares!
  const afterColumn = options.negate ? shares.before : shares.samples
  const beforeColumn = options.negate ? shares.samples : shares.before
  const changes: FrameShareChange[] = []
  const shorten = fileShortener(shares.names)
  for (let id = 0; id < shares.names.length; id++) {
    const label = shares.names[id]
    const b = beforeColumn[id]
    const a = afterColumn[id]
    // Unchanged frames (a root present in every sample, say) are not news.
    if (Math.abs(a - b) < 1e-9 || isRunLabel(label)) continue
    changes.push({ label: functionFirstLabel(label, shorten), before: b, after: a, change: a - b })
  }
  changes.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || (x.label < y.label ? -1 : 1))
  return {
    render,
    totalBefore: options.negate ? layout.samples.total : layout.before!.total,
    totalAfter: options.negate ? layout.before!.total : layout.samples.total,
    changes: changes.slice(0, options.top ?? 10),
  }
}

/** `cache_lookup  12.3% → 4.1%  (−8.2 pp)`, one line per frame, labels padded to align. */
export function formatDiffSummary(result: DiffResult): string {
  if (result.changes.length === 0) return 'No frame changed its share.\n'
  const pad = Math.min(80, Math.max(...result.changes.map((c) => c.label.length)))
  const sign = (value: number): string => (value > 0 ? '+' : value < 0 ? '\u2212' : '\u00b1') + Math.abs(value).toFixed(1)
  let text = `Largest changes in share of samples (before ${result.totalBefore}, after ${result.totalAfter} samples):\n`
  for (const c of result.changes) {
    text += `${c.label.padEnd(pad)}  ${c.before.toFixed(1)}% \u2192 ${c.after.toFixed(1)}%  (${sign(c.change)} pp)\n`
  }
  return text
}
