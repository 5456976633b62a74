// What the HTML report carries: the merged call tree (pruned to what is worth zooming into),
// every function's exact self and total samples, and the recording's metadata. The page's
// script (page.ts) reads it from a JSON block; nothing else is loaded.

/** One sampling error kind and how many samples it cost. */
export interface ErrorKind {
  kind: string
  count: number
}

/** The report's data, as embedded in the page. Arrays are parallel, indexed by tree node. */
export interface ReportData {
  kind: 'profile' | 'diff'
  title: string
  countName: string
  /** Units per sample (counts may be fractional: a sample is 10^scale units). */
  unitsPerSample: number
  /** Distinct frame labels: shown text (function first, short file), and the full label. */
  labels: string[]
  fullLabels: string[]
  /** Tree nodes depth first, the root first: parent index (-1 for the root) and label index. */
  parent: number[]
  name: number[]
  /** Units per node: the profile's, or for a diff the "after" column. */
  value: number[]
  /** A diff's "before" column. */
  before?: number[]
  /** Every function (label) over the whole merged tree, unpruned: self and total units. */
  table: { label: number[]; self: number[]; total: number[]; selfBefore?: number[]; totalBefore?: number[] }
  /** Label → row in `table` (or -1). */
  /** Samples behind each column (for the standard errors); 0 when counts are not samples. */
  samples: number
  samplesBefore?: number
  /** Rows of metadata shown in the header: [name, value]. */
  meta: Array<[string, string]>
  errors: ErrorKind[]
  /** Frames merged, drawn and left out as too narrow (their samples stay in the parent's width). */
  frames: { merged: number; kept: number; minWidthPercent: number }
}

/**
 * The standard error, in percentage points, of a share estimated from `n` independent samples of
 * which a fraction `p` (0..1) fell in: sqrt(p(1-p)/n), the binomial one. Samples taken at a
 * fixed rate are not quite independent, so read it as the error's order of magnitude.
 */
export function shareStandardError(p: number, n: number): number {
  if (!(n > 0) || p < 0 || p > 1) return 0
  return 100 * Math.sqrt((p * (1 - p)) / n)
}

/** JSON for a `<script type="application/json">` block: `<` escaped so no text closes the block. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}
