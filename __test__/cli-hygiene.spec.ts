// What a new user meets at the terminal: a hostile file's bytes never reach the terminal, a
// mistyped command gets real suggestions, a missing argument is named, help has no colour in
// a pipe or with NO_COLOR, and Ctrl-C after the profile is written exits 130, run directly or
// through npx, with the file complete.

import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { safeText } from '../src/cli/terminal-text'
import { closestCommands, explainUsageError } from '../src/cli/usage-errors'
import { colorsWanted } from '../src/cli/terminal-text'
import semver from 'semver'
import { achievedRate } from '../src/progress'
import { spawnPython } from './helpers/pythons'
import { isCompleteFolded, newestPython3, PROGRAMS } from './safety-support'

const ROOT = path.join(__dirname, '..')
const CLI = path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js')
const TMP = mkdtempSync(path.join(tmpdir(), 'pyflame-hygiene-'))
const python = newestPython3(6)
test.after.always(() => rmSync(TMP, { recursive: true, force: true }))

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

test('a hostile folded file: the error quotes it with control characters escaped, and cut', (t) => {
  const file = path.join(TMP, 'hostile.txt')
  writeFileSync(file, 'a \x1b[2J\x1b]0;pwned\x07x\x00y\n')
  const run = cli(['render', file, '-o', path.join(TMP, 'out.svg')])
  t.is(run.status, 1)
  t.false(CONTROL.test(run.stderr), JSON.stringify(run.stderr))
  t.true(run.stderr.includes('\\x1b[2J\\x1b]0;pwned\\x07x'), run.stderr)
  t.regex(run.stderr, /\(ERR_INVALID_ARGUMENT\)\n$/)
  // A long hostile count is cut, not echoed in full.
  writeFileSync(file, `a ${'\x1b'.repeat(5000)}\n`)
  const long = cli(['render', file, '-o', path.join(TMP, 'out.svg')])
  t.true(long.stderr.length < 600, `${long.stderr.length} characters`)
  t.false(CONTROL.test(long.stderr))
  // --skip-invalid warnings and a hostile file name too.
  writeFileSync(file, 'a 1\nb \x1b]0;x\x07\n')
  const skipped = cli(['render', file, '--skip-invalid', '-o', path.join(TMP, 'out.svg')])
  t.is(skipped.status, 0)
  t.regex(skipped.stderr, /warning: skipped .*\\x1b\]0;x\\x07/)
  t.false(CONTROL.test(skipped.stderr))
  const missing = cli(['render', path.join(TMP, 'no\x1b[31mfile')])
  t.false(CONTROL.test(missing.stderr))
  t.regex(missing.stderr, /cannot read .*no\\x1b\[31mfile \(ENOENT\)/)
  t.is(safeText('ab\u202ecd\u0000', 4), 'ab\\\u2026')
})

test('a mistyped command lists real commands or the list; diff with one file says it needs two profiles', (t) => {
  const typo = cli(['rendr', 'x.txt'])
  t.is(typo.status, 1)
  t.is(typo.stderr, 'pyflame-ts: unknown command "rendr": did you mean render?; see `pyflame-ts --help` (ERR_INVALID_ARGUMENT)\n')
  const unknown = cli(['frobnicate'])
  t.regex(unknown.stderr, /unknown command "frobnicate": the commands are record, dump, top, render, diff;/)
  t.false(/one of:;/.test(unknown.stderr))
  const one = cli(['diff', 'before.txt'])
  t.is(one.status, 1)
  t.regex(one.stderr, /diff needs two profiles: pyflame-ts diff BEFORE AFTER/)
  t.deepEqual(closestCommands('recrod', ['record', 'dump', 'top', 'render', 'diff']), ['record'])
  t.deepEqual(closestCommands('rec', ['record', 'dump', 'top', 'render', 'diff']), ['record'])
  t.is(explainUsageError('Command not found; did you mean one of:\n\n  0. x', ['\x1b[2Jx'], ['record']), 'unknown command "\\x1b[2Jx": the commands are record')
})

test('help has no colour in a pipe or with NO_COLOR', (t) => {
  const piped = cli(['--help'])
  t.is(piped.status, 0)
  t.regex(piped.stdout, /record/)
  t.false(piped.stdout.includes('\x1b'), 'no escape codes in a pipe')
  t.false(cli(['record', '--help']).stdout.includes('\x1b'))
  t.false(colorsWanted({ isTTY: true }, { NO_COLOR: '1' }))
  t.true(colorsWanted({ isTTY: true }, {}))
  t.false(colorsWanted({ isTTY: false }, {}))
  t.true(colorsWanted({ isTTY: true }, { NO_COLOR: '' }), 'an empty NO_COLOR does not count (no-color.org)')
})

test('the progress line shows the rate only once it means something', (t) => {
  t.is(achievedRate(3, 0.02), '…')
  t.is(achievedRate(101, 1), '100')
  t.is(achievedRate(201, 2.01), '100')
})

/** Records `pid` until SIGINT, sent to the process group as a terminal's Ctrl-C is. */
async function interrupted(argv: string[], out: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(argv[0], [...argv.slice(1), '-o', out], { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (status, signal) => resolve({ status, signal })))
  // Once the CLI has opened its output (its temporary file appears: npx takes a while to start
  // it), sample a second more, then Ctrl-C.
  const opened = async (): Promise<void> => {
    const prefix = `.${path.basename(out)}.`
    for (let waited = 0; waited < 30_000; waited += 100) {
      if (readdirSync(path.dirname(out)).some((name) => name.startsWith(prefix) && name.endsWith('.tmp'))) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  const early = await Promise.race([exited, opened().then(() => undefined)])
  if (early) return { ...(early as { status: number | null; signal: NodeJS.Signals | null }), stderr: `ended before Ctrl-C: ${stderr}` }
  process.kill(-child.pid!, 'SIGINT')
  return { ...(await exited), stderr }
}

;(python ? test.serial : test.serial.skip)('Ctrl-C after sampling: the profile is written complete and the exit status is 130, directly and through npx', async (t) => {
  t.timeout(90_000)
  const target = await spawnPython(python!.path, path.join(PROGRAMS, 'safety_recursion.py'))
  try {
    const record = ['record', '-p', String(target.pid), '-s', 'unlimited']
    for (const [how, argv] of [
      ['directly', [process.execPath, CLI, ...record]],
      ['through npx', ['npx', '--no-install', 'pyflame-ts', ...record]],
    ] as const) {
      const out = path.join(TMP, `ctrl-c-${how.replace(' ', '-')}.txt`)
      const run = await interrupted([...argv], out)
      // The status a shell reports: npx itself gets the terminal's SIGINT and ends by it (130
      // too); the CLI exits 130 once the profile is written.
      const shellStatus = run.status ?? (run.signal === 'SIGINT' ? 130 : run.signal)
      t.is(shellStatus, 130, `${how}: ${run.signal ?? ''} ${run.stderr}`)
      // Through npx the CLI may still be writing when npx is gone: the file appears whole (renamed into place).
      for (let waited = 0; !existsSync(out) && waited < 15_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
      const text = readFileSync(out, 'utf8')
      t.true(isCompleteFolded(text), `${how}: complete folded file`)
      t.true(text.trim().split('\n').length > 0)
    }
  } finally {
    target.kill()
  }
})

test('one Node version everywhere: the README states package.json engines, and every locked dependency runs on it', (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const minimum = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)![1]
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  t.true(readme.includes(`**Node.js ${minimum} or newer**`))
  t.deepEqual([...new Set([...readme.matchAll(/Node(?:\.js)? ≥? ?(\d+\.\d+)/g)].map((m) => m[1]))], [minimum], 'no other Node version in the README')
  for (const platform of ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl']) {
    t.is(JSON.parse(readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8')).engines.node, pkg.engines.node)
  }
  // npm ci warns (EBADENGINE) about a dependency whose engines exclude the Node we ask for.
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'))
  const tooNew = Object.entries(lock.packages as Record<string, { engines?: { node?: string }; optional?: boolean; version?: string }>)
    .filter(([name, entry]) => name !== '' && !entry.optional && entry.engines?.node && !semver.satisfies(`${minimum}.0`, entry.engines.node))
    .map(([name, entry]) => `${name}@${entry.version} needs ${entry.engines!.node}`)
  t.deepEqual(tooNew, [])
})
