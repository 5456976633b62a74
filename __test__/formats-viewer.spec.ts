// The formats opened in a real viewer: speedscope's own release build (from its npm package),
// served on 127.0.0.1 and driven in headless Chromium, imports our speedscope file and our
// Chrome trace (speedscope reads Chrome's trace event format too) from a real recording.

import test from 'ava'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { homedir } from 'node:os'
import * as path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { sample } from '../src/index'
import type { RawProfile } from '../src/types'
import { chromeTraceJson } from '../src/writers/chrometrace'
import { toSpeedscope } from '../src/writers/speedscope'
import { twoThreads, HOSTILE_NAME } from './fixtures/formats/profiles'

const ROOT = path.resolve(__dirname, '..')
const RELEASE = path.join(ROOT, 'node_modules', 'speedscope', 'dist', 'release')
const PROGRAM = path.join(__dirname, 'programs', 'formats_workers.py')
const PYTHON = path.join(homedir(), '.pyenv', 'versions', '3.12.1', 'bin', 'python')

function findChromium(): string | undefined {
  for (const candidate of [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (!candidate) continue
    const found = spawnSync('sh', ['-c', `command -v "${candidate}"`], { encoding: 'utf8' }).stdout.trim()
    if (found) return found
  }
  return undefined
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' }

/** Serves speedscope's release folder plus the files under test, on the loopback only. */
function serve(files: Map<string, string>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const name = url === '/' ? '/index.html' : url
    let body: string | Buffer | undefined = files.get(name)
    if (body === undefined) {
      const file = path.join(RELEASE, path.normalize(name))
      if (file.startsWith(RELEASE) && existsSync(file)) body = readFileSync(file)
    }
    if (body === undefined) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream' }).end(body)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })))
}

interface Opened {
  toolbar: string
  /** Text of speedscope's profile picker (opened by clicking the toolbar title). */
  profileList: string
  /** `<img src=x>` elements in the page: a hostile name that became markup. */
  injectedImages: number
  console: string[]
  errors: string[]
}

/** Opens one file in speedscope in a fresh page and reads what it shows. */
async function openInSpeedscope(browser: Browser, base: string, file: string): Promise<Opened> {
  const page = await browser.newPage()
  const consoleLines: string[] = []
  const errors: string[] = []
  page.on('console', (m) => {
    consoleLines.push(m.text())
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  try {
    await page.goto(`${base}/#profileURL=${encodeURIComponent(base + file)}`)
    // speedscope names the tab after the profile once the import has finished.
    await page.waitForFunction(() => document.title.endsWith(' - speedscope'), undefined, { timeout: 30_000 })
    const toolbar = await page.evaluate(() => document.body.innerText.split('\n').find((l) => /\(\d+\/\d+\)$/.test(l)) ?? '')
    await page.getByText(/\(\d+\/\d+\)$/).first().click({ force: true })
    const profileList = await page.evaluate(() => document.body.innerText)
    const injectedImages = await page.evaluate(() => document.querySelectorAll('img[src="x"]').length)
    return { toolbar, profileList, injectedImages, console: consoleLines, errors }
  } finally {
    await page.close()
  }
}

async function recordReal(): Promise<RawProfile> {
  const child: ChildProcess = spawn(PYTHON, [PROGRAM], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject)
      child.stdout!.once('data', () => resolve())
    })
    return (await sample({ pid: child.pid!, seconds: 1, rate: 0.005, timeline: true })).raw
  } finally {
    child.kill('SIGKILL')
  }
}

const chromiumPath = findChromium()

// Needs chromium, the speedscope package and the interpreter: skipped (and counted so) without them.
const viewerReady = Boolean(chromiumPath) && existsSync(path.join(RELEASE, 'index.html')) && existsSync(PYTHON)
if (!viewerReady) console.log(`speedscope viewer test skipped: needs chromium (${chromiumPath ?? 'absent'}), the speedscope package and ${PYTHON}`)
;(viewerReady ? test : test.skip)('speedscope opens our speedscope files and Chrome traces (real recording and hostile names)', async (t) => {
  t.timeout(180_000)
  const real = await recordReal()
  const realFile = toSpeedscope(real, { threads: true })
  const hostileFile = toSpeedscope(twoThreads(), { threads: true })
  const files = new Map<string, string>([
    ['/real.speedscope.json', JSON.stringify(realFile)],
    ['/hostile.speedscope.json', JSON.stringify(hostileFile)],
    ['/real-timeline.trace.json', chromeTraceJson(real, { threads: true })],
    ['/real-aggregated.trace.json', chromeTraceJson({ ...real, timeline: undefined }, { threads: true })],
    ['/hostile.trace.json', chromeTraceJson(twoThreads())],
  ])
  const { server, base } = await serve(files)
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
  try {
    for (const [file, speedscope] of [['/real.speedscope.json', realFile], ['/hostile.speedscope.json', hostileFile]] as const) {
      const opened = await openInSpeedscope(browser, base, file)
      t.deepEqual(opened.errors, [], file)
      t.true(opened.console.includes('Importing as speedscope json file'), `${file}: ${opened.console.slice(0, 5).join(' | ')}`)
      const active = speedscope.profiles[speedscope.activeProfileIndex]
      t.is(opened.toolbar, `${active.name} (${speedscope.activeProfileIndex + 1}/${speedscope.profiles.length})`, file)
      for (const profile of speedscope.profiles) t.true(opened.profileList.includes(profile.name), `${file}: ${profile.name} not listed`)
      t.is(opened.injectedImages, 0, file)
    }
    for (const file of ['/real-timeline.trace.json', '/real-aggregated.trace.json', '/hostile.trace.json']) {
      const opened = await openInSpeedscope(browser, base, file)
      t.deepEqual(opened.errors, [], file)
      t.true(opened.console.includes('Importing as Trace Event Format profile'), `${file}: ${opened.console.slice(0, 5).join(' | ')}`)
      const complaints = opened.console.filter((l) => /Tried to end|still open|out of order|unnamed/i.test(l))
      t.deepEqual(complaints.slice(0, 3), [], `${file}: speedscope's importer found mismatched events`)
      t.regex(opened.toolbar, /\(\d+\/\d+\)$/, file)
      if (file.startsWith('/real')) t.regex(opened.toolbar, /\(\d+\/3\)$/, `${file}: one profile per thread track`)
      if (file === '/hostile.trace.json') {
        t.is(opened.toolbar, 'python 100 (3.12.1) /usr/bin/python3.12 (pid 100), (idle): no thread held the GIL (tid 0) (1/3)')
        t.true(opened.profileList.includes(`thread 101 (${HOSTILE_NAME}) (tid 101)`), opened.profileList)
        t.is(opened.injectedImages, 0, 'the hostile thread name stayed text')
      }
    }
  } finally {
    await browser.close()
    server.close()
  }
})
