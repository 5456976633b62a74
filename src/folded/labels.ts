// What a frame label says about Python code. Two spellings are common:
//   Pyflame / pyflame-ts: `path/to/file.py:function:line` (line optional)
//   py-spy:               `function (path/to/file.py:line)` (or `function (file)`, or bare)
// plus perf-style annotations `_[k]`, `_[j]`, `_[i]`, `_[w]` at the end, which flamegraph.pl
// uses for colour and strips from what it shows.

import { native } from '../native'

export interface PythonLabel {
  func: string
  file?: string
  line?: number
}

const ANNOTATION = /_\[[kwij]\]$/

/** The annotation letter (`k`, `w`, `i`, `j`) or ''. */
export function annotationOf(label: string): string {
  return ANNOTATION.test(label) ? label.charAt(label.length - 2) : ''
}

/** The label as shown: without a trailing perf annotation. */
export function displayLabel(label: string): string {
  return ANNOTATION.test(label) ? label.slice(0, -4) : label
}

const PYSPY = /^(.*) \(([^()]*?)(?::(\d+))?\)$/
const PYFLAME = /^(.+?\.py[cwdo]?|<[^>]*>):([^:]*)(?::(\d+))?$/

export function parsePythonLabel(label: string): PythonLabel {
  const shown = displayLabel(label)
  const spy = PYSPY.exec(shown)
  if (spy && spy[2] !== '') return { func: spy[1], file: spy[2], line: spy[3] ? Number(spy[3]) : undefined }
  const flame = PYFLAME.exec(shown)
  if (flame) return { func: flame[2], file: flame[1], line: flame[3] ? Number(flame[3]) : undefined }
  // Unknown shape: `file:func:line` with a file not ending in .py (e.g. a frozen module name).
  const parts = shown.split(':')
  if (parts.length === 3 && /^\d+$/.test(parts[2])) return { func: parts[1], file: parts[0], line: Number(parts[2]) }
  return { func: shown }
}

/**
 * True for labels that identify a process or thread rather than code:
 * `process 1234`, `process 1234:"python app.py"` (py-spy), `thread 5678`, `thread 5678 (name)`,
 * `thread (5678): MainThread` (py-spy), `pid:1234`, `tid:5678`, and austin's `P1234` / `T5678`.
 * The rule lives in the core (folded/labels.rs), which sets these roots aside when merging.
 */
export function isRunLabel(label: string): boolean {
  return native.isRunLabel(label)
}

/**
 * Shortens the file names of a set of labels: a file under site-packages (or dist-packages)
 * or the standard library is named from there (`requests/api.py`, `json/encoder.py`), others relative to the longest directory they all
 * share (`/srv/app/views/user.py` and `/srv/app/db.py` → `views/user.py`, `db.py`).
 */
export function fileShortener(labels: Iterable<string>): (file: string) => string {
  let common: string[] | undefined
  for (const label of labels) {
    const file = parsePythonLabel(label).file
    if (file === undefined || file.startsWith('<') || packagesPath(file) !== undefined) continue
    const dirs = file.split('/').slice(0, -1)
    if (common === undefined) common = dirs
    else {
      let i = 0
      while (i < common.length && i < dirs.length && common[i] === dirs[i]) i++
      common.length = i
    }
  }
  const prefix = common !== undefined && common.length > 0 && common.join('/') !== '' ? common.join('/') + '/' : ''
  return (file: string) => packagesPath(file) ?? (prefix !== '' && file.startsWith(prefix) ? file.slice(prefix.length) : file)
}

/** The module path of an installed package or of the standard library, or undefined. */
function packagesPath(file: string): string | undefined {
  const match = /(?:^|\/)(?:site|dist)-packages\/(.+)$/.exec(file) ?? /\/lib\/python\d[\d.]*t?\/(.+)$/.exec(file)
  return match ? match[1] : undefined
}

/**
 * A Python frame label with the function first, `function (file:line)`, whatever the input
 * spelled (Pyflame's `file:function:line`, py-spy's, austin's); `shorten` maps the file name
 * (the identity keeps the full path). Labels that name no file (`(idle)`, `thread 12`) are kept.
 */
export function functionFirstLabel(label: string, shorten: (file: string) => string = (file) => file): string {
  const parsed = parsePythonLabel(label)
  if (parsed.file === undefined) return displayLabel(label)
  return `${parsed.func} (${shorten(parsed.file)}${parsed.line !== undefined ? `:${parsed.line}` : ''})`
}
