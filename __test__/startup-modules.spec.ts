// Start-up guard: the one-shot commands load only what they run. Asserts on the list of modules
// each command loaded (never on time; the CPU cost is measured in bench/startup.mjs): `--version`
// loads no CLI framework and no addon, `dump` and `record` to folded load neither the other
// commands nor the SVG, report, agent, asyncio or pprof (protobuf) writers.

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

/** Modules no one-shot command needs: other commands' code and the heavy writers. */
const HEAVY = [
  /^dist\/report\//,
  /^dist\/flamegraph\/(render|svg|diff)/,
  /^dist\/agent\//,
  /^dist\/asyncio\//,
  /^dist\/top\//,
  /^dist\/writers\/(pprof|speedscope|chrometrace)/,
  /node_modules\/pprof-format\//,
  /node_modules\/protobufjs\//,
  /node_modules\/cli-progress\//,
  /^dist\/commands\/(render|diff|top|agent)\.js$/,
]

function heavyLoaded(modules: string[]): string[] {
  return modules.filter((m) => HEAVY.some((re) => re.test(m)))
}

test('pyflame-ts --version loads neither clipanion, the addon nor any command', async (t) => {
  const run = await runListing(PYFLAME_TS, ['--version'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /^\d+\.\d+\.\d+\n$/)
  t.true(run.modules.includes('dist/cli/pyflame-ts.js'), 'the listing saw the CLI')
  t.deepEqual(run.modules.filter((m) => /clipanion|\.node$|binding\.js$|^dist\/commands\//.test(m)), [])
})

test('pyflame-ts --help still lists every command', async (t) => {
  const run = await runListing(PYFLAME_TS, ['--help'])
  t.is(run.code, 0, run.stderr)
  for (const command of ['record', 'dump', 'render', 'diff', 'top', 'agent']) t.regex(run.stdout, new RegExp(`pyflame-ts ${command}\\b`))
})

test('pyflame --version loads the addon (for the ABI list) but not the record flow', async (t) => {
  const run = await runListing(PYFLAME, ['--version'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /ABI list: .*312/)
  t.deepEqual(run.modules.filter((m) => /^dist\/(record-flow|sample|profile|dump)\.js$|^dist\/writers\//.test(m)), [])
  t.deepEqual(heavyLoaded(run.modules), [])
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
    t.true(dump.modules.includes('pyflame.linux-x64-gnu.node') || dump.modules.some((m) => m.endsWith('.node')), 'the addon did the dump')
    t.deepEqual(heavyLoaded(dump.modules), [])
    t.deepEqual(dump.modules.filter((m) => /^dist\/(record-flow|sample|profile)\.js$|^dist\/commands\/record\.js$|^dist\/writers\//.test(m)), [])

    const record = await runListing(PYFLAME_TS, ['record', '-p', String(target.pid), '-s', '0.1', '--threads'])
    t.is(record.code, 0, record.stderr)
    t.regex(record.stdout, /waiting_here/, 'the recording sampled the stack')
    t.deepEqual(heavyLoaded(record.modules), [])
    t.false(record.modules.includes('dist/commands/dump.js'))

    const legacy = await runListing(PYFLAME, ['-p', String(target.pid), '--dump'])
    t.is(legacy.code, 0, legacy.stderr)
    t.regex(legacy.stdout, /waiting_here/)
    t.deepEqual(heavyLoaded(legacy.modules), [])
    t.deepEqual(legacy.modules.filter((m) => /^dist\/(record-flow|sample|profile)\.js$|^dist\/writers\//.test(m)), [])
  } finally {
    await target.kill()
  }
})
