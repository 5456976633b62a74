// Before/after comparison: a differential flame graph (widths from "after", red where a frame's
// share grew, blue where it shrank, stronger for bigger changes) and a text summary of the
// functions whose share of all samples changed most, each with a confidence interval and
// whether the change is larger than sampling noise (src/stats/: a two-proportion test per
// frame, Holm's correction over all frames that changed).
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
import { holmAdjust } from '../stats/multiple'
import { detectableChange, samplesToDetect, twoProportionTest, wilsonInterval, zFor, type Interval } from '../stats/proportion'

export type DiffInput = FoldedInput

export interface DiffOptions extends FlamegraphOptions {
  /** Keep process/thread root labels when matching stacks (default: set them aside). */
  keepRunLabels?: boolean
  /** Rows in the text summary (default 10). */
  top?: number
  /** Family-wise level for calling a change significant, after Holm's correction (default 0.01). */
  alpha?: number
  /** Confidence of the interval printed for each share (default 0.95). */
  confidence?: number
  /** The smallest change, in percentage points, the comparison should be able to show (default 5). */
  minChange?: number
}

export const DEFAULT_ALPHA = 0.01
export const DEFAULT_CONFIDENCE = 0.95
export const DEFAULT_MIN_CHANGE = 5
/** Power at which the "too small to show" warning is computed. */
const POWER = 0.8

export interface FrameShareChange {
  /** Frame label as shown (annotation stripped). */
  label: string
  /** Share of all samples in stacks containing the frame, in percent (recursion counted once). */
  before: number
  after: number
  /** after − before, in percentage points. */
  change: number
  /** Samples in stacks containing the frame, before and after. */
  beforeSamples: number
  afterSamples: number
  /** Confidence intervals of the two shares, in percent (Wilson score intervals). */
  beforeInterval: Interval
  afterInterval: Interval
  /** Two-sided p-value of the two-proportion test, and after Holm's correction over every changed frame. */
  p: number
  adjustedP: number
  /** `adjustedP` is below `alpha`: more than sampling noise. */
  significant: boolean
}

/** What a comparison of this size can tell apart (see `DiffOptions.minChange`). */
export interface DiffPower {
  alpha: number
  confidence: number
  /** The change asked for, in percentage points. */
  minChange: number
  /** Frames tested (every frame whose share changed at all). */
  tested: number
  /** The share (percent) of the listed frame for which a change is hardest to see. */
  hardestShare: number
  /** Smallest change (pp) of that share detected with 80 % probability at this size. */
  detectable: number
  /** Samples each profile would need for `minChange` to be detected that often. */
  samplesNeeded: number
  /** `detectable` > `minChange`: a change of the size asked can hide in the noise. */
  tooSmall: boolean
}

export interface DiffResult {
  render: RenderSummary
  totalBefore: string
  totalAfter: string
  /** Frames whose share changed most, largest change first. */
  changes: FrameShareChange[]
  power: DiffPower
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
  const shorten = fileShortener(shares.names)
  const totalBefore = options.negate ? layout.samples.total : layout.before!.total
  const totalAfter = options.negate ? layout.before!.total : layout.samples.total
  const nBefore = Number(totalBefore)
  const nAfter = Number(totalAfter)
  const alpha = options.alpha ?? DEFAULT_ALPHA
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE
  const z = zFor(confidence)
  const changed: Array<{ label: string; before: number; after: number; beforeSamples: number; afterSamples: number; p: number }> = []
  for (let id = 0; id < shares.names.length; id++) {
    const label = shares.names[id]
    const b = beforeColumn[id]
    const a = afterColumn[id]
    // Unchanged frames (a root present in every sample, say) are not news.
    if (Math.abs(a - b) < 1e-9 || isRunLabel(label)) continue
    const beforeSamples = (b / 100) * nBefore
    const afterSamples = (a / 100) * nAfter
    changed.push({ label: functionFirstLabel(label, shorten), before: b, after: a, beforeSamples, afterSamples, p: twoProportionTest(beforeSamples, nBefore, afterSamples, nAfter).p })
  }
  // Every frame that changed is a test, listed or not: the correction covers them all.
  const adjusted = holmAdjust(changed.map((c) => c.p))
  const percent = (i: Interval): Interval => ({ low: 100 * i.low, high: 100 * i.high })
  const changes: FrameShareChange[] = changed.map((c, i) => ({
    label: c.label,
    before: c.before,
    after: c.after,
    change: c.after - c.before,
    beforeSamples: c.beforeSamples,
    afterSamples: c.afterSamples,
    beforeInterval: percent(wilsonInterval(c.beforeSamples, nBefore, z)),
    afterInterval: percent(wilsonInterval(c.afterSamples, nAfter, z)),
    p: c.p,
    adjustedP: adjusted[i],
    significant: adjusted[i] < alpha,
  }))
  changes.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || (x.label < y.label ? -1 : 1))
  const listed = changes.slice(0, options.top ?? 10)
  return { render, totalBefore, totalAfter, changes: listed, power: diffPower(listed, changes.length, nBefore, nAfter, alpha, confidence, options.minChange ?? DEFAULT_MIN_CHANGE) }
}

/**
 * Whether a change of `minChange` pp in the listed frame nearest 50 % (the hardest share)
 * would be seen: at the level Holm asks of the strongest of `tested` frames (alpha / tested).
 */
function diffPower(listed: FrameShareChange[], tested: number, nBefore: number, nAfter: number, alpha: number, confidence: number, minChange: number): DiffPower {
  const hardest = listed.reduce((worst, c) => {
    const share = (c.before + c.after) / 200
    return Math.abs(share - 0.5) < Math.abs(worst - 0.5) ? share : worst
  }, listed.length > 0 ? (listed[0].before + listed[0].after) / 200 : 0.5)
  const level = alpha / Math.max(1, tested)
  const detectable = 100 * detectableChange(hardest, nBefore, nAfter, level, POWER)
  return {
    alpha,
    confidence,
    minChange,
    tested,
    hardestShare: 100 * hardest,
    detectable,
    samplesNeeded: samplesToDetect(minChange / 100, hardest, level, POWER),
    tooSmall: detectable > minChange,
  }
}

/**
 * `cache_lookup  12.3% [11.1–13.6] → 4.1% [3.4–4.9]  (−8.2 pp)  significant`, one line per
 * frame, labels padded to align, then a warning when the profiles are too small.
 */
export function formatDiffSummary(result: DiffResult): string {
  if (result.changes.length === 0) return 'No frame changed its share.\n'
  const pad = Math.min(80, Math.max(...result.changes.map((c) => c.label.length)))
  const sign = (value: number): string => (value > 0 ? '+' : value < 0 ? '\u2212' : '\u00b1') + Math.abs(value).toFixed(1)
  const interval = (i?: Interval): string => (i ? ` [${i.low.toFixed(1)}\u2013${i.high.toFixed(1)}]` : '')
  const power = result.power
  const percent = (x: number): string => `${Number((100 * x).toPrecision(2))} %`
  let text = `Largest changes in share of samples (before ${result.totalBefore}, after ${result.totalAfter} samples)`
  if (power) text += `; ${percent(power.confidence)} intervals; significant: beyond sampling noise at ${percent(power.alpha)} (two-proportion test, Holm's correction over ${power.tested} changed frames)`
  text += ':\n'
  for (const c of result.changes) {
    const shares = `${c.before.toFixed(1)}%${interval(c.beforeInterval)} \u2192 ${c.after.toFixed(1)}%${interval(c.afterInterval)}`
    const verdict = c.significant === undefined ? '' : c.significant ? '  significant' : '  not significant (noise)'
    text += `${c.label.padEnd(pad)}  ${shares}  (${sign(c.change)} pp)${verdict}\n`
  }
  if (power?.tooSmall) {
    text +=
      `Warning: these profiles are too small to show a change of ${power.minChange} pp in a share near ${power.hardestShare.toFixed(0)} %: ` +
      `at this size only changes of ${power.detectable.toFixed(1)} pp or more are seen reliably (80 %); that takes about ${power.samplesNeeded.toLocaleString('en-US')} samples in each. ` +
      `A change marked not significant here is not evidence of no change.\n`
  }
  return text
}
