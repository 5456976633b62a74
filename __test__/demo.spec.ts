// `npm run demo` records once and writes the folded text, the SVG and the HTML report from
// that one recording: its printed summary, its picture and its report count the same samples.

import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'

const ROOT = path.join(__dirname, '..')
const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0

;(hasPython ? test : test.skip)('the demo writes profile.txt, profile.svg and report.html from one recording', (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'pyflame-demo-'))
  try {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], { encoding: 'utf8', env: { ...process.env, DEMO_SECONDS: '1', DEMO_OUT: out }, timeout: 60_000 })
    t.is(run.status, 0, run.stderr)
    const folded = readFileSync(path.join(out, 'profile.txt'), 'utf8')
    const total = folded
      .trim()
      .split('\n')
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
    t.true(total > 50, `${total} samples`)
    t.regex(run.stdout, new RegExp(`leaf functions, ${total} samples`))
    const svg = readFileSync(path.join(out, 'profile.svg'), 'utf8')
    t.regex(svg, new RegExp(`<title>all \\(${total.toLocaleString('en-US')} samples, 100%\\)</title>`))
    const html = readFileSync(path.join(out, 'report.html'), 'utf8')
    const data = JSON.parse(/id="report-data">(.*?)<\/script>/s.exec(html)![1])
    t.is(data.value[0], total)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
