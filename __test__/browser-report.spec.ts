// The HTML report in headless Chromium, opened from disk as a user would: a real recording's
// metadata, the flame graph and icicle views, the function table (against the folded profile
// of the same recording), the sandwich view of the slowest function, search with "Matched: x%"
// (against the folded lines), and a diff report's legend and both width directions. Screenshots
// are saved; with PYFLAME_DOCS_SCREENSHOTS=1 they are copied to docs/ (the README's images).

import test from 'ava'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { syntheticFolded } from '../bench/render-input.mjs'
import { sample } from '../src'
import { functionFirstLabel } from '../src/folded/labels'
import { CHROMIUM, hasChromium, launchChromium } from './helpers/browser'
import { spawnPython } from './helpers/pythons'
import { newestPython3 } from './safety-support'

const ROOT = path.join(__dirname, '..')
const CLI = path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js')
const TMP = path.join(__dirname, '.tmp', `browser-report-${process.pid}`)
const DOCS = path.join(ROOT, 'docs')
const python = newestPython3(8)
const ready = hasChromium() && python !== undefined && existsSync(CLI)
if (!ready) console.log(`browser report tests skipped: need ${CHROMIUM}, a Python 3.8+ and a built dist/ (npm run build)`)
const browserTest = ready ? test.serial : test.serial.skip
let browser: Browser | undefined

test.before(async () => {
  mkdirSync(TMP, { recursive: true })
  if (ready) browser = await launchChromium()
})

test.after.always(async () => {
  await browser?.close()
  rmSync(TMP, { recursive: true, force: true })
})

async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } })
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  // No request may leave the file: the report is self-contained.
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) errors.push(`network request: ${request.url()}`)
  })
  await page.goto(pathToFileURL(file).href)
  await page.waitForSelector('body[data-ready=true]')
  return { page, errors }
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(TMP, name)
  await page.screenshot({ path: file })
  if (process.env.PYFLAME_DOCS_SCREENSHOTS === '1') copyFileSync(file, path.join(DOCS, name))
}

/** The colour of the canvas pixel at (x, y) CSS pixels. */
function pixel(page: Page, id: string, x: number, y: number): Promise<number[]> {
  return page.evaluate(
    ([id, x, y]) => {
      const canvas = document.getElementById(id as string) as HTMLCanvasElement
      const ratio = canvas.width / canvas.clientWidth
      return Array.from(canvas.getContext('2d')!.getImageData(Math.floor((x as number) * ratio), Math.floor((y as number) * ratio), 1, 1).data.slice(0, 3))
    },
    [id, x, y],
  )
}

/** Parses folded text: stack frames and count per line. */
function foldedLines(text: string): Array<{ frames: string[]; count: number }> {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const space = line.lastIndexOf(' ')
      return { frames: line.slice(0, space).split(';'), count: Number(line.slice(space + 1)) }
    })
}

/** "Matched: x%" as the page prints it, from folded lines: samples under any matching frame. */
function expectedMatched(lines: Array<{ frames: string[]; count: number }>, pattern: RegExp): string {
  let total = 0
  let matched = 0
  for (const line of lines) {
    total += line.count
    if (line.frames.some((frame) => pattern.test(functionFirstLabel(frame)))) matched += line.count
  }
  return `Matched: ${((100 * matched) / total).toFixed(1)}%`
}

browserTest('a recording: metadata, flame and icicle, the function table against the folded profile, the slowest function in the sandwich view', async (t) => {
  t.timeout(120_000)
  const target = await spawnPython(python!.path, path.join(ROOT, 'examples', 'demo_app.py'))
  try {
    // One recording, two outputs: the folded text is the truth the page is checked against.
    const profile = await sample({ pid: target.pid, seconds: 2, rate: 0.005 })
    const folded = profile.toFolded({ excludeIdle: true })
    // Every sampling error is counted under a kind.
    t.is(profile.raw.errorKinds.reduce((sum, kind) => sum + kind.count, 0), profile.errors)
    const html = await profile.toHtml({ excludeIdle: true, commandLine: `${python!.path} examples/demo_app.py` })
    const file = path.join(TMP, 'recording.html')
    writeFileSync(file, html)
    const { page, errors } = await open(file)

    const meta = await page.locator('#meta').innerText()
    t.true(meta.includes(profile.pythonVersion), meta)
    t.true(meta.includes(String(target.pid)), meta)
    t.regex(meta, /demo_app\.py/)
    t.regex(meta, /Hz achieved of 200 Hz asked/)
    t.regex(meta, /Duration\s+2\.\d\d s/)
    t.regex(meta, /Errors\s+\d+/)

    // Flame graph: the root row at the bottom of the canvas; icicle: at the top.
    const height = await page.locator('#graph').evaluate((c) => c.clientHeight)
    t.deepEqual(await pixel(page, 'graph', 1, height - 3), [235, 235, 235])
    await screenshot(page, 'report-flame.png')
    await page.click('[data-view=icicle]')
    t.deepEqual(await pixel(page, 'graph', 1, 2), [235, 235, 235])

    // Function table, by self share: the first row is the leaf with most samples in the folded text.
    const lines = foldedLines(folded)
    const total = lines.reduce((sum, line) => sum + line.count, 0)
    const self = new Map<string, number>()
    for (const line of lines) {
      const leaf = functionFirstLabel(line.frames[line.frames.length - 1])
      self.set(leaf, (self.get(leaf) ?? 0) + line.count)
    }
    const [slowest, slowestCount] = [...self].sort((a, b) => b[1] - a[1])[0]
    await page.click('[data-view=table]')
    const first = page.locator('#table-body tr').first()
    const cells = await first.locator('td').allInnerTexts()
    t.is(await first.locator('td').first().getAttribute('title'), slowest)
    const share = (100 * slowestCount) / total
    const se = 100 * Math.sqrt((share / 100) * (1 - share / 100) / total)
    t.is(cells[1], `${share.toFixed(2)}% \u00b1${se.toFixed(2)}`)
    t.is(cells[3], slowestCount.toLocaleString('en-US'))
    // Sorting: by total, descending, then ascending.
    await page.click('th[data-key=total]')
    const totals = (await page.locator('#table-body tr td:nth-child(3)').allInnerTexts()).map((text) => parseFloat(text))
    t.deepEqual(totals, [...totals].sort((a, b) => b - a))
    t.is(totals[0], 100, 'the outermost frame holds every sample')
    await page.click('th[data-key=total]')
    const ascending = (await page.locator('#table-body tr td:nth-child(3)').allInnerTexts()).map((text) => parseFloat(text))
    t.deepEqual(ascending, [...ascending].sort((a, b) => a - b))
    await page.click('th[data-key=self]')
    await screenshot(page, 'report-table.png')

    // Sandwich: its callers, each with the share of samples that came through it.
    await first.click()
    t.true(await page.locator('#sandwich-panel').isVisible())
    t.is(await page.locator('#sandwich-name').textContent(), slowest)
    const callers = new Map<string, number>()
    for (const line of lines) {
      const leaf = functionFirstLabel(line.frames[line.frames.length - 1])
      if (leaf !== slowest || line.frames.length < 2) continue
      const caller = functionFirstLabel(line.frames[line.frames.length - 2])
      callers.set(caller, (callers.get(caller) ?? 0) + line.count)
    }
    const shown = await page.locator('#callers-list .neighbour').evaluateAll((items) => items.map((item) => [(item as HTMLElement).title, item.textContent]))
    t.true(shown.length > 0)
    for (const [label, text] of shown) {
      const expected = callers.get(label!)
      // Through `slowest` only as a leaf here, so callers seen elsewhere (it calling further) may add more.
      t.truthy(expected, `caller ${label} of ${slowest}`)
      t.true(text!.endsWith('%'), text!)
      t.true(parseFloat(text!.slice(text!.lastIndexOf(' ') + 1)) >= Number(((100 * expected!) / total).toFixed(2)) - 0.01, `${text} vs ${expected}`)
    }
    await screenshot(page, 'report-sandwich.png')
    t.deepEqual(errors, [])
  } finally {
    target.kill()
  }
})

browserTest('record -o report.html from the command line writes the report; render --html of a folded file opens too', async (t) => {
  t.timeout(120_000)
  const target = await spawnPython(python!.path, path.join(ROOT, 'examples', 'demo_app.py'))
  try {
    const file = path.join(TMP, 'cli.html')
    const run = spawnSync(process.execPath, [CLI, 'record', '-p', String(target.pid), '-s', '1', '-o', file], { encoding: 'utf8', timeout: 60_000 })
    t.is(run.status, 0, run.stderr)
    const { page, errors } = await open(file)
    t.regex(await page.locator('#meta').innerText(), new RegExp(`PID\\s+${target.pid}`))
    t.regex(await page.locator('#meta').innerText(), /Command\s+\S*python\S* \S*demo_app\.py/)
    t.deepEqual(errors, [])
  } finally {
    target.kill()
  }
  const folded = path.join(TMP, 'pyflame.folded')
  writeFileSync(folded, '/srv/app/main.py:<module>:1;/srv/app/main.py:main:30;/srv/app/cache.py:cache_lookup:40 30\n/srv/app/main.py:<module>:1;/srv/app/main.py:main:31 10\n')
  const html = path.join(TMP, 'render.html')
  t.is(spawnSync(process.execPath, [CLI, 'render', folded, '--html', '-o', html]).status, 0)
  const { page } = await open(html)
  await page.click('[data-view=table]')
  // Function first, file names short (relative to their common directory), full path on hover.
  const first = page.locator('#table-body tr').first().locator('td').first()
  t.is(await first.textContent(), 'cache_lookup (cache.py:40)')
  t.is(await first.getAttribute('title'), 'cache_lookup (/srv/app/cache.py:40)')
})

browserTest('search highlights matches and "Matched: x%" equals the share of the folded lines; zoom narrows it', async (t) => {
  const lines = [...syntheticFolded(3000, 11)]
  const file = path.join(TMP, 'synthetic.folded')
  writeFileSync(file, lines.join('\n') + '\n')
  const html = path.join(TMP, 'synthetic.html')
  t.is(spawnSync(process.execPath, [CLI, 'render', file, '-o', html]).status, 0)
  const { page, errors } = await open(html)
  const parsed = foldedLines(lines.join('\n'))
  await page.keyboard.press('Control+f')
  t.true(await page.locator('#search').evaluate((e) => e === document.activeElement), 'Ctrl-F focuses the search box')
  await page.keyboard.type('^fetch_')
  t.is(await page.locator('#matched').textContent(), expectedMatched(parsed, /^fetch_/))
  // A highlighted frame is magenta somewhere on the canvas.
  const magenta = await page.locator('#graph').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    for (let i = 0; i < data.length; i += 4) if (data[i] === 230 && data[i + 1] === 0 && data[i + 2] === 230) return true
    return false
  })
  t.true(magenta)
  // The search box stands out: a visible border, full opacity.
  t.is(await page.locator('#search').evaluate((e) => getComputedStyle(e).opacity), '1')
  t.not(await page.locator('#search').evaluate((e) => getComputedStyle(e).borderTopWidth), '0px')
  await page.fill('#search', 'no_such_function_anywhere')
  t.is(await page.locator('#matched').textContent(), 'Matched: 0.0%')
  await page.fill('#search', '(')
  t.true(await page.locator('#search').evaluate((e) => e.classList.contains('invalid')), 'an invalid regex is marked, not thrown')
  await page.click('#clear')
  t.is(await page.locator('#matched').textContent(), '')
  // Zoom: clicking the root's widest child shows Reset zoom; Escape zooms out.
  const height = await page.locator('#graph').evaluate((c) => c.clientHeight)
  await page.locator('#graph').click({ position: { x: 640, y: height - 18 - 9 } })
  t.true(await page.locator('#reset').isVisible())
  await page.keyboard.press('Escape')
  t.false(await page.locator('#reset').isVisible())
  t.deepEqual(errors, [])
})

browserTest('a diff report: legend, the ranked change table, and both directions (a removed function is visible with before widths)', async (t) => {
  const before = ['main;handle;cache_lookup 50', 'main;handle;render 50', 'main;loop 100']
  const after = ['main;handle;render 60', 'main;loop 130', 'main;handle;new_cache 10']
  writeFileSync(path.join(TMP, 'before.txt'), before.join('\n') + '\n')
  writeFileSync(path.join(TMP, 'after.txt'), after.join('\n') + '\n')
  const html = path.join(TMP, 'diff.html')
  const run = spawnSync(process.execPath, [CLI, 'diff', path.join(TMP, 'before.txt'), path.join(TMP, 'after.txt'), '--html', '-o', html], { encoding: 'utf8' })
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^cache_lookup +25\.0% \[[^\]]+\] → 0\.0% \[[^\]]+\] +\(−25\.0 pp\) +significant$/m)
  const { page, errors } = await open(html)
  const legend = await page.locator('#legend').innerText()
  t.regex(legend, /share grew/)
  t.regex(legend, /share shrank/)
  // After widths: cache_lookup is gone, so nothing matches it.
  await page.fill('#search', '^cache_lookup$')
  t.is(await page.locator('#matched').textContent(), 'Matched: 0.0%')
  await screenshot(page, 'report-diff.png')
  // Before widths: it is there, a quarter of the samples, and drawn in blue (it shrank).
  await page.check('input[name=widths][value=before]')
  t.is(await page.locator('#matched').textContent(), 'Matched: 25.0%')
  t.regex(await page.locator('#legend').innerText(), /before profile/)
  await page.fill('#search', '')
  await screenshot(page, 'report-diff-before.png')
  const height = await page.locator('#graph').evaluate((c) => c.clientHeight)
  // Depth 3 (all, main, handle, cache_lookup): cache_lookup is the leftmost frame of that row.
  const [r, g, b] = await pixel(page, 'graph', 20, height - 3 * 18 - 9)
  t.true(b > 200 && r < 150 && g < 150, `cache_lookup drawn blue: ${r},${g},${b}`)
  // The ranked change table: largest change first, signs and colours.
  await page.click('[data-view=table]')
  const rows = await page.locator('#table-body tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)))
  t.deepEqual(rows[0].slice(0, 3), ['cache_lookup', '25.00%', '0.00%'])
  t.regex(rows[0][3]!, /^−25\.00 pp ±\d+\.\d\d$/)
  t.is(await page.locator('#table-body tr td:nth-child(4)').first().getAttribute('class'), 'shrank')
  await screenshot(page, 'report-diff-table.png')
  t.deepEqual(errors, [])
})
