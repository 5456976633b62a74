// HTML report benchmark: writes the interactive report of a folded file (`pyflame-ts render
// --html`) and opens it from disk in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core), timing what a user waits for:
//   open   navigation start → the page's script has drawn the flame graph (body[data-ready])
//   search typing a regular expression → "Matched: x%" shown and the graph redrawn
//   zoom   a click on a frame → the graph redrawn
//   table  the function table view shown (sorted)
// Usage: node bench/report.mjs [--lines 1000000] [--input FILE] [--repeat 3]
// The input is made by bench/render-input.mjs (seed 42) unless --input is given.

import { spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { syntheticFolded } from './render-input.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.join(HERE, '..')
const require = createRequire(import.meta.url)
const { chromium } = require('playwright-core')

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
const lines = Number(arg('lines', 1_000_000))
const repeat = Number(arg('repeat', 3))
const work = path.join(os.tmpdir(), 'pyflame-report-bench')
mkdirSync(work, { recursive: true })
let input = arg('input', undefined)
if (!input) {
  input = path.join(work, `synthetic-${lines}.folded`)
  if (!existsSync(input)) {
    const out = createWriteStream(input)
    for (const line of syntheticFolded(lines, 42)) if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r))
    await new Promise((r) => out.end(r))
  }
}

const html = path.join(work, 'report.html')
const started = process.hrtime.bigint()
const render = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js'), 'render', input, '--html', '-o', html], { encoding: 'utf8' })
if (render.status !== 0) throw new Error(render.stderr)
const [wall, user, sys, rssKb] = render.stderr.trim().split('\n').pop().split(' ').map(Number)
const renderWall = Number(process.hrtime.bigint() - started) / 1e9

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})
const runs = []
for (let i = 0; i < repeat; i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(pathToFileURL(html).href, { waitUntil: 'commit' })
  await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 })
  // Navigation start to the end of the script's first draw, by the page's own clock.
  const open = await page.evaluate(() => performance.now())
  const frames = await page.evaluate(() => JSON.parse(document.getElementById('report-data').textContent).parent.length)
  const search = await page.evaluate(async () => {
    const box = document.getElementById('search')
    const t0 = performance.now()
    box.value = '^fetch_'
    box.dispatchEvent(new Event('input'))
    await new Promise((r) => requestAnimationFrame(() => r()))
    return { ms: performance.now() - t0, matched: document.getElementById('matched').textContent }
  })
  const zoom = await page.evaluate(async () => {
    const canvas = document.getElementById('graph')
    const rect = canvas.getBoundingClientRect()
    const t0 = performance.now()
    canvas.dispatchEvent(new MouseEvent('click', { clientX: rect.left + rect.width / 2, clientY: rect.top + rect.height - 18 * 3 - 9, bubbles: true }))
    await new Promise((r) => requestAnimationFrame(() => r()))
    return performance.now() - t0
  })
  const table = await page.evaluate(async () => {
    const t0 = performance.now()
    document.querySelector('[data-view=table]').click()
    await new Promise((r) => requestAnimationFrame(() => r()))
    return performance.now() - t0
  })
  runs.push({ open, search: search.ms, matched: search.matched, zoom, table, frames, errors })
  await page.close()
}
await browser.close()

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const size = statSync(html).size
const inputSize = statSync(input).size
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`
const chromiumVersion = spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout.trim()
const text = `# HTML report benchmark

\`node bench/report.mjs --lines ${lines} --repeat ${repeat}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${chromiumVersion} headless, load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.

Input: ${lines.toLocaleString('en-US')} lines of seeded synthetic folded stacks (bench/render-input.mjs, seed 42), ${(inputSize / 1e6).toFixed(1)} MB.

| Step | Time (median of ${repeat}; all runs) |
|---|---|
| \`render --html\` (read, merge, write the page) | ${wall.toFixed(2)} s wall, ${(user + sys).toFixed(2)} s CPU, ${Math.round(rssKb / 1024)} MiB peak RSS |
| Page size | ${(size / 1e6).toFixed(1)} MB, ${runs[0].frames.toLocaleString('en-US')} frames kept |
| Open: navigation to the flame graph drawn | ${fmt(median(runs.map((r) => r.open)))} (${runs.map((r) => fmt(r.open)).join(', ')}) |
| Search \`^fetch_\` → Matched shown, redrawn | ${median(runs.map((r) => r.search)).toFixed(0)} ms (${runs.map((r) => r.search.toFixed(0)).join(', ')}); ${runs[0].matched} |
| Click to zoom → redrawn | ${median(runs.map((r) => r.zoom)).toFixed(0)} ms (${runs.map((r) => r.zoom.toFixed(0)).join(', ')}) |
| Function table shown | ${median(runs.map((r) => r.table)).toFixed(0)} ms (${runs.map((r) => r.table.toFixed(0)).join(', ')}) |

Page errors: ${runs.flatMap((r) => r.errors).length === 0 ? 'none' : runs.flatMap((r) => r.errors).join('; ')}.
`
writeFileSync(path.join(HERE, 'REPORT_RESULTS.md'), text)
console.log(text)
console.log(`render wall seen from here: ${renderWall.toFixed(2)} s`)
