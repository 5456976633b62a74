// Start-up guard: the one-shot commands load only what they run. Asserts on the files each
// command loaded and, for the bundles of dist/cli/ (scripts/bundle-cli.mjs), on the sources in
// them (dist/cli/bundles.json); never on time (the CPU cost is measured in bench/startup.mjs).
// `--version` loads no CLI framework and no addon; a plain `dump` loads neither clipanion nor
// any other command's code; `record` and `pyflame` load their one bundle and no package they
// do not use (the writers' code in a bundle runs only when used).

import test from 'ava'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { PYFLAME, PYFLAME_TS, ROOT } from './helpers/cli'
import { findPythons, spawnPython } from './helpers/pythons'

const PRELOAD = path.join(__dirname, 'helpers', 'list-modules.js')

/** Runs a CLI and returns its exit code, stdout and the modules it loaded (relative to the repo). */
function runListing(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-modules-')), 'modules.txt')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', PRELOAD, script, ...args], { cwd: ROOT, env: { ...process.env, PYFLAME_TS_MODULES_OUT: out } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const modules = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : []
      fs.rmSync(path.dirname(out), { recursive: true, force: true })
      resolve({ code, stdout, stderr, modules })
    })
  })
}

/** The sources in each bundle of dist/cli/ (written by scripts/bundle-cli.mjs). */
const BUNDLES = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'cli', 'bundles.json'), 'utf8')) as Record<string, string[]>

/** The files loaded, each bundle replaced by the sources in it. */
function sources(modules: string[]): string[] {
  return modules.flatMap((m) => BUNDLES[m] ?? [m])
}

/** Packages no one-shot command needs (loaded from node_modules by the writers that use them). */
const HEAVY_PACKAGES = [/node_modules\/pprof-format\//, /node_modules\/protobufjs\//, /node_modules\/cli-progress\//]
/** Sources a plain dump needs none of: other commands, the writers, the record flow (its bundle holds the asyncio readers of `--async`). */
const NOT_FOR_DUMP = [
  /^src\/report\//,
  /^src\/flamegraph\//,
  /^src\/agent\//,
  /^src\/top\//,
  /^src\/writers\//,
  /^src\/(record-flow|sample|profile|progress)\.ts$/,
  /^src\/commands\/(record|render|diff|top|agent|dump)\.ts$/,
  /clipanion/,
  ...HEAVY_PACKAGES,
]

function matching(modules: string[], patterns: RegExp[]): string[] {
  return modules.filter((m) => patterns.some((re) => re.test(m)))
}

/** The files of the package a run may load besides `allowed`: none, say the callers. */
function otherFiles(modules: string[], allowed: string[]): string[] {
  return modules.filter((m) => !m.startsWith('__test__/') && !m.startsWith('node:') && !allowed.includes(m) && !m.endsWith('.node') && !/^(binding\.js|package\.json)$/.test(m))
}

/** Node's socket and terminal modules: loaded when process.stdout or stderr is created on a pipe or terminal. */
const STREAMS = ['node:net', 'node:tty']

test('pyflame-ts --version loads neither clipanion, the addon nor any command', async (t) => {
  const run = await runListing(PYFLAME_TS, ['--version'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /^\d+\.\d+\.\d+\n$/)
  t.true(run.modules.includes('dist/cli/pyflame-ts.js'), 'the listing saw the CLI')
  t.deepEqual(otherFiles(run.modules, ['dist/cli/pyflame-ts.js']), [])
  t.deepEqual(sources(run.modules).filter((m) => /clipanion|\.node$|binding\.js$|^src\/commands\/|^src\/(native|errors|dump)\.ts$/.test(m)), [])
})

test('the bundles hold what each path needs: the entry no state, the plain dump no clipanion', (t) => {
  // A module in two bundles would exist twice in one process (two PyflameError classes): the
  // entry holds only stateless reading of the command line, the dump and clipanion paths exclude each other.
  t.deepEqual(BUNDLES['dist/cli/pyflame-ts.js'], ['generated:src/cli/build-cli.ts', 'src/cli/fast-dump.ts', 'src/cli/pyflame-ts.ts', 'src/version.ts'])
  t.true(BUNDLES['dist/cli/dump-main.js'].includes('src/dump.ts'))
  t.deepEqual(matching(BUNDLES['dist/cli/dump-main.js'], NOT_FOR_DUMP), [])
  t.true(BUNDLES['dist/cli/build-cli.js'].some((m) => m.includes('node_modules/clipanion/')))
  t.deepEqual(matching(BUNDLES['dist/cli/build-cli.js'], HEAVY_PACKAGES), [], 'heavy packages stay in node_modules, loaded on use')
  // A command's own clipanion bundle holds no other command.
  const others = /^src\/(commands\/(render|diff|top|agent|dump)\.ts|agent\/|top\/)/
  t.true(BUNDLES['dist/cli/build-cli-record.js'].includes('src/commands/record.ts'))
  t.deepEqual(matching(BUNDLES['dist/cli/build-cli-record.js'], [others, ...HEAVY_PACKAGES]), [])
})

test('pyflame-ts --help still lists every command', async (t) => {
  const run = await runListing(PYFLAME_TS, ['--help'])
  t.is(run.code, 0, run.stderr)
  t.true(run.modules.includes('dist/cli/build-cli.js'), 'the CLI with every command')
  for (const command of ['record', 'dump', 'render', 'diff', 'top', 'agent']) t.regex(run.stdout, new RegExp(`pyflame-ts ${command}\\b`))
})

test('pyflame --version loads the addon (for the ABI list) and no package it does not use', async (t) => {
  const run = await runListing(PYFLAME, ['--version'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /ABI list: .*312/)
  t.deepEqual(otherFiles(run.modules, ['dist/cli/pyflame.js']), [])
  t.deepEqual(matching(run.modules, HEAVY_PACKAGES), [])
})

const python = findPythons().find((p) => p.kind === 'pyenv' && p.version.startsWith('3.12')) ?? findPythons().find((p) => /^3\.1[1-9]/.test(p.version))
const register = python ? test.serial : test.skip

const IDLE_PROGRAM = `
import time
def waiting_here():
    print("ready", flush=True)
    while True:
        time.sleep(1)
waiting_here()
`

register('dump, record to folded and pyflame --dump load only their own code', async (t) => {
  const target = await spawnPython(python!.path, '-c', [IDLE_PROGRAM])
  try {
    const dump = await runListing(PYFLAME_TS, ['dump', '-p', String(target.pid)])
    t.is(dump.code, 0, dump.stderr)
    t.regex(dump.stdout, /waiting_here/, 'the dump read the stack')
    t.true(dump.modules.some((m) => m.endsWith('.node')), 'the addon did the dump')
    t.deepEqual(otherFiles(dump.modules, ['dist/cli/pyflame-ts.js', 'dist/cli/dump-main.js']), [])
    t.deepEqual(matching(sources(dump.modules), NOT_FOR_DUMP), [])
    t.deepEqual(dump.modules.filter((m) => STREAMS.includes(m)), [], 'the dump is written to fd 1 without creating process.stdout')

    // The same dump through clipanion (a repeated flag is not read by the fast path) prints the same.
    const throughClipanion = await runListing(PYFLAME_TS, ['dump', '-p', String(target.pid), '--nonblocking', '--nonblocking'])
    t.true(throughClipanion.modules.includes('dist/cli/build-cli.js'))
    const fast = await runListing(PYFLAME_TS, ['dump', '-p', String(target.pid), '--nonblocking'])
    t.false(fast.modules.some((m) => m.startsWith('dist/cli/build-cli')))
    t.is(throughClipanion.stdout, fast.stdout)

    const record = await runListing(PYFLAME_TS, ['record', '-p', String(target.pid), '-s', '0.1', '--threads'])
    t.is(record.code, 0, record.stderr)
    t.regex(record.stdout, /waiting_here/, 'the recording sampled the stack')
    t.deepEqual(otherFiles(record.modules, ['dist/cli/pyflame-ts.js', 'dist/cli/build-cli-record.js']), [])
    t.deepEqual(matching(record.modules, HEAVY_PACKAGES), [])

    const legacy = await runListing(PYFLAME, ['-p', String(target.pid), '--dump'])
    t.is(legacy.code, 0, legacy.stderr)
    t.regex(legacy.stdout, /waiting_here/)
    t.deepEqual(otherFiles(legacy.modules, ['dist/cli/pyflame.js']), [])
    t.deepEqual(matching(legacy.modules, HEAVY_PACKAGES), [])
  } finally {
    await target.kill()
  }
})

test('a usage error is the same line through the fast path and through clipanion', async (t) => {
  const fast = await runListing(PYFLAME_TS, ['dump', '-p', 'abc'])
  const slow = await runListing(PYFLAME_TS, ['dump', '-p', 'abc', '--json', '--json'])
  t.false(fast.modules.some((m) => m.startsWith('dist/cli/build-cli')))
  t.true(slow.modules.includes('dist/cli/build-cli.js'))
  t.is(fast.code, 1)
  t.is(slow.code, 1)
  t.is(fast.stderr, 'pyflame-ts: failed to parse "abc" as a PID: give the number of a running process (e.g. -p 1234) (ERR_INVALID_ARGUMENT)\n')
  t.is(slow.stderr, fast.stderr)
  const missing = await runListing(PYFLAME_TS, ['dump'])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /^pyflame-ts: Usage: pyflame-ts dump -p PID .*\(ERR_INVALID_ARGUMENT\)\n$/)
})
