// Which frames are drawn and where. The native core (crates/pyflame-core/src/folded) merges
// the folded input into a prefix tree, sums counts exactly, leaves out frames narrower than the
// minimum width (their samples stay in the parent's width, at their place) and orders the
// rest depth first, siblings by name or, in a flame chart, by time. What comes back is only
// the drawn frames: depth, name, exact sample offset and width.

import type { FlamegraphLayout } from '../../binding'
import { linesSource, type NamedSource } from '../folded/line-reader'
import { readFolded } from '../folded/reader'
import { native } from '../native'
import { NOMINAL_WIDTH, type FlamegraphOptions, type ResolvedOptions } from './options'

export type { FlamegraphLayout } from '../../binding'

/** Folded input: lines (sync or async) or named sources (files, stdin). */
export type FoldedInput = Iterable<string> | AsyncIterable<string> | { sources: NamedSource[] }

export interface LayoutHooks {
  /** Called for each skipped malformed line (skipInvalid). */
  onInvalidLine?: (where: string, reason: string) => void
}

export function toSources(input: FoldedInput, name?: string): NamedSource[] {
  if ('sources' in input) return input.sources
  return [linesSource(input, name)]
}

/** Width of the frames area: the image width (1200 px when fluid) less the margins. */
export function nominalFramesWidth(options: ResolvedOptions): number {
  return (options.width ?? NOMINAL_WIDTH) - 20
}

/** What the native layout needs to know of the drawing options. */
export function layoutOptions(options: ResolvedOptions, nameShares = false) {
  return { minWidthPercent: options.minWidthPercent, minWidthPx: options.minWidthPx, framesWidth: nominalFramesWidth(options), nameShares }
}

/** Reads folded input and lays out its flame graph. */
export async function layoutFolded(input: FoldedInput, options: FlamegraphOptions, resolved: ResolvedOptions, hooks: LayoutHooks = {}): Promise<FlamegraphLayout> {
  const merger = new native.FoldedMerger({
    flamechart: resolved.flamechart,
    reverse: resolved.reverse,
    differential: options.differential === 'auto' ? undefined : options.differential,
    dropRunLabels: options.keepRunLabels === false,
    skipInvalid: options.skipInvalid,
  })
  await readFolded(toSources(input), merger, { skipInvalid: options.skipInvalid, onInvalidLine: hooks.onInvalidLine })
  return merger.finish(layoutOptions(resolved))
}
