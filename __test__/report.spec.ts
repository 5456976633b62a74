// The HTML report's data, checked without a browser: the function table against self and total
// shares computed here from the folded lines (exact, pruned frames included), a diff's two
// columns, function-first labels for every folded dialect, the standard error, and a page that
// holds hostile names as data and loads nothing from outside.

import test from 'ava'
import { diffReport, renderReport, shareStandardError, type ReportData } from '../src/report'
import { fileShortener, functionFirstLabel } from '../src/folded/labels'
import { Profile } from '../src/profile'
import { profileMeta, profileSubtitle } from '../src/writers'
import { syntheticFolded } from '../bench/render-input.mjs'
import type { RawProfile } from '../src/types'

async function report(lines: string[], options = {}): Promise<{ html: string; data: ReportData }> {
  let html = ''
  await renderReport(lines, options, (chunk) => (html += chunk))
  return { html, data: dataOf(html) }
}

function dataOf(html: string): ReportData {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]
  return JSON.parse(json) as ReportData
}

/** Self and total samples per frame label, computed from folded lines (recursion counted once). */
function truth(lines: string[]): { total: number; self: Map<string, number>; inclusive: Map<string, number> } {
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  for (const line of lines) {
    const space = line.lastIndexOf(' ')
    const frames = line.slice(0, space).split(';')
    const count = Number(line.slice(space + 1))
    total += count
    const leaf = frames[frames.length - 1]
    self.set(leaf, (self.get(leaf) ?? 0) + count)
    for (const frame of new Set(frames)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + count)
  }
  return { total, self, inclusive }
}

test('the function table counts every frame exactly, including those too narrow to keep in the page', async (t) => {
  const lines = [...syntheticFolded(2000, 5)]
  const { data } = await report(lines, { minWidthPercent: 0.5 })
  t.true(data.frames.kept < data.frames.merged, 'frames were pruned from the tree')
  const expected = truth(lines)
  t.is(data.value[0], expected.total)
  t.is(data.samples, expected.total)
  const rows = new Map(data.table.label.map((label, i) => [data.fullLabels[label], i]))
  t.is(rows.size, expected.inclusive.size)
  for (const [label, count] of expected.inclusive) {
    const row = rows.get(functionFirstLabel(label))!
    t.is(data.table.total[row], count, label)
    t.is(data.table.self[row], expected.self.get(label) ?? 0, label)
  }
})

test('a diff report holds both profiles per frame: a frame that disappeared keeps its before width', async (t) => {
  const before = ['main;handle;cache_lookup 50', 'main;handle;render 50', 'main;loop 100']
  const after = ['main;handle;render 60', 'main;loop 130', 'main;handle;new_cache 10']
  let html = ''
  await diffReport(before, after, {}, (chunk) => (html += chunk))
  const data = dataOf(html)
  t.is(data.kind, 'diff')
  t.is(data.value[0], 200)
  t.is(data.before![0], 200)
  const node = (label: string) => data.name.findIndex((id) => id >= 0 && data.labels[id] === label)
  t.is(data.value[node('cache_lookup')], 0)
  t.is(data.before![node('cache_lookup')], 50)
  t.is(data.value[node('new_cache')], 10)
  t.is(data.before![node('new_cache')], 0)
  const row = (label: string) => data.table.label.findIndex((id) => data.labels[id] === label)
  t.is(data.table.totalBefore![row('cache_lookup')], 50)
  t.is(data.table.total[row('cache_lookup')], 0)
  t.is(data.table.total[row('loop')], 130)
  t.is(data.samplesBefore, 200)
})

test('labels put the function first for Pyflame, py-spy and austin folded input; files are short, the full path kept for hover', (t) => {
  t.is(functionFirstLabel('/srv/app/cache.py:cache_lookup:40'), 'cache_lookup (/srv/app/cache.py:40)')
  t.is(functionFirstLabel('cache_lookup (/srv/app/cache.py:40)'), 'cache_lookup (/srv/app/cache.py:40)')
  t.is(functionFirstLabel('/srv/app/cache.py:cache_lookup'), 'cache_lookup (/srv/app/cache.py)')
  t.is(functionFirstLabel('cache_lookup (/srv/app/cache.py)'), 'cache_lookup (/srv/app/cache.py)')
  t.is(functionFirstLabel('(idle)'), '(idle)')
  t.is(functionFirstLabel('thread 12 (MainThread)'), 'thread 12 (MainThread)')
  t.is(functionFirstLabel('sys_read_[k]'), 'sys_read')
  const labels = [
    '/srv/app/main.py:<module>:1', // Pyflame
    'handle (/srv/app/views/user.py:12)', // py-spy
    '/srv/venv/lib/python3.12/site-packages/requests/api.py:get:73', // austin (file:function:line)
    '/usr/lib/python3.12/json/encoder.py:encode:199',
  ]
  const shorten = fileShortener(labels)
  t.deepEqual(
    labels.map((label) => functionFirstLabel(label, shorten)),
    ['<module> (main.py:1)', 'handle (views/user.py:12)', 'get (requests/api.py:73)', 'encode (json/encoder.py:199)'],
  )
})

test('the standard error of a share is the binomial one', (t) => {
  t.is(shareStandardError(0.5, 100), 5)
  t.is(shareStandardError(0, 100), 0)
  t.is(shareStandardError(1, 100), 0)
  t.is(shareStandardError(0.5, 0), 0)
  t.true(Math.abs(shareStandardError(0.1, 10_000) - 0.3) < 1e-12)
})

test('hostile frame names stay data: no markup closes the data block, nothing is loaded from outside', async (t) => {
  const hostile = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'
  const { html, data } = await report([`main;${hostile} 3`, 'main;\u2028line 1'])
  t.is(html.match(/<\/script>/g)!.length, 2, 'only the page closes its two script blocks')
  t.true(data.labels.includes(hostile))
  const page = html.replace(/<script type="application\/json" id="report-data">.*?<\/script>/s, '')
  t.false(/\ssrc=|\shref=|@import|url\(/.test(page), 'no external resource')
})

function fakeProfile(extra: Partial<RawProfile> = {}): Profile {
  return new Profile({
    pid: 4242,
    pythonVersion: '3.12.1',
    startTimeMs: Date.UTC(2026, 11, 5, 8, 0, 0),
    durationSecs: 2,
    intervalSecs: 0.01,
    ticks: 190,
    gilIdleTicks: 10,
    errors: 4,
    errorKinds: [
      { kind: 'invalid data: frame', count: 3 },
      { kind: 'unreadable address', count: 1 },
    ],
    frames: [],
    stacks: [],
    threads: [],
    entries: [],
    processes: [],
    endReason: 'duration',
    ...extra,
  } as RawProfile)
}

test('a recording with errors says which: the SVG subtitle and the report metadata name their kinds', (t) => {
  const profile = fakeProfile()
  t.regex(profileSubtitle(profile), /4 errors \(3 invalid data: frame, 1 unreadable address\)/)
  const meta = new Map(profileMeta(profile, 'python app.py'))
  t.is(meta.get('Errors'), '4 (3 invalid data: frame, 1 unreadable address)')
  t.is(meta.get('Rate'), '95 Hz achieved of 100 Hz asked (every 10 ms)')
  t.is(meta.get('Command'), 'python app.py')
  t.is(meta.get('Started'), '2026-12-05 08:00:00 UTC')
  t.is(meta.get('Python'), '3.12.1')
})
