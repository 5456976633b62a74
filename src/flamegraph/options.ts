// Flame graph options, named after flamegraph.pl's flags where one exists.

import { invalidArgument } from '../errors'

export const PALETTES = ['python', 'hot', 'mem', 'io', 'red', 'green', 'blue', 'aqua', 'yellow', 'purple', 'orange', 'java', 'js', 'perl', 'wakeup', 'chain'] as const
export type Palette = (typeof PALETTES)[number]

export interface FlamegraphOptions {
  /** Heading; default "Flame Graph" ("Icicle Graph" inverted, "Flame Chart" with `flamechart`). */
  title?: string
  subtitle?: string
  /** Image width in pixels; undefined = fluid (fills the window, labels refit on resize). */
  width?: number
  /** Row height in pixels (the box is 1 px less). Default 16. */
  frameHeight?: number
  /** Frames narrower than this are left out, their samples stay in the parent: `0.1` (px) or `'0.01%'`. */
  minWidth?: number | string
  /** Font family. Default monospace: labels are fitted without measuring text. */
  fontType?: string
  fontSize?: number
  /** Average glyph width ÷ font size, used to fit labels. Default 0.6 (monospace). */
  fontWidth?: number
  /** Unit in tooltips. Default "samples". */
  countName?: string
  /** Prefix of the hover line. Default "Function:". */
  nameType?: string
  /** Palette. Default python: your code, the standard library and site-packages in distinct hues. */
  colors?: Palette
  /** flamegraph.pl's --hash: colour from a weighted hash of the name (similar names, similar hues). */
  hash?: boolean
  /** Reverse each stack before merging (callers on top). */
  reverse?: boolean
  /** Icicle graph: root at the top. */
  inverted?: boolean
  /** Time order: keep input order, merge only adjacent stacks. */
  flamechart?: boolean
  /** Text stored in the SVG (an XML comment and a <desc>). */
  notes?: string
  /** Swap the differential colours and sign (flamegraph.pl --negate). */
  negate?: boolean
  /** Differential input: 'auto' (default) detects `stack before after` lines. */
  differential?: boolean | 'auto'
  /** Scale "before" counts by total(after)/total(before) (difffolded.pl -n). */
  normalize?: boolean
  /** Keep process/thread roots (`process 1234`, `thread 5678`); default true for render. */
  keepRunLabels?: boolean
  /** Skip malformed lines with a warning instead of failing. */
  skipInvalid?: boolean
  /** Pretty-print and leave out the script (golden tests, static viewers). */
  pretty?: boolean
  noJavascript?: boolean
}

export interface ResolvedOptions {
  title: string
  subtitle: string
  width: number | undefined
  frameHeight: number
  minWidthPx: number | undefined
  minWidthPercent: number | undefined
  fontType: string
  fontSize: number
  fontWidth: number
  countName: string
  nameType: string
  colors: Palette
  hash: boolean
  reverse: boolean
  inverted: boolean
  flamechart: boolean
  notes: string
  negate: boolean
  normalize: boolean
  pretty: boolean
  noJavascript: boolean
}

/** Width used for pruning and initial label fitting when the image is fluid. */
export const NOMINAL_WIDTH = 1200

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw invalidArgument(`--${name} must be a positive number, got ${value}`)
  return value
}

export function parseMinWidth(value: number | string | undefined): { px?: number; percent?: number } {
  if (value === undefined) return { px: 0.1 }
  const text = String(value).trim()
  const match = /^(\d+(?:\.\d*)?|\.\d+)(%|px)?$/.exec(text)
  if (!match) throw invalidArgument(`--minwidth takes pixels (e.g. 0.1) or a percentage of the total (e.g. 0.01%), got "${text}"`)
  const number = Number(match[1])
  return match[2] === '%' ? { percent: number } : { px: number }
}

export function resolveOptions(options: FlamegraphOptions): ResolvedOptions {
  const colors = options.colors ?? 'python'
  if (!(PALETTES as readonly string[]).includes(colors)) throw invalidArgument(`unknown palette "${colors}": use one of ${PALETTES.join(', ')}`)
  const minWidth = parseMinWidth(options.minWidth)
  const defaultTitle = options.flamechart ? 'Flame Chart' : options.inverted ? 'Icicle Graph' : 'Flame Graph'
  return {
    title: options.title ?? defaultTitle,
    subtitle: options.subtitle ?? '',
    width: options.width === undefined ? undefined : positive('width', options.width, NOMINAL_WIDTH),
    frameHeight: positive('height', options.frameHeight, 16),
    minWidthPx: minWidth.px,
    minWidthPercent: minWidth.percent,
    fontType: options.fontType ?? 'monospace',
    fontSize: positive('fontsize', options.fontSize, 12),
    fontWidth: positive('fontwidth', options.fontWidth, 0.6),
    countName: options.countName ?? 'samples',
    nameType: options.nameType ?? 'Function:',
    colors,
    hash: options.hash ?? false,
    reverse: options.reverse ?? false,
    inverted: options.inverted ?? false,
    flamechart: options.flamechart ?? false,
    notes: options.notes ?? '',
    negate: options.negate ?? false,
    normalize: options.normalize ?? false,
    pretty: options.pretty ?? false,
    noJavascript: options.noJavascript ?? options.pretty ?? false,
  }
}
