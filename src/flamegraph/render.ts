// The flame graph emitter.
//
// One pass over the input, then one pass over the drawn frames:
//  1. Folded input streams (files, stdin or lines in memory) as bytes into the native merger,
//     which builds a prefix tree keyed by (parent, name), sums counts exactly, leaves out
//     frames narrower than --minwidth (their samples stay in the parent) and lays out the rest
//     (layout.ts). Only the tree lives in memory, never the input text.
//  2. The SVG streams out in bounded chunks: header, style, script, then one
//     <g><title/><rect/><text/></g> per drawn frame. Each rect carries its integer sample
//     offset and width (fg:x, fg:w) so the embedded script zooms and computes Matched %
//     exactly, and positions are percentages so the image can be fluid.
// Every string from the profile or the user is escaped (escape.ts); none reaches the script.

import type { DrawnColumn } from '../../binding'
import { groupThousands, scaledToDecimal } from '../folded/count'
import { displayLabel, fileShortener, functionFirstLabel } from '../folded/labels'
import { diffColor, frameColor } from './colors'
import { escapeComment, escapeXml } from './escape'
import { layoutFolded, nominalFramesWidth, type FlamegraphLayout, type FoldedInput, type LayoutHooks } from './layout'
import { resolveOptions, type FlamegraphOptions, type ResolvedOptions } from './options'
import { FLAMEGRAPH_SCRIPT } from './script'
import { ChunkedWriter, type Output } from './sink'

/** Folded input: lines (sync or async) or named sources (files, stdin). */
export type FlamegraphInput = FoldedInput

export interface RenderSummary {
  /** Total samples, exact (a decimal string: counts may be fractional or beyond 2^53). */
  totalSamples: string
  /** Stack lines read. */
  stacks: number
  /** Malformed lines skipped (with skipInvalid). */
  invalidLines: number
  /** Distinct frames after merging. */
  mergedFrames: number
  /** Frames drawn (root included). */
  drawnFrames: number
  /** Frames left out as narrower than --minwidth (their samples stay in the parents). */
  prunedFrames: number
  /** Samples in the outermost left-out frames, exact. */
  prunedSamples: string
  maxDepth: number
  differential: boolean
  /** Bytes of SVG written. */
  bytes: number
}

export type RenderHooks = LayoutHooks

export async function renderFlamegraph(input: FlamegraphInput, options: FlamegraphOptions, output: Output, hooks: RenderHooks = {}): Promise<RenderSummary> {
  const resolved = resolveOptions(options)
  return drawFlamegraph(await layoutFolded(input, options, resolved, hooks), resolved, output)
}

/** Writes the SVG of frames already laid out. */
export async function drawFlamegraph(layout: FlamegraphLayout, options: ResolvedOptions, output: Output): Promise<RenderSummary> {
  const writer = new ChunkedWriter(output)
  await writeSvg(layout, options, writer)
  await writer.flush()
  return {
    totalSamples: layout.samples.total,
    stacks: layout.stacks,
    invalidLines: layout.invalidLines,
    mergedFrames: layout.mergedFrames,
    drawnFrames: layout.depth.length,
    prunedFrames: layout.prunedFrames,
    prunedSamples: layout.prunedSamples,
    maxDepth: layout.maxDepth,
    differential: layout.before !== undefined,
    bytes: writer.bytes,
  }
}

/** A frame's count in drawing units, exactly, as an integer string (for `fg:` attributes). */
function unitsText(column: DrawnColumn, frame: number): string {
  return column.unitsText ? column.unitsText[frame] : String(column.units[frame])
}

/**
 * `value` (≥ 0) rounded to `digits` decimals (up to 4), as text: with `trim`, the shortest
 * (`12.5`, `3`); else with all the digits (`12.50`). Integer arithmetic: a number's own
 * toString/toFixed is the costliest step of writing a frame.
 */
function fixed(value: number, digits: number, trim: boolean): string {
  const unit = FIXED_UNITS[digits]
  const scaled = Math.round(value * unit)
  const whole = Math.floor(scaled / unit)
  let fraction = scaled - whole * unit
  if (trim) {
    if (fraction === 0) return String(whole)
    let width = digits
    while (fraction % 10 === 0) {
      fraction /= 10
      width--
    }
    return `${whole}.${String(fraction).padStart(width, '0')}`
  }
  return `${whole}.${String(fraction).padStart(digits, '0')}`
}

const FIXED_UNITS = [1, 10, 100, 1000, 10000]

/** Shortest fixed-point text for a percentage (4 decimals: 0.0001% of 1200 px is nothing). */
function pct(value: number): string {
  return fixed(value, 4, true)
}

/** Cuts a label to what fits, flamegraph.pl style (`..` when cut, nothing below 3 chars). */
export function fitLabel(name: string, widthPx: number, charWidth: number): string {
  const chars = Math.floor((widthPx - 3) / charWidth)
  if (chars < 3) return ''
  if (name.length <= chars) return name
  let end = chars - 2
  const code = name.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return name.slice(0, end) + '..'
}

async function writeSvg(layout: FlamegraphLayout, options: ResolvedOptions, out: ChunkedWriter): Promise<void> {
  const { fontSize, frameHeight } = options
  const nl = options.pretty ? '\n' : ''
  const indent = options.pretty ? '  ' : ''
  const fluid = options.width === undefined
  const framesWidth = nominalFramesWidth(options)
  const ypad1 = fontSize * 3 + (options.subtitle ? fontSize * 2 : 0)
  const ypad2 = fontSize * 2 + 10
  const imageHeight = (layout.maxDepth + 1) * frameHeight + ypad1 + ypad2
  const widthAttr = fluid ? '100%' : String(options.width)
  const titleY = fontSize * 2
  const detailsY = imageHeight - ypad2 / 2 - 2
  const samples = layout.samples
  const total = samples.units[0]

  await out.write(
    `<?xml version="1.0" standalone="no"?>\n` +
      `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n` +
      `<svg version="1.1" width="${widthAttr}" height="${imageHeight}" onload="init(evt)" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:fg="urn:pyflame-ts:flamegraph"` +
      ` fg:nametype="${escapeXml(options.nameType)}" fg:countname="${escapeXml(options.countName)}" fg:fontsize="${fontSize}" fg:fontwidth="${options.fontWidth}" fg:frameheight="${frameHeight}" fg:inverted="${options.inverted}" fg:fluid="${fluid}">\n` +
      `<!--Flame graph by pyflame-ts. NOTES: ${escapeComment(options.notes)}-->\n` +
      (options.notes ? `<desc id="notes">${escapeXml(options.notes)}</desc>\n` : '') +
      `<defs>${nl}${indent}<linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/></linearGradient>${nl}</defs>\n` +
      `<style type="text/css">${nl}` +
      `text{font-family:${cssFont(options.fontType)};font-size:${fontSize}px;fill:rgb(0,0,0)}${nl}` +
      `#title{text-anchor:middle;font-size:${fontSize + 5}px}${nl}#subtitle{text-anchor:middle;fill:rgb(160,160,160)}${nl}` +
      `#search,#ignorecase,#matched{text-anchor:end}${nl}#search{fill:rgb(31,95,191);font-weight:bold;cursor:pointer}${nl}#ignorecase{opacity:0.5;cursor:pointer}${nl}` +
      `#search:hover{text-decoration:underline}${nl}#ignorecase:hover,#ignorecase.show{opacity:1}${nl}#unzoom{cursor:pointer}${nl}` +
      `#frames>*:hover{stroke:black;stroke-width:0.5;cursor:pointer}${nl}#frames text{transform:translate(3px,0);pointer-events:none}${nl}` +
      `.hide{display:none}${nl}#frames.zoomed>g{display:none}${nl}#frames.zoomed>g.show,#frames.zoomed>g.parent{display:inline}${nl}.parent{opacity:0.5}${nl}</style>\n` +
      (options.noJavascript ? '' : `<script type="text/ecmascript"><![CDATA[\n${FLAMEGRAPH_SCRIPT}]]></script>\n`) +
      `<rect x="0" y="0" width="100%" height="${imageHeight}" fill="url(#background)"/>\n` +
      `<text id="title" x="50%" y="${titleY}">${escapeXml(options.title)}</text>\n` +
      (options.subtitle ? `<text id="subtitle" x="50%" y="${fontSize * 4}">${escapeXml(options.subtitle)}</text>\n` : '') +
      `<text id="details" x="10" y="${detailsY}"> </text>\n` +
      `<text id="unzoom" class="hide" x="10" y="${titleY}">Reset Zoom</text>\n` +
      `<text id="search" x="100%" dx="-40" y="${titleY}">Search</text>\n` +
      `<text id="ignorecase" x="100%" dx="-10" y="${titleY}">ic</text>\n` +
      `<text id="matched" x="100%" dx="-10" y="${detailsY}"> </text>\n` +
      `<svg id="frames" x="10" width="${framesWidth}" fg:total="${unitsText(samples, 0)}">\n`,
  )

  const countName = escapeXml(options.countName)
  const charWidth = fontSize * options.fontWidth
  const pxPerUnit = total > 0 ? framesWidth / total : 0
  // Per name: its fill, its shown label and that label escaped (names repeat across frames).
  const colorOf: string[] = []
  const shownOf: string[] = []
  const escapedOf: string[] = []
  const titleOf: string[] = []
  // Function first, files short (the full path is in the hover title): a narrow frame still says which function it is.
  const shorten = fileShortener(layout.names)
  const diff = layout.before ? diffContext(layout, options) : undefined

  // Per depth: the rect's and the label's y.
  const rectY: string[] = []
  const textY: string[] = []
  for (let depth = 0; depth <= layout.maxDepth; depth++) {
    const y = options.inverted ? ypad1 + depth * frameHeight : imageHeight - ypad2 - (depth + 1) * frameHeight
    rectY.push(String(y))
    textY.push(String(y + (frameHeight + fontSize) / 2 - 2.5))
  }

  for (let i = 0; i < layout.depth.length; i++) {
    const depth = layout.depth[i]
    const units = samples.units[i]
    const offset = layout.offset[i]
    const x = total > 0 ? pct((offset / total) * 100) : '0'
    const width = total > 0 ? (units / total) * 100 : 0
    const fgW = unitsText(samples, i)
    const countText = groupThousands(samples.unitsText ? scaledToDecimal(fgW, samples.scale) : fgW)
    let name: string
    let escaped: string
    let info: string
    let fill: string
    if (i === 0) {
      name = escaped = 'all'
      info = `all (${countText} ${countName}, 100%)`
      fill = 'rgb(250,250,250)'
    } else {
      const nameId = layout.name[i]
      const raw = layout.names[nameId]
      name = shownOf[nameId] ??= functionFirstLabel(raw, shorten)
      escaped = escapedOf[nameId] ??= escapeXml(name)
      const share = total > 0 ? (100 * units) / total : 0
      info = `${(titleOf[nameId] ??= escapeXml(functionFirstLabel(displayLabel(raw))))} (${countText} ${countName}, ${fixed(share, 2, false)}%`
      if (diff) {
        const change = diff.sharePointChange(i)
        info += `; ${change > 0 ? '+' : ''}${change.toFixed(2)}%`
      }
      info += ')'
      fill = diff ? diff.color(i) : (colorOf[nameId] ??= frameColor(raw, options.colors, options.hash))
    }
    const label = fitLabel(name, units * pxPerUnit, charWidth)
    // Frames too narrow for a label get no <text>: the script adds one if a zoom widens them.
    const text = label === '' ? '' : `${nl}${indent}${indent}<text x="${x}%" y="${textY[depth]}">${label === name ? escaped : escapeXml(label)}</text>`
    const offsetText = layout.offsetText ? layout.offsetText[i] : String(offset)
    const chunk =
      `${indent}<g>${nl}${indent}${indent}<title>${info}</title>${nl}${indent}${indent}<rect x="${x}%" y="${rectY[depth]}" width="${pct(width)}%" height="${frameHeight - 1}" fill="${fill}" fg:x="${offsetText}" fg:w="${fgW}"/>` +
      `${text}${nl}${indent}</g>\n`
    const pending = out.write(chunk)
    if (pending) await pending
  }
  await out.write('</svg>\n</svg>\n')
}

function cssFont(family: string): string {
  // A font family goes into CSS inside XML: keep it to a safe character set.
  const safe = family.replace(/[^A-Za-z0-9 ,_\-'"]/g, '')
  return escapeXml(safe || 'monospace')
}

/**
 * Differential colouring: widths from "after"; a frame's colour and its `; ±D.DD%` come from the
 * change of its own samples (after − before, before scaled to the after total with normalize).
 * Unlike flamegraph.pl, which colours only the frame where each line ends, every frame
 * shows the change of everything under it.
 */
function diffContext(layout: FlamegraphLayout, options: ResolvedOptions) {
  const after = layout.samples
  const before = layout.before!
  const afterPerSample = 10 ** after.scale
  const beforePerSample = 10 ** before.scale
  const totalAfter = after.units[0] / afterPerSample
  const totalBefore = before.units[0] / beforePerSample
  // Before counts scaled to the after total (difffolded.pl -n) when normalising.
  const scale = options.normalize && totalBefore > 0 ? totalAfter / totalBefore : 1
  const delta = (frame: number): number => after.units[frame] / afterPerSample - (before.units[frame] / beforePerSample) * scale
  let max = 0
  for (let i = 1; i < layout.depth.length; i++) max = Math.max(max, Math.abs(delta(i)))
  return {
    color: (frame: number) => diffColor(delta(frame), max, options.negate),
    /** The change as a percentage of all "after" samples (flamegraph.pl's `; +D.DD%`), sign flipped by negate. */
    sharePointChange: (frame: number) => {
      const change = totalAfter > 0 ? (100 * delta(frame)) / totalAfter : 0
      return options.negate ? -change : change
    },
  }
}
