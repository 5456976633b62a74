// The interactive HTML report: one file that opens from disk (no network), holding the
// merged call tree, the function table and the recording's metadata, with the page script
// (page.ts) and stylesheet (style.ts) inlined. The tree is merged and pruned by the native
// core, as for the SVG; the function table is computed over the whole tree, before pruning.

import type { FlamegraphLayout, NameShares } from '../../binding'
import { displayLabel, fileShortener, functionFirstLabel, isRunLabel } from '../folded/labels'
import type { NamedSource } from '../folded/line-reader'
import { readFolded } from '../folded/reader'
import { escapeXml } from '../flamegraph/escape'
import { toSources, type FoldedInput, type LayoutHooks } from '../flamegraph/layout'
import { ChunkedWriter, type Output } from '../flamegraph/sink'
import { native } from '../native'
import { embedJson, type ErrorKind, type ReportData } from './data'
import { reportMain } from './page'
import { REPORT_CSS } from './style'

export interface ReportOptions {
  title?: string
  /** What a count is (default "samples"). */
  countName?: string
  /**
   * Frames under this percentage of all samples are not kept in the page (their samples stay
   * in the parent's width); the function table still counts them. Default: every frame of a
   * profile up to 250,000 merged frames, else 0.001 %.
   */
  minWidthPercent?: number
  /** Metadata rows shown at the top: [name, value]. */
  meta?: Array<[string, string]>
  /** Sampling errors by kind. */
  errors?: ErrorKind[]
  /**
   * Counts are samples taken independently enough for a binomial standard error (a recording,
   * a folded file of sample counts); false for weights such as microseconds. Default true.
   */
  sampleCounts?: boolean
  skipInvalid?: boolean
  /** Keep process/thread root labels when matching a diff's stacks. */
  keepRunLabels?: boolean
}

export interface ReportSummary {
  bytes: number
  /** Frames kept in the page and merged in all. */
  keptFrames: number
  mergedFrames: number
  functions: number
  stacks: number
  totalSamples: string
}

const DEFAULT_MIN_WIDTH_PERCENT = 0.001
/** Up to this many merged frames the page keeps them all (search and zoom are then exact). */
const KEEP_ALL_FRAMES_UP_TO = 250_000

function minWidthFor(merger: { mergedFrames(): number }, options: ReportOptions): number {
  return options.minWidthPercent ?? (merger.mergedFrames() <= KEEP_ALL_FRAMES_UP_TO ? 0 : DEFAULT_MIN_WIDTH_PERCENT)
}

export async function renderReport(input: FoldedInput, options: ReportOptions, output: Output, hooks: LayoutHooks = {}): Promise<ReportSummary> {
  const merger = new native.FoldedMerger({ differential: false, skipInvalid: options.skipInvalid })
  await readFolded(toSources(input), merger, { skipInvalid: options.skipInvalid, onInvalidLine: hooks.onInvalidLine })
  const minWidthPercent = minWidthFor(merger, options)
  const layout = merger.finish({ minWidthPercent, framesWidth: 1180, nameShares: true })
  return writeReport(buildData(layout, options, 'profile', minWidthPercent), output, layout)
}

/**
 * A before/after report. The width column holds both profiles' samples, so every frame of
 * either is kept; "after" is that column less "before", exactly.
 */
export async function diffReport(before: FoldedInput, after: FoldedInput, options: ReportOptions, output: Output, hooks: LayoutHooks = {}): Promise<ReportSummary> {
  const merger = new native.FoldedMerger({ differential: false, beforeSources: true, dropRunLabels: !options.keepRunLabels, skipInvalid: options.skipInvalid })
  const readOptions = { skipInvalid: options.skipInvalid, onInvalidLine: hooks.onInvalidLine }
  const [first, replay] = tee(toSources(before, 'before'))
  await readFolded(first, merger, { ...readOptions, intoBefore: true })
  await readFolded(replay(), merger, { skipInvalid: true })
  await readFolded(toSources(after, 'after'), merger, readOptions)
  const minWidthPercent = minWidthFor(merger, options)
  const layout = merger.finish({ minWidthPercent, framesWidth: 1180, nameShares: true })
  return writeReport(buildData(layout, { title: 'Differential profile', ...options }, 'diff', minWidthPercent), output, layout)
}

/** Sources read twice: the first reading keeps copies of the chunks for the second. */
function tee(sources: NamedSource[]): [NamedSource[], () => NamedSource[]] {
  const kept: Array<Array<Uint8Array | string>> = sources.map(() => [])
  const first = sources.map((source, i) => ({
    name: source.name,
    chunks: (async function* () {
      for await (const chunk of source.chunks) {
        // File chunks share one reused buffer: keep a copy.
        kept[i].push(typeof chunk === 'string' ? chunk : Buffer.from(chunk))
        yield chunk
      }
    })(),
  }))
  return [first, () => sources.map((source, i) => ({ name: source.name, chunks: kept[i] }))]
}

function buildData(layout: FlamegraphLayout, options: ReportOptions, kind: 'profile' | 'diff', minWidthPercent: number): ReportData {
  const shares = layout.nameShares as NameShares
  const unitsPerSample = 10 ** layout.samples.scale
  // One label table for the tree's names and the table's (every merged name).
  const ids = new Map<string, number>()
  const raw: string[] = []
  const idOf = (label: string): number => {
    let id = ids.get(label)
    if (id === undefined) {
      id = raw.length
      raw.push(label)
      ids.set(label, id)
    }
    return id
  }
  const n = layout.depth.length
  const parent = new Array<number>(n)
  const name = new Array<number>(n)
  const lastAt: number[] = []
  for (let i = 0; i < n; i++) {
    const depth = layout.depth[i]
    lastAt[depth] = i
    parent[i] = depth === 0 ? -1 : lastAt[depth - 1]
    name[i] = i === 0 ? -1 : idOf(layout.names[layout.name[i]])
  }
  const width = Array.from(layout.samples.units)
  const beforeColumn = layout.before ? Array.from(layout.before.units) : undefined
  // A diff's width column holds before + after.
  const value = beforeColumn ? width.map((units, i) => units - beforeColumn[i]) : width
  const table: ReportData['table'] = { label: [], self: [], total: [] }
  if (beforeColumn) {
    table.selfBefore = []
    table.totalBefore = []
  }
  for (let i = 0; i < shares.names.length; i++) {
    const label = shares.names[i]
    if (kind === 'diff' && isRunLabel(label)) continue
    const before = beforeColumn ? { self: shares.beforeSelfUnits[i], total: shares.beforeTotalUnits[i] } : { self: 0, total: 0 }
    const self = shares.samplesSelfUnits[i] - before.self
    const total = shares.samplesTotalUnits[i] - before.total
    if (total <= 0 && before.total <= 0) continue
    table.label.push(idOf(label))
    table.self.push(self)
    table.total.push(total)
    table.selfBefore?.push(before.self)
    table.totalBefore?.push(before.total)
  }
  const shorten = fileShortener(raw)
  const exact = layout.samples.scale === 0 && options.sampleCounts !== false
  return {
    kind,
    title: options.title ?? 'Profile',
    countName: options.countName ?? 'samples',
    unitsPerSample,
    labels: raw.map((label) => functionFirstLabel(label, shorten)),
    fullLabels: raw.map((label) => functionFirstLabel(displayLabel(label))),
    parent,
    name,
    value,
    before: beforeColumn,
    table,
    samples: exact ? value[0] : 0,
    samplesBefore: exact && beforeColumn ? beforeColumn[0] : undefined,
    meta: options.meta ?? [],
    errors: options.errors ?? [],
    frames: { merged: layout.mergedFrames, kept: n - 1, minWidthPercent },
  }
}

async function writeReport(data: ReportData, output: Output, layout: FlamegraphLayout): Promise<ReportSummary> {
  const writer = new ChunkedWriter(output)
  await writer.write(reportHtml(data))
  await writer.flush()
  return {
    bytes: writer.bytes,
    keptFrames: data.parent.length - 1,
    mergedFrames: layout.mergedFrames,
    functions: data.table.label.length,
    stacks: layout.stacks,
    totalSamples: String(data.value[0] / data.unitsPerSample),
  }
}

/** The page: markup, inlined stylesheet and script, the data as a JSON block. */
export function reportHtml(data: ReportData): string {
  // `__name`: when this module runs through esbuild (tsx, bundlers that keep names), the
  // serialized function calls esbuild's helper of that name; a no-op stands in for it.
  const script = `var __name = function (target) { return target };\n(${reportMain.toString()})(JSON.parse(document.getElementById('report-data').textContent));`.replace(/<\/(script)/gi, '<\\/$1')
  const diff = data.kind === 'diff'
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="pyflame-ts">
<title>${escapeXml(data.title)}</title>
<style>${REPORT_CSS}</style></head>
<body>
<header><h1 id="title"></h1><dl id="meta"></dl><div id="errors"></div><div id="pruned"></div></header>
<nav>
<button data-view="flame">Flame graph</button><button data-view="icicle">Icicle</button><button data-view="table">${diff ? 'Changes' : 'Functions'}</button><button data-view="sandwich">Sandwich</button>
<button id="reset" hidden>Reset zoom</button>
<span id="diff-controls" hidden>Widths from <label><input type="radio" name="widths" value="after" checked> after</label><label><input type="radio" name="widths" value="before"> before</label></span>
<span class="search"><input id="search" type="search" placeholder="Search functions (regex)" aria-label="Search"><label title="ignore case"><input id="ignorecase" type="checkbox"> Aa</label><button id="clear">Clear</button><span id="matched"></span></span>
</nav>
<div id="legend" hidden><span><span class="swatch" style="background:rgb(250,60,60)"></span>share grew (after &gt; before)</span><span><span class="swatch" style="background:rgb(60,60,250)"></span>share shrank</span><span><span class="swatch" style="background:rgb(250,250,250)"></span>unchanged</span><span>stronger colour: bigger change</span><span id="widths-note">Widths: the after profile (what grew is visible).</span></div>
<main>
<section id="graph-panel"><div id="details">&nbsp;</div><canvas id="graph"></canvas><p class="note">Hover for counts, click a frame to zoom in (and to pick it for the sandwich view), Escape or Reset zoom to zoom out, Ctrl-F to search.</p></section>
<section id="table-panel" hidden><p id="table-note"></p><table><thead><tr id="table-head"></tr></thead><tbody id="table-body"></tbody></table></section>
<section id="sandwich-panel" hidden><p id="sandwich-empty" class="note">Pick a function in the table or the flame graph.</p>
<h2>Callers of <span id="sandwich-name"></span> (it is at the bottom, who called it above)</h2><p id="callers-list" class="neighbours"></p><canvas id="callers"></canvas>
<h2>Callees (it is at the top, what it called below)</h2><p id="callees-list" class="neighbours"></p><canvas id="callees"></canvas></section>
</main>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script>${script}</script>
</body></html>
`
}
