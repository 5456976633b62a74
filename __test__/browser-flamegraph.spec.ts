// The flame graph in a real browser (headless Chromium, file:// URL): hover shows the details
// line, click zooms, Ctrl-F searches with a regular expression and "Matched: x%" equals the
// share computed independently from the folded lines, the URL keeps zoom and search, and
// hostile frame names never run as script. Also logs the script's time to open and to zoom a
// 100k-frame graph (measured, not asserted: timing belongs in bench/).

import test from 'ava'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { syntheticFolded } from '../bench/render-input.mjs'
import { CHROMIUM, hasChromium, launchChromium } from './helpers/browser'
import { framesOf, renderToString } from './helpers/flamegraph'

const TMP = path.join(__dirname, '.tmp', `browser-flamegraph-${process.pid}`)
const available = hasChromium()
let browser: Browser | undefined

test.before(async () => {
  mkdirSync(TMP, { recursive: true })
  if (available) browser = await launchChromium()
})

test.after.always(async () => {
  await browser?.close()
  rmSync(TMP, { recursive: true, force: true })
})

async function writeSvg(name: string, lines: string[], options = {}): Promise<string> {
  const { svg } = await renderToString(lines, options)
  const file = path.join(TMP, name)
  writeFileSync(file, svg)
  return pathToFileURL(file).href
}

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } })
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(url)
  await page.waitForFunction(() => typeof (window as unknown as { search?: unknown }).search === 'function' && document.getElementById('frames')!.children.length > 0)
  return { page, errors }
}

/** Percent of samples in lines where a frame (below `prefix`) matches, as the SVG prints it. */
function expectedMatched(lines: string[], pattern: RegExp, prefix: string[] = []): string {
  let matched = 0
  let total = 0
  for (const line of lines) {
    const space = line.lastIndexOf(' ')
    const frames = line.slice(0, space).split(';')
    const count = Number(line.slice(space + 1))
    if (prefix.some((frame, i) => frames[i] !== frame)) continue
    total += count
    if (frames.slice(prefix.length - 1 < 0 ? 0 : prefix.length - 1).some((frame) => pattern.test(frame))) matched += count
  }
  const pct = (100 * matched) / total
  return `Matched: ${pct === 100 ? '100' : pct.toFixed(1)}%`
}

/** Frames the browser does not display. */
function hiddenFrames(page: Page): Promise<number> {
  return page.evaluate(() => [...document.getElementById('frames')!.children].filter((g) => getComputedStyle(g).display === 'none').length)
}

/** A test that needs Chromium: registered as skipped (ava counts it so) when it is absent. */
function browserTest(title: string, body: (t: import('ava').ExecutionContext) => Promise<void>): void {
  ;(available ? test : test.skip)(title, body)
}
if (!available) console.log(`${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it): the browser tests are skipped`)

const LINES = [...syntheticFolded(400, 7)]

browserTest('hover shows the details line, click zooms, Ctrl-F search gives Matched % equal to the folded data, URL keeps the view', async (t) => {
  const url = await writeSvg('synthetic.svg', LINES, { minWidth: 0 })
  const { page, errors } = await open(url)
  const frames = framesOf((await renderToString(LINES, { minWidth: 0 })).svg)
  // The Search button is plainly visible (it was at 10 % opacity until hovered).
  t.is(await page.locator('#search').evaluate((e) => getComputedStyle(e).opacity), '1')

  // Hover the widest frame at depth 3 (under the two roots).
  const target = frames.map((f, i) => ({ ...f, i })).filter((f) => f.depth === 3).sort((a, b) => b.w - a.w)[0]
  const group = page.locator('#frames > g').nth(target.i)
  await group.hover()
  const title = await group.locator('title').textContent()
  t.is(await page.locator('#details').textContent(), `Function: ${title}`)
  t.regex(title!, new RegExp(`^.* \\(${Number(target.count).toLocaleString('en-US')} samples, [\\d.]+%\\)$`))

  // Search before zooming: Ctrl-F opens the prompt.
  page.once('dialog', (dialog) => void dialog.accept('^fetch_'))
  await page.keyboard.press('Control+f')
  await page.waitForFunction(() => document.getElementById('matched')!.textContent!.startsWith('Matched'))
  t.is(await page.locator('#matched').textContent(), expectedMatched(LINES, /^fetch_/))
  t.true((await page.locator('#frames rect[fill="rgb(230,0,230)"]').count()) > 0)

  // Click to zoom: the frame fills the width, frames beside it hide, ancestors fade.
  await group.click()
  t.is(await group.locator('rect').getAttribute('width'), '100.0000%')
  t.is(await page.locator('#frames > g').nth(0).getAttribute('class'), 'parent')
  t.true((await hiddenFrames(page)) > 0)
  t.false(await page.locator('#unzoom').evaluate((e) => e.classList.contains('hide')))
  // Matched % now covers the zoomed frame only: stacks through it.
  const prefix = LINES.map((l) => l.split(';')).find((f) => f[2] === target.name)!.slice(0, 3)
  t.is(await page.locator('#matched').textContent(), expectedMatched(LINES, /^fetch_/, prefix))
  const zoomedUrl = page.url()
  t.regex(zoomedUrl, new RegExp(`\\?x=${target.x}&y=3&s=%5Efetch_$`))

  // The URL reopens the same view.
  const { page: reopened } = await open(zoomedUrl)
  t.is(await reopened.locator('#matched').textContent(), expectedMatched(LINES, /^fetch_/, prefix))
  t.is(await reopened.locator('#frames > g').nth(target.i).locator('rect').getAttribute('width'), '100.0000%')
  await reopened.close()

  // Reset Zoom restores the whole graph; case-insensitive toggle (Ctrl-I) changes the match.
  await page.click('#unzoom')
  t.is(await hiddenFrames(page), 0)
  t.is(await page.locator('#matched').textContent(), expectedMatched(LINES, /^fetch_/))
  page.once('dialog', (dialog) => void dialog.accept('^FETCH_'))
  await page.click('#search') // resets the current search
  await page.click('#search') // asks for a new one
  t.is(await page.locator('#matched').textContent(), 'Matched: 0.0%')
  await page.keyboard.press('Control+i')
  t.is(await page.locator('#matched').textContent(), expectedMatched(LINES, /^fetch_/))
  t.regex(page.url(), /s=%5EFETCH_&i=1/)
  t.deepEqual(errors, [])
  await page.close()
})

browserTest('nested matches are counted once: Matched % of a recursive function', async (t) => {
  const lines = ['main;fib;fib;fib 6', 'main;fib 2', 'main;other;fib 1', 'main;other 1', 'idle 10']
  const { page } = await open(await writeSvg('recursive.svg', lines, { minWidth: 0 }))
  await page.evaluate(() => (window as unknown as { search(term: string): void }).search('^fib$'))
  // 9 of 20 samples have fib on their stack.
  t.is(await page.locator('#matched').textContent(), 'Matched: 45.0%')
  t.is(expectedMatched(lines, /^fib$/), 'Matched: 45.0%')
  await page.close()
})

browserTest('hostile frame names stay text: nothing injected runs', async (t) => {
  const hostile = [
    'main;<img src=x onerror="window.__pwned=1,alert(1)"> 5',
    'main;"]]></script><script>window.__pwned=2,alert(2)</script> 3',
    `main;</title><script>window.__pwned=3</script> 2`,
    'main;\u0001\u0000ctl 1',
    'main;emoji 🔥🐍 1',
  ]
  const { page, errors } = await open(await writeSvg('hostile.svg', hostile, { minWidth: 0, title: '<script>window.__pwned=4</script>', nameType: '");window.__pwned=5;//' }))
  let dialogs = 0
  page.on('dialog', (dialog) => {
    dialogs++
    void dialog.dismiss()
  })
  for (let i = 0; i < hostile.length + 2; i++) await page.locator('#frames > g').nth(i).hover()
  await page.locator('#frames > g').nth(2).hover()
  const details = await page.locator('#details').textContent()
  t.true(details!.startsWith('");window.__pwned=5;// '))
  await page.locator('#frames > g').nth(2).click()
  await page.evaluate(() => (window as unknown as { search(term: string): void }).search('script'))
  t.is(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined)
  t.is(await page.locator('script').count(), 1)
  t.is(dialogs, 0)
  t.is(await page.locator('#title').textContent(), '<script>window.__pwned=4</script>')
  const names = await page.locator('#frames title').allTextContents()
  t.true(names.some((n) => n.startsWith('<img src=x onerror="window.__pwned=1,alert(1)"> (')))
  t.true(names.some((n) => n.startsWith('emoji 🔥🐍 (')))
  t.deepEqual(errors, [])
  await page.close()
})

browserTest('100k frames: open and zoom times (logged, not asserted)', async (t) => {
  const lines = [...syntheticFolded(3300, 11)]
  const { svg, summary } = await renderToString(lines, { minWidth: 0 })
  const file = path.join(TMP, 'large.svg')
  writeFileSync(file, svg)
  t.true(summary.drawnFrames >= 100_000, `${summary.drawnFrames} frames`)
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } })
  await page.addInitScript(() => {
    const w = window as unknown as { __initMs?: number; init?: (evt: unknown) => void }
    window.addEventListener('DOMContentLoaded', () => {
      const original = w.init!
      w.init = (evt: unknown) => {
        const start = performance.now()
        original(evt)
        w.__initMs = performance.now() - start
      }
    })
  })
  const started = Date.now()
  // Parsing a 20 MB file takes a while on a loaded machine: generous limits, nothing asserted.
  await page.goto(pathToFileURL(file).href, { timeout: 300_000 })
  await page.waitForFunction(() => (window as unknown as { __initMs?: number }).__initMs !== undefined, null, { timeout: 300_000 })
  const loadMs = Date.now() - started
  const initMs = await page.evaluate(() => (window as unknown as { __initMs?: number }).__initMs)
  // Script time, then script + the browser's restyle and paint (to the next frame), for a zoom
  // near the root and one deep in the graph. (No named functions inside evaluate: tsx would
  // wrap them in a helper the page does not have.)
  const zoomMs = await page.evaluate(async (deep) => {
    const w = window as unknown as { zoom(i: number): void; unzoom(): void }
    const times: string[] = []
    for (const index of [5, deep]) {
      let start = performance.now()
      w.zoom(index)
      const script = performance.now() - start
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))
      times.push(`zoom #${index} ${script.toFixed(0)} ms script / ${(performance.now() - start).toFixed(0)} ms painted`)
      start = performance.now()
      w.unzoom()
      const unscript = performance.now() - start
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))
      times.push(`unzoom ${unscript.toFixed(0)} ms / ${(performance.now() - start).toFixed(0)} ms`)
    }
    return times.join(', ')
  }, Math.floor(summary.drawnFrames / 2))
  const searchMs = await page.evaluate(() => {
    const start = performance.now()
    ;(window as unknown as { search(term: string): void }).search('^fetch_')
    return performance.now() - start
  })
  t.log(`${summary.drawnFrames} frames, ${(svg.length / 1e6).toFixed(1)} MB: page load ${loadMs} ms, init script ${initMs === undefined ? 'n/a' : initMs.toFixed(0) + ' ms'}, ${zoomMs}, search ${searchMs.toFixed(0)} ms`)
  t.regex((await page.locator('#matched').textContent())!, /^Matched: [\d.]+%$/)
  await page.close()
})
