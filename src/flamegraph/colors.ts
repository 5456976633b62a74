// Frame colours. Every colour is a pure function of the frame name, so the same function has
// the same colour in every graph (no seed, no order dependence). The python palette sorts
// frames into your code (warm), the standard library (yellow), site-packages (aqua), run labels
// (purple) and idle/grey frames; the other palettes are flamegraph.pl's.

import { annotationOf, displayLabel, isRunLabel, parsePythonLabel } from '../folded/labels'
import type { Palette } from './options'

type Hue = 'hot' | 'mem' | 'io' | 'red' | 'green' | 'blue' | 'aqua' | 'yellow' | 'purple' | 'orange' | 'grey'

/** FNV-1a over UTF-16 code units, mapped to [0, 1). */
function fnv(text: string, seed = 0x811c9dc5): number {
  let h = seed
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 13
  h = Math.imul(h, 0x5bd1e995)
  h ^= h >>> 15
  return (h >>> 0) / 4294967296
}

/** flamegraph.pl's --hash: the first characters weigh most, so similar names get similar hues. */
function nameHash(name: string): number {
  let vector = 0
  let weight = 1
  let max = 1
  let mod = 10
  const stripped = name.replace(/.(.*?)`/, '')
  for (const char of stripped) {
    const i = char.codePointAt(0)! % mod
    vector += (i / (mod++ - 1)) * weight
    max += weight
    weight *= 0.7
    if (mod > 12) break
  }
  return 1 - vector / max
}

function rgb(r: number, g: number, b: number): string {
  return `rgb(${r},${g},${b})`
}

function paint(hue: Hue, v1: number, v2: number, v3: number): string {
  switch (hue) {
    case 'hot':
      return rgb(205 + Math.floor(50 * v3), Math.floor(230 * v1), Math.floor(55 * v2))
    case 'mem':
      return rgb(0, 190 + Math.floor(50 * v2), Math.floor(210 * v1))
    case 'io': {
      const r = 80 + Math.floor(60 * v1)
      return rgb(r, r, 190 + Math.floor(55 * v2))
    }
    case 'red': {
      const x = 50 + Math.floor(80 * v1)
      return rgb(200 + Math.floor(55 * v1), x, x)
    }
    case 'green': {
      const x = 50 + Math.floor(60 * v1)
      return rgb(x, 200 + Math.floor(55 * v1), x)
    }
    case 'blue': {
      const x = 80 + Math.floor(60 * v1)
      return rgb(x, x, 205 + Math.floor(50 * v1))
    }
    case 'yellow': {
      const x = 175 + Math.floor(55 * v1)
      return rgb(x, x, 50 + Math.floor(20 * v1))
    }
    case 'purple': {
      const x = 190 + Math.floor(65 * v1)
      return rgb(x, 80 + Math.floor(60 * v1), x)
    }
    case 'aqua':
      return rgb(50 + Math.floor(60 * v1), 165 + Math.floor(55 * v1), 165 + Math.floor(55 * v1))
    case 'orange':
      return rgb(190 + Math.floor(65 * v1), 90 + Math.floor(65 * v1), 0)
    case 'grey': {
      const x = 160 + Math.floor(40 * v1)
      return rgb(x, x, x)
    }
  }
}

const STDLIB_FILE = /(^|[\\/])(lib|Lib)[\\/](python|pypy)\d[\d.]*[\\/]|(^|[\\/])[Pp]ython\d*[\d.]*[\\/](?!.*(site|dist)-packages)|^<(frozen|built-in|method|string)/
const THIRD_PARTY_FILE = /(^|[\\/])(site|dist)-packages[\\/]|(^|[\\/])\.?venv[\\/]/

export type PythonKind = 'user' | 'stdlib' | 'third-party' | 'native' | 'run' | 'idle'

/** Which part of a Python program a frame label belongs to. */
export function pythonKind(label: string): PythonKind {
  if (label === '(idle)' || label === '(failed)' || label === '(native unwind failed)') return 'idle'
  if (isRunLabel(label)) return 'run'
  const parsed = parsePythonLabel(label)
  if (!parsed.file) return parsed.func.startsWith('<') ? 'stdlib' : 'native'
  if (THIRD_PARTY_FILE.test(parsed.file)) return 'third-party'
  if (STDLIB_FILE.test(parsed.file)) return 'stdlib'
  return 'user'
}

const PYTHON_HUES: Record<PythonKind, Hue> = { user: 'hot', stdlib: 'yellow', 'third-party': 'aqua', native: 'orange', run: 'purple', idle: 'grey' }

function multiPaletteHue(palette: Palette, name: string): Hue {
  const note = annotationOf(name)
  switch (palette) {
    case 'java':
      if (note === 'j') return 'green'
      if (note === 'i') return 'aqua'
      if (/^L?(java|javax|jdk|net|org|com|io|sun)\//.test(name) || name.includes(':::')) return 'green'
      if (name.includes('::')) return 'yellow'
      if (note === 'k') return 'orange'
      return 'red'
    case 'perl':
      if (name.includes('::')) return 'yellow'
      if (/Perl|\.pl/.test(name)) return 'green'
      if (note === 'k') return 'orange'
      return 'red'
    case 'js':
      if (note === 'j') return name.includes('/') ? 'green' : 'aqua'
      if (name.includes('::')) return 'yellow'
      if (/\/.*\.js/.test(name)) return 'green'
      if (name.includes(':')) return 'aqua'
      if (name === ' ') return 'green'
      if (note === 'k') return 'orange'
      return 'red'
    case 'wakeup':
      return 'aqua'
    case 'chain':
      return note === 'w' ? 'aqua' : 'blue'
    default:
      return palette as Hue
  }
}

/** The fill of a frame with this (raw) label. Cached per name by the caller. */
export function frameColor(label: string, palette: Palette, hash: boolean): string {
  if (label === '--' || label === '-') return 'rgb(160,160,160)'
  let hue: Hue
  let key = label
  if (palette === 'python') {
    const kind = pythonKind(label)
    hue = PYTHON_HUES[kind]
    // Same function, same colour, whatever line it was on.
    const parsed = parsePythonLabel(label)
    key = parsed.file ? `${parsed.file}:${parsed.func}` : displayLabel(label)
  } else {
    hue = multiPaletteHue(palette, label)
  }
  if (hash) {
    const v1 = nameHash(key)
    const v2 = nameHash([...key].reverse().join(''))
    return paint(hue, v1, v2, v2)
  }
  return paint(hue, fnv(key), fnv(key, 0x01234567), fnv(key, 0x89abcdef))
}

/**
 * Differential colour for a change of `delta` samples when the largest change is `max`:
 * red grew, blue shrank, white unchanged; stronger for larger changes.
 */
export function diffColor(delta: number, max: number, negate: boolean): string {
  const value = negate ? -delta : delta
  if (value === 0 || max <= 0) return 'rgb(250,250,250)'
  const fade = Math.max(0, Math.min(210, Math.floor((210 * (max - Math.abs(value))) / max)))
  return value > 0 ? rgb(255, fade, fade) : rgb(fade, fade, 255)
}
