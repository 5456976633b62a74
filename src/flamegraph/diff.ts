// Before/after comparison: a differential flame graph (widths from "after", red where a frame's
// share grew, blue where it shrank, stronger for bigger changes) and a text summary of the
// functions whose share of all samples changed most.
//
// Process and thread labels differ between runs, so by default leading frames that name a
// process or thread are set aside before matching (see folded/labels.ts `isRunLabel`:
// `process 1234`, `process 1234:"cmd"`, `thread 5678`, `thread 5678 (name)`,
// `thread (5678): name`, `pid:1234`, `tid:5678`, `P1234`, `T5678`).

import type { ParsedCount } from '../folded/count'
import { displayLabel, isRunLabel } from '../folded/labels'
import { linesSource, type NamedSource } from '../folded/line-reader'
import { readFolded } from '../folded/reader'
import type { FlamegraphOptions } from './options'
import { renderFlamegraph, type RenderHooks, type RenderSummary } from './render'
import type { Output } from './sink'
import { ROOT, StackTree } from './tree'

export type DiffInput = Iterable<string> | AsyncIterable<string> | { sources: NamedSource[] }

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

const ZERO: ParsedCount = { small: 0, digits: 0, scaled: 0n }

function toSources(input: DiffInput, name: string): NamedSource[] {
  if ('sources' in input) return input.sources
  return [linesSource(input, name)]
}

export async function diffFolded(before: DiffInput, after: DiffInput, options: DiffOptions, output: Output, hooks: RenderHooks = {}): Promise<DiffResult> {
  const tree = new StackTree({
    reverse: options.reverse,
    differential: true,
    dropRoot: options.keepRunLabels ? undefined : isRunLabel,
  })
  // With negate, "before" gives the widths (frames that disappeared become visible) and the
  // colours and signs are flipped so they still read as after − before.
  const [widthSide, otherSide] = options.negate ? [before, after] : [after, before]
  const readOptions = { differential: false, skipInvalid: options.skipInvalid, onInvalidLine: hooks.onInvalidLine }
  await readFolded(toSources(otherSide, options.negate ? 'after' : 'before'), { addStack: (text, start, end, count) => tree.addStack(text, start, end, ZERO, count) }, readOptions)
  await readFolded(toSources(widthSide, options.negate ? 'before' : 'after'), { addStack: (text, start, end, count) => tree.addStack(text, start, end, count, ZERO) }, readOptions)

  const render = await renderFlamegraph(tree, { ...options, title: options.title ?? (options.negate ? 'Differential Flame Graph (negated)' : 'Differential Flame Graph') }, output)
  const shares = frameShares(tree)
  const afterColumn = options.negate ? shares.other : shares.width
  const beforeColumn = options.negate ? shares.width : shares.other
  const changes: FrameShareChange[] = []
  for (let id = 0; id < tree.names.length; id++) {
    const label = tree.names[id]
    if (isRunLabel(label)) continue
    const b = beforeColumn[id]
    const a = afterColumn[id]
    // Unchanged frames (a root present in every sample, say) are not news.
    if (Math.abs(a - b) < 1e-9) continue
    changes.push({ label: displayLabel(label), before: b, after: a, change: a - b })
  }
  changes.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || (x.label < y.label ? -1 : 1))
  return {
    render,
    totalBefore: options.negate ? tree.samples.decimal(ROOT) : tree.before!.decimal(ROOT),
    totalAfter: options.negate ? tree.before!.decimal(ROOT) : tree.samples.decimal(ROOT),
    changes: changes.slice(0, options.top ?? 10),
  }
}

/**
 * For each frame name, the percentage of samples whose stack contains it, in both columns.
 * A name nested under itself (recursion) counts once: only its outermost node adds.
 */
function frameShares(tree: StackTree): { width: Float64Array; other: Float64Array } {
  const width = new Float64Array(tree.names.length)
  const other = new Float64Array(tree.names.length)
  const open = new Int32Array(tree.names.length)
  const totalWidth = tree.samples.units(ROOT)
  const totalOther = tree.before!.units(ROOT)
  const stack: number[] = []
  for (let child = tree.firstChild[ROOT]; child !== 0; child = tree.nextSibling[child]) stack.push(child)
  while (stack.length > 0) {
    const entry = stack.pop()!
    if (entry < 0) {
      open[tree.name[~entry]]--
      continue
    }
    const nameId = tree.name[entry]
    if (open[nameId] === 0) {
      width[nameId] += tree.samples.units(entry)
      other[nameId] += tree.before!.units(entry)
    }
    open[nameId]++
    stack.push(~entry)
    for (let child = tree.firstChild[entry]; child !== 0; child = tree.nextSibling[child]) stack.push(child)
  }
  for (let id = 0; id < width.length; id++) {
    width[id] = totalWidth > 0 ? (100 * width[id]) / totalWidth : 0
    other[id] = totalOther > 0 ? (100 * other[id]) / totalOther : 0
  }
  return { width, other }
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
