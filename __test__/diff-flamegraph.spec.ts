// `diff`: a differential flame graph (widths from "after", red grew, blue shrank) and the text
// summary of the frames whose share changed most; pid/tid roots set aside by default.

import test from 'ava'
import { XMLValidator } from 'fast-xml-parser'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { diffFolded, formatDiffSummary } from '../src/flamegraph/diff'
import { isRunLabel } from '../src/folded/labels'
import { framesOf, runCommand } from './helpers/flamegraph'

const TMP = path.join(__dirname, '.tmp', `diff-flamegraph-${process.pid}`)
test.before(() => mkdirSync(TMP, { recursive: true }))
test.after.always(() => rmSync(TMP, { recursive: true, force: true }))

// The seed's story: an optimisation made cache_lookup cheaper. Different pids and tids per run.
const BEFORE = [
  'process 1111;thread 1112;app.py:main:10;app.py:handle:20;cache.py:cache_lookup:5 40',
  'process 1111;thread 1112;app.py:main:10;app.py:handle:20;render.py:render:8 50',
  'process 1111;thread 1112;app.py:main:10;app.py:handle:20;render.py:render:8;cache.py:cache_lookup:5 10',
  'process 1111;thread 1113;worker.py:loop:3 100',
]
const AFTER = [
  'process 2222;thread 2223;app.py:main:10;app.py:handle:20;cache.py:cache_lookup:5 5',
  'process 2222;thread 2223;app.py:main:10;app.py:handle:20;render.py:render:8 60',
  'process 2222;thread 2223;app.py:main:10;app.py:handle:20;render.py:render:8;cache.py:cache_lookup:5 5',
  'process 2222;thread 2224;worker.py:loop:3 130',
]

async function diffToString(before: string[], after: string[], options = {}) {
  let svg = ''
  const result = await diffFolded(before, after, options, (chunk) => (svg += chunk))
  return { svg, result }
}

test('run labels are recognised: process/thread/pid/tid roots in the spellings tools use', (t) => {
  for (const label of ['process 1234', 'process 1234:"python app.py"', 'thread 5678', 'thread 5678 (MainThread)', 'thread (5678): MainThread', 'pid:1234', 'tid:99', 'P1234', 'T5678']) t.true(isRunLabel(label), label)
  for (const label of ['process_request (app.py:3)', 'thread.py:run:12', 'threading.py:_bootstrap:1', 'Pipeline', 'main']) t.false(isRunLabel(label), label)
})

test('stacks match across runs with pids and tids set aside; summary ranks Python frames by change in share', async (t) => {
  const { svg, result } = await diffToString(BEFORE, AFTER)
  t.is(XMLValidator.validate(svg), true)
  // A legend says what red, blue and the widths mean.
  t.regex(svg, /<text id="subtitle"[^>]*>Widths: after\. Red: share grew, blue: share shrank\. Removed frames are visible with --negate, both directions with --html<\/text>/)
  const frames = framesOf(svg)
  t.false(frames.some((f) => isRunLabel(f.name)))
  // cache_lookup: 50 of 200 samples before (25%), 10 of 200 after (5%): the top change.
  t.is(result.totalBefore, '200')
  t.is(result.totalAfter, '200')
  t.like(result.changes[0], { label: 'cache_lookup (cache.py:5)', before: 25, after: 5, change: -20, beforeSamples: 50, afterSamples: 10, significant: true })
  const text = formatDiffSummary(result)
  // 50 of 200 against 10 of 200: z = 5.3, far beyond noise; each share with its 95 % interval.
  t.regex(text, /^cache_lookup \(cache\.py:5\) +25\.0% \[19\.5–31\.4\] → 5\.0% \[2\.7–9\.0\] +\(−20\.0 pp\) +significant$/m)
  t.regex(text, /^loop \(worker\.py:3\) +50\.0% \[43\.1–56\.9\] → 65\.0% \[58\.2–71\.3\] +\(\+15\.0 pp\) +significant$/m)
  // render (60 → 65 of 200) is within noise after Holm's correction over the changed frames.
  t.regex(text, /^render \(render\.py:8\) .*\(\+2\.5 pp\) +not significant \(noise\)$/m)
  t.regex(text, /Warning: these profiles are too small to show a change of 5 pp/)
  t.false(/process|thread/.test(text))
  // Widths from "after"; red where the frame grew, blue where it shrank.
  const lookup = frames.filter((f) => f.name === 'cache_lookup (cache.py:5)')
  t.deepEqual(
    lookup.map((f) => f.count),
    ['5', '5'],
  )
  const [r, g, b] = lookup[0].fill.match(/\d+/g)!.map(Number)
  t.true(b === 255 && r < 255 && g < 255, lookup[0].fill)
  const loop = frames.find((f) => f.name === 'loop (worker.py:3)')!
  const [lr, lg, lb] = loop.fill.match(/\d+/g)!.map(Number)
  t.true(lr === 255 && lg < 255 && lb < 255, loop.fill)
})

test('keepRunLabels matches stacks with their roots: different pids do not match', async (t) => {
  const { result } = await diffToString(BEFORE, AFTER, { keepRunLabels: true })
  const lookup = result.changes.find((c) => c.label === 'cache_lookup (cache.py:5)')!
  t.is(lookup.before, 25)
  t.is(lookup.after, 5)
  const { svg } = await diffToString(BEFORE, AFTER, { keepRunLabels: true })
  t.true(framesOf(svg).some((f) => f.name === 'process 2222'))
  t.false(framesOf(svg).some((f) => f.name === 'process 1111'))
})

test('negate draws the "before" widths, so a frame that disappeared is visible', async (t) => {
  const before = ['main;old_path 30', 'main;kept 10']
  const after = ['main;kept 40']
  const plain = framesOf((await diffToString(before, after)).svg)
  t.false(plain.some((f) => f.name === 'old_path'))
  const negated = framesOf((await diffToString(before, after, { negate: true })).svg)
  const gone = negated.find((f) => f.name === 'old_path')!
  t.is(gone.count, '30')
  // It shrank (to nothing): blue, as in the plain view.
  t.true(gone.fill.startsWith('rgb(') && gone.fill.endsWith(',255)'), gone.fill)
})

test('pyflame-ts diff: files in, SVG to -o, summary on stdout; errors name the file and line', async (t) => {
  const before = path.join(TMP, 'before.txt')
  const after = path.join(TMP, 'after.txt')
  const out = path.join(TMP, 'diff.svg')
  writeFileSync(before, BEFORE.join('\n') + '\n')
  writeFileSync(after, AFTER.join('\r\n') + '\r\n')
  const run = await runCommand(['diff', before, after, '-o', out, '--top', '3'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /cache_lookup \(cache\.py:5\) +25\.0% \[19\.5–31\.4\] → 5\.0% \[2\.7–9\.0\] +\(−20\.0 pp\) +significant/)
  // A heading, three rows, and the warning that 200 samples cannot show a 5 pp change.
  t.is(run.stdout.trim().split('\n').length, 5)
  t.regex(run.stdout, /^Warning: these profiles are too small to show a change of 5 pp .* about [\d,]+ samples in each/m)
  const enough = await runCommand(['diff', before, after, '-o', out, '--top', '3', '--min-change', '30'])
  t.false(/Warning/.test(enough.stdout), 'a 30 pp change is visible with 200 samples')
  const badAlpha = await runCommand(['diff', before, after, '-o', out, '--alpha', '5'])
  t.is(badAlpha.code, 1)
  t.regex(badAlpha.stderr, /--alpha takes a probability between 0 and 1 .*"5".*ERR_INVALID_ARGUMENT/)
  t.is(XMLValidator.validate(readFileSync(out, 'utf8')), true)
  writeFileSync(after, 'main;x 3\nmain;y\n')
  const bad = await runCommand(['diff', before, after, '-o', out])
  t.is(bad.code, 1)
  t.regex(bad.stderr, new RegExp(`${after.replace(/[.]/g, '\\.')}:2: expected "stack count"`))
})

test('two-column input to render is a differential graph (difffolded.pl output)', async (t) => {
  const run = await runCommand(['render', '-'], 'main;a 10 2\nmain;b 5 20\n')
  t.is(run.code, 0, run.stderr)
  const frames = framesOf(run.stdout)
  t.deepEqual(
    frames.map((f) => `${f.name}=${f.count}`),
    ['all=22', 'main=22', 'a=2', 'b=20'],
  )
  t.regex(run.stdout, /<title>b \(20 samples, 90\.91%; \+68\.18%\)<\/title>/)
})
