// The SVG emitter on small inputs: golden files (pretty, no script), tree merging, pruning,
// parsing (comments, CRLF, fractions, huge counts, annotations, several files, errors),
// escaping of hostile names into well-formed XML, palettes and options.

import test from 'ava'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileSource } from '../src/folded/line-reader'
import { frameColor, pythonKind } from '../src/flamegraph/colors'
import { FLAMEGRAPH_SCRIPT } from '../src/flamegraph/script'
import { framesOf, renderToString, runCommand } from './helpers/flamegraph'

const GOLDEN = path.join(__dirname, 'golden', 'flamegraph')
const BLESS = process.env.BLESS_GOLDEN === '1'

const goldenCases: { name: string; input: string[]; options: Record<string, unknown> }[] = [
  { name: 'pyflame', input: ['pyflame.folded'], options: {} },
  { name: 'pyspy-crlf-comments', input: ['pyspy.folded'], options: { title: 'py-spy <raw> & "quotes"', subtitle: 'CRLF input', notes: 'a -- note <x>' } },
  { name: 'inverted-hot', input: ['pyflame.folded'], options: { inverted: true, colors: 'hot', width: 800, countname: 'ticks' } },
  { name: 'differential', input: ['differential.folded'], options: {} },
  { name: 'flamechart', input: ['flamechart.folded'], options: { flamechart: true } },
  { name: 'reverse-minwidth', input: ['pyflame.folded'], options: { reverse: true, minWidth: '5%' } },
]

for (const golden of goldenCases) {
  test(`golden: ${golden.name}`, async (t) => {
    const sources = golden.input.map((file) => fileSource(path.join(GOLDEN, file)))
    const { svg } = await renderToString({ sources }, { ...golden.options, pretty: true })
    const expectedPath = path.join(GOLDEN, `${golden.name}.svg`)
    if (BLESS || !existsSync(expectedPath)) {
      writeFileSync(expectedPath, svg)
      t.log(`wrote ${path.relative(process.cwd(), expectedPath)}`)
    }
    t.true(XMLValidator.validate(svg) === true, 'well-formed XML')
    t.is(svg, readFileSync(expectedPath, 'utf8'))
  })
}

test('stacks merge in a tree: a frame whose name prefixes a sibling is not split (flamegraph.pl splits it)', async (t) => {
  const input = ['a.py:f:1 5', 'a.py:f:1;a.py:g:2 2', 'a.py:f:10 3', 'main;foo 1', 'main;foo;bar 2', 'main;foo.baz 4']
  const frames = framesOf((await renderToString(input, { minWidth: 0 })).svg)
  t.deepEqual(
    frames.filter((f) => f.name === 'f (a.py:1)').map((f) => f.count),
    ['7'],
  )
  t.deepEqual(
    frames.filter((f) => f.name === 'foo').map((f) => f.count),
    ['3'],
  )
  t.is(frames[0].count, '17')
  // Children sit inside their parent, in name order, without gaps.
  const main = frames.find((f) => f.name === 'main')!
  const children = frames.filter((f) => f.depth === 2 && f.x >= main.x && f.x < main.x + main.w)
  t.deepEqual(
    children.map((f) => f.name),
    ['foo', 'foo.baz'],
  )
  t.is(children[1].x, children[0].x + children[0].w)
})

test('minwidth leaves narrow frames out but keeps their samples in the parent', async (t) => {
  const input = ['root;big 990', 'root;tiny 5', 'root;tiny;deeper 3', 'root;small 5']
  const { svg, summary } = await renderToString(input, { minWidth: '1%' })
  const frames = framesOf(svg)
  t.deepEqual(
    frames.map((f) => `${f.name}=${f.count}`),
    ['all=1003', 'root=1003', 'big=990'],
  )
  t.is(summary.prunedSamples, '13')
  t.is(summary.prunedFrames, 3)
  t.is(summary.totalSamples, '1003')
  // In pixels: at 1180 px for 1003 samples, tiny (8 samples) is 9.4 px.
  const pixels = framesOf((await renderToString(input, { minWidth: 10 })).svg)
  t.false(pixels.some((f) => f.name === 'tiny'))
  t.true(framesOf((await renderToString(input, { minWidth: 9 })).svg).some((f) => f.name === 'tiny'))
})

test('input as people have it: comments, blank lines, CRLF, fractions, huge counts, annotations', async (t) => {
  const input = ['# austin header', '', 'a;b 0.1\r', 'a;b 0.2', '  ', 'a;c_[k] 1', 'a;c 1', 'x 9007199254740993', 'x;y 9007199254740993']
  const frames = framesOf((await renderToString(input, { minWidth: 0 })).svg)
  const count = (name: string, depth: number): string[] => frames.filter((f) => f.name === name && f.depth === depth).map((f) => f.count)
  t.deepEqual(count('b', 2), ['0.3'])
  t.deepEqual(count('a', 1), ['2.3'])
  // `c_[k]` and `c` are different frames (kernel and user), both shown as `c`.
  t.deepEqual(count('c', 2), ['1', '1'])
  t.deepEqual(count('x', 1), ['18014398509481986'])
  t.deepEqual(count('y', 2), ['9007199254740993'])
  t.is(frames[0].count, '18014398509481988.3')
})

test('several files merge', async (t) => {
  const first = fileSource(path.join(GOLDEN, 'flamechart.folded'))
  const second = fileSource(path.join(GOLDEN, 'flamechart.folded'))
  const frames = framesOf((await renderToString({ sources: [first, second] }, {})).svg)
  t.deepEqual(
    frames.map((f) => `${f.name}=${f.count}`),
    ['all=20', 'main=20', 'compute=12', 'inner=8', 'load=8'],
  )
})

test('input is read as bytes: a line, and a character, may be cut between two chunks', async (t) => {
  const bytes = Buffer.from('main;caf\u00e9 2\r\nmain;na\u00efve;\ud83d\udd25 3\nmain;caf\u00e9 1')
  const chunks = [...Array(bytes.length).keys()].filter((i) => i % 3 === 0).map((i) => bytes.subarray(i, i + 3))
  const { svg, summary } = await renderToString({ sources: [{ name: 'cut', chunks }] }, { minWidth: 0 })
  t.deepEqual(
    framesOf(svg).map((f) => `${f.name}=${f.count}`),
    ['all=6', 'main=6', 'café=3', 'naïve=3', '🔥=3'],
  )
  t.is(summary.stacks, 3)
})

test('a malformed line stops the render with its line number; --skip-invalid warns and counts', async (t) => {
  const bad = 'a;b 3\n# fine\nno-count-here\na;c 2\nbad count x\n'
  const failed = await runCommand(['render', '-'], bad)
  t.is(failed.code, 1)
  t.regex(failed.stderr, /<stdin>:3: expected "stack count", found no count after a space; fix the line, or pass --skip-invalid .*\(ERR_INVALID_ARGUMENT\)/)
  t.is(failed.stdout, '')
  const skipped = await runCommand(['render', '-', '--skip-invalid'], bad)
  t.is(skipped.code, 0)
  t.regex(skipped.stderr, /skipped <stdin>:3/)
  t.regex(skipped.stderr, /skipped <stdin>:5: the count "x" is not a non-negative number/)
  t.deepEqual(
    framesOf(skipped.stdout).map((f) => `${f.name}=${f.count}`),
    ['all=5', 'a=5', 'b=3', 'c=2'],
  )
  const missing = await runCommand(['render', '/nonexistent/file.folded'])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /cannot read \/nonexistent\/file.folded \(ENOENT\).*ERR_READ_FAILED/)
})

const HOSTILE = ['<img src=x onerror=alert(1)>', '"]]></script><script>alert(2)</script>', 'ctl\u0000\u0001\u0007\u001b\u007fchars', 'emoji 🔥🐍 (app.py:1)', "it's & <b>bold</b>", 'lone \ud800 surrogate', '--> <!-- comment']

test('hostile frame names and texts give well-formed XML, shown as text, never in the script', async (t) => {
  const input = HOSTILE.map((name, i) => `main;${name} ${i + 1}`)
  const { svg } = await renderToString(input, { title: 'T<&>"\u0002', subtitle: ']]>', notes: '<x> -- & \u0001', countName: '<b>', nameType: '"];alert(3);//', minWidth: 0 })
  t.is(XMLValidator.validate(svg), true)
  const parsed = new XMLParser({ ignoreAttributes: false, processEntities: true }).parse(svg)
  t.truthy(parsed.svg)
  const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1])
  t.true(titles.some((title) => title.startsWith('&lt;img src=x onerror=alert(1)&gt; (')))
  t.true(titles.some((title) => title.startsWith('emoji 🔥🐍 (app.py:1) (')))
  t.true(titles.some((title) => title.startsWith('ctl\ufffd\ufffd\ufffd\ufffd\ufffdchars (')))
  t.true(titles.some((title) => title.startsWith('lone \ufffd surrogate (')))
  t.false(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(svg))
  // The script section is exactly our script: nothing from names or options got into it.
  const script = /<script type="text\/ecmascript"><!\[CDATA\[\n([\s\S]*?)\]\]><\/script>/.exec(svg)
  t.truthy(script)
  t.is(script![1], FLAMEGRAPH_SCRIPT)
  t.is(svg.split('<script').length, 2)
  t.regex(svg, /fg:nametype="&quot;\];alert\(3\);\/\/"/)
  t.regex(svg, /<text id="title" x="50%" y="24">T&lt;&amp;&gt;&quot;\ufffd<\/text>/)
})

test('python palette: your code, the standard library and site-packages in distinct hues; colours are deterministic', (t) => {
  t.is(pythonKind('/srv/app/views.py:render:12'), 'user')
  t.is(pythonKind('render (app/views.py:12)'), 'user')
  t.is(pythonKind('/usr/lib/python3.11/json/encoder.py:encode:199'), 'stdlib')
  t.is(pythonKind('encode (/usr/lib/python3.11/json/encoder.py:199)'), 'stdlib')
  t.is(pythonKind('<frozen importlib._bootstrap>:_find_and_load:1'), 'stdlib')
  t.is(pythonKind('get (/srv/venv/lib/python3.11/site-packages/requests/api.py:73)'), 'third-party')
  t.is(pythonKind('/srv/venv/lib/python3.11/site-packages/requests/api.py:get:73'), 'third-party')
  t.is(pythonKind('(idle)'), 'idle')
  t.is(pythonKind('process 1234'), 'run')
  t.is(pythonKind('thread (4243): MainThread'), 'run')
  const hue = (color: string): string => {
    const [r, g, b] = color.match(/\d+/g)!.map(Number)
    return r > 180 && b < 80 && g < 240 && r > g + 20 ? 'warm' : r > 150 && g > 150 && b < 90 ? 'yellow' : g > 150 && b > 150 && r < 120 ? 'aqua' : 'other'
  }
  t.is(hue(frameColor('/srv/app/views.py:render:12', 'python', false)), 'warm')
  t.is(hue(frameColor('/usr/lib/python3.11/json/encoder.py:encode:199', 'python', false)), 'yellow')
  t.is(hue(frameColor('/srv/venv/lib/python3.11/site-packages/requests/api.py:get:73', 'python', false)), 'aqua')
  // Same function, same colour, whatever the line and whatever else is in the graph.
  t.is(frameColor('/srv/app/views.py:render:12', 'python', false), frameColor('/srv/app/views.py:render:99', 'python', false))
  t.is(frameColor('render (/srv/app/views.py:12)', 'python', false), frameColor('render (/srv/app/views.py:40)', 'python', false))
  t.not(frameColor('/srv/app/views.py:render:12', 'python', false), frameColor('/srv/app/views.py:parse:12', 'python', false))
  t.is(frameColor('x', 'hot', true), frameColor('x', 'hot', true))
})

test('same function, same colour in two different graphs', async (t) => {
  const one = framesOf((await renderToString(['a;shared 1', 'a;b 3'])).svg)
  const two = framesOf((await renderToString(['z;y;x 4', 'q;shared 9'])).svg)
  t.is(one.find((f) => f.name === 'shared')!.fill, two.find((f) => f.name === 'shared')!.fill)
})

test('options: inverted puts the root on top, reverse flips stacks, flamechart keeps time order, width is fixed', async (t) => {
  const input = ['main;load 3', 'main;compute 2', 'main;load 1']
  const straight = (await renderToString(input)).svg
  const inverted = (await renderToString(input, { inverted: true })).svg
  const rootY = (svg: string): number => Number(/<rect x="0%" y="([\d.]+)"/.exec(svg)![1])
  const leafY = (svg: string): number => Number([...svg.matchAll(/<rect x="[^"]*" y="([\d.]+)"/g)].pop()![1])
  t.true(rootY(straight) > leafY(straight))
  t.true(rootY(inverted) < leafY(inverted))
  t.regex(inverted, /<text id="title"[^>]*>Icicle Graph</)
  t.deepEqual(
    framesOf((await renderToString(input, { reverse: true })).svg).map((f) => `${f.depth}:${f.name}=${f.count}`),
    ['0:all=6', '1:compute=2', '2:main=2', '1:load=4', '2:main=4'],
  )
  t.deepEqual(
    framesOf((await renderToString(input, { flamechart: true })).svg).map((f) => `${f.name}@${f.x}`),
    ['all@0', 'main@0', 'load@0', 'compute@3', 'load@5'],
  )
  const fixed = (await renderToString(input, { width: 900 })).svg
  t.regex(fixed, /<svg version="1.1" width="900" /)
  t.regex(fixed, /<svg id="frames" x="10" width="880" /)
  t.regex(straight, /<svg version="1.1" width="100%" /)
})

test('labels fit by character count: cut with "..", hidden below 3 characters', async (t) => {
  const input = ['a_very_long_function_name_that_cannot_fit_in_a_narrow_box 1', 'other 199']
  const frames = framesOf((await renderToString(input, { width: 1200, minWidth: 0 })).svg)
  const narrow = frames.find((f) => f.name.startsWith('a_very'))!
  // 1180 px × 1/200 = 5.9 px: no room for 3 characters.
  t.is(narrow.text, '')
  const wide = framesOf((await renderToString(['a_very_long_function_name_that_cannot_fit_in_a_narrow_box 30', 'other 170'], { width: 1200 })).svg).find((f) => f.name.startsWith('a_very'))!
  // 177 px: floor((177 - 3) / 7.2) = 24 characters, 22 kept and "..".
  t.is(wide.text, 'a_very_long_function_n..')
})
