// Seeded synthetic folded stacks for the render benchmark (and the flamegraph.pl comparison
// test): py-spy-style labels `func (app/module.py:line)` from ~4,000 distinct frames, a
// 2-frame root, one of 40 framework prefixes, then a Zipf-weighted callee walk; depth 10–60,
// every line unique, heavy-tailed counts.
//   node bench/render-input.mjs LINES [SEED] > out.folded

import { createWriteStream } from 'node:fs'

export function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const VERBS = ['get', 'load', 'render', 'parse', 'build', 'fetch', 'compute', 'update', 'check', 'resolve', 'handle', 'encode', 'decode', 'validate', 'dispatch', 'serialize']
const NOUNS = ['view', 'user', 'cache', 'query', 'row', 'template', 'request', 'response', 'token', 'session', 'field', 'model', 'item', 'page', 'config', 'lookup', 'index', 'node', 'batch', 'event']
const DIRS = ['app/api', 'app/core', 'app/models', 'app/views', 'lib/util', 'site-packages/django/db', 'site-packages/requests', '/usr/lib/python3.12/json', '/usr/lib/python3.12/re', 'site-packages/jinja2']

/** The distinct frame labels, built from the seed. */
function makeLabels(random, count) {
  const labels = []
  for (let i = 0; i < count; i++) {
    const verb = VERBS[Math.floor(random() * VERBS.length)]
    const noun = NOUNS[Math.floor(random() * NOUNS.length)]
    const dir = DIRS[Math.floor(random() * DIRS.length)]
    const file = `${dir}/${NOUNS[Math.floor(random() * NOUNS.length)]}s.py`
    labels.push(`${verb}_${noun}${i % 7 === 0 ? '' : i} (${file}:${1 + Math.floor(random() * 900)})`)
  }
  return labels
}

/** Yields `lines` unique folded lines. */
export function* syntheticFolded(lines, seed = 42) {
  const random = mulberry32(seed)
  const labels = makeLabels(random, 4000)
  const zipf = () => Math.min(labels.length - 1, Math.floor(Math.pow(random(), 2.2) * labels.length))
  const roots = ['<module> (manage.py:22)', 'main (manage.py:18)']
  const prefixes = []
  for (let i = 0; i < 40; i++) {
    const length = 2 + Math.floor(random() * 6)
    const prefix = []
    for (let j = 0; j < length; j++) prefix.push(labels[Math.floor(random() * labels.length)])
    prefixes.push(prefix.join(';'))
  }
  const seen = new Set()
  while (seen.size < lines) {
    const depth = 10 + Math.floor(Math.pow(random(), 0.8) * 51)
    const frames = [...roots, prefixes[Math.floor(Math.pow(random(), 1.5) * prefixes.length)]]
    let framesDepth = 2 + frames[2].split(';').length
    while (framesDepth < depth) {
      frames.push(labels[zipf()])
      framesDepth++
    }
    const stack = frames.join(';')
    if (seen.has(stack)) continue
    seen.add(stack)
    const count = Math.max(1, Math.floor(1 / Math.pow(1 - random() * 0.999, 1.05)) * (1 + Math.floor(random() * 20)))
    yield `${stack} ${count}`
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = Number(process.argv[2] ?? 10000)
  const seed = Number(process.argv[3] ?? 42)
  const out = createWriteStream('/dev/stdout')
  let buffer = ''
  for (const line of syntheticFolded(lines, seed)) {
    buffer += line + '\n'
    if (buffer.length > 1 << 20) {
      out.write(buffer)
      buffer = ''
    }
  }
  out.end(buffer)
}
