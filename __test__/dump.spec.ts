// `pyflame-ts dump` on every interpreter of the machine: thread count, names, GIL and idle
// marks, real entry points as outermost frames, JSON, --locals, --subprocesses, --nonblocking.

import test from 'ava'
import * as path from 'node:path'
import type { DumpResult, DumpThread } from '../src/dump'
import { pyflameTs, ROOT } from './helpers/cli'
import { findNewestPythons, findPythons, newestPythonsDir, spawnPython } from './helpers/pythons'

const PROGRAMS = path.join(ROOT, '__test__', 'programs')
const pythons = findPythons()

async function dumpJson(args: string[]): Promise<DumpResult & DumpResult[]> {
  const run = await pyflameTs(['dump', ...args, '--json'])
  if (run.code !== 0) throw new Error(`dump ${args.join(' ')} failed (${run.code}): ${run.stderr}`)
  return JSON.parse(run.stdout)
}

const threadNamed = (result: DumpResult, name: string): DumpThread => {
  const thread = result.threads.find((t) => t.name === name)
  if (!thread) throw new Error(`no thread named ${name} in ${JSON.stringify(result.threads.map((t) => t.name))}`)
  return thread
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

const outermost = (thread: DumpThread) => thread.frames[thread.frames.length - 1]?.name
const innermost = (thread: DumpThread) => thread.frames[0]?.name

test('at least one CPython interpreter is installed to test against', (t) => {
  t.true(pythons.length > 0)
})

for (const python of pythons) {
  const tag = `[${python.label}]`
  const isPy2 = python.version.startsWith('2.')
  const entryPoint = isPy2 ? /^__bootstrap$/ : /^(Thread\.)?_bootstrap$/

  test.serial(`${tag} dump: every thread, named, marked, from its real entry point`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'dump_threads.py'))
    try {
      // A dump is one instant: the burner holds the GIL in most of them, not necessarily all.
      const dumps: DumpResult[] = []
      for (let i = 0; i < 8 && !dumps.some((d) => threadNamed(d, 'burner').holdsGil); i++) dumps.push(await dumpJson(['-p', String(target.pid)]))
      for (const result of dumps) {
        t.is(result.pid, target.pid)
        t.is(result.pythonVersion, python.version)
        t.is(result.threads.length, 3, JSON.stringify(result.threads.map((th) => th.name)))
        t.deepEqual(result.threads.map((th) => th.name).sort(), ['MainThread', 'burner', 'sleeper'])
        // Python's names first; the kernel's (set with prctl) are kept beside them.
        t.deepEqual(result.threads.map((th) => th.kernelName).sort(), ['burner', 'main-waits', 'sleeper'])
        const main = threadNamed(result, 'MainThread')
        const burner = threadNamed(result, 'burner')
        const sleeper = threadNamed(result, 'sleeper')
        t.is(main.tid, target.pid, 'the main thread has the process id')
        for (const thread of result.threads) t.falsy(thread.error, thread.error)
        // The stacks are whole: the real entry point is outermost in every dump.
        t.is(innermost(main), 'main_waits')
        t.deepEqual(main.frames.map((f) => f.name).slice(-2), ['main', '<module>'])
        t.is(innermost(burner), 'burn_cpu_forever')
        t.regex(outermost(burner) ?? '', entryPoint)
        t.is(innermost(sleeper), 'sleep_forever')
        t.regex(outermost(sleeper) ?? '', entryPoint)
        t.true(sleeper.idle, 'a sleeping thread is idle')
        t.false(sleeper.holdsGil)
        t.false(main.holdsGil)
        t.true(result.threads.filter((th) => th.holdsGil).length <= 1, 'at most one GIL holder')
      }
      t.true(dumps.some((d) => threadNamed(d, 'burner').holdsGil), `the busy thread never held the GIL in ${dumps.length} dumps`)
      t.log(`${dumps.length} dump(s) until the burner was seen holding the GIL`)

      const text = await pyflameTs(['dump', '-p', String(target.pid)])
      t.is(text.code, 0, text.stderr)
      t.is(text.stderr, '')
      t.regex(text.stdout, new RegExp(`^Process ${target.pid}: `))
      t.regex(text.stdout, /Thread \d+ "sleeper" \(idle\)\n {4}sleep_forever \(/)
      t.regex(text.stdout, /Thread \d+ "burner" \((holds GIL, )?(active|idle)\)\n {4}burn_cpu_forever \(/)
      t.is(text.stdout.match(/^Thread /gm)?.length, 3)
    } finally {
      await target.kill()
    }
  })

  test.serial(`${tag} dump --nonblocking: still whole stacks (torn reads are retried)`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'dump_threads.py'))
    try {
      for (let i = 0; i < 5; i++) {
        const result = await dumpJson(['-p', String(target.pid), '--nonblocking'])
        t.is(result.threads.length, 3)
        t.regex(outermost(threadNamed(result, 'burner')) ?? '', entryPoint)
        t.regex(outermost(threadNamed(result, 'sleeper')) ?? '', entryPoint)
        t.is(outermost(threadNamed(result, 'MainThread')), '<module>')
      }
    } finally {
      await target.kill()
    }
  })

  test.serial(`${tag} dump --subprocesses: the parent and both forked children, each once`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'dump_forks.py'))
    const children = target.stdout().split('\n').find((l) => l.startsWith('ready'))!.split(' ').slice(1).map(Number)
    try {
      t.is(children.length, 2)
      const results = await dumpJson(['-p', String(target.pid), '--subprocesses'])
      t.true(Array.isArray(results))
      t.deepEqual(results.map((r) => r.pid).sort((a, b) => a - b), [target.pid, ...children].sort((a, b) => a - b))
      t.is(results[0].pid, target.pid, 'the parent first')
      for (const result of results) {
        t.is(result.threads.length, 1)
        const thread = result.threads[0]
        t.is(innermost(thread), result.pid === target.pid ? 'parent_waits' : 'child_sleeps')
        t.is(outermost(thread), '<module>')
      }
      const text = await pyflameTs(['dump', '-p', String(target.pid), '--subprocesses'])
      t.is(text.code, 0, text.stderr)
      const headers = [...text.stdout.matchAll(/^Process (\d+): /gm)].map((m) => Number(m[1]))
      t.deepEqual(headers.sort((a, b) => a - b), [target.pid, ...children].sort((a, b) => a - b))
      t.is(text.stdout.match(/child_sleeps/g)?.length, 2)
    } finally {
      for (const child of children) killQuietly(child)
      await target.kill()
    }
  })
}

test('dump without a PID or of a missing process: one line on stderr with a code', async (t) => {
  const usage = await pyflameTs(['dump'])
  t.is(usage.code, 1)
  t.regex(usage.stderr, /^pyflame-ts: Usage: pyflame-ts dump -p PID.*\(ERR_INVALID_ARGUMENT\)\n$/)
  const missing = await pyflameTs(['dump', '-p', '999999999'])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /\((ERR_NO_PROCESS|ERR_INVALID_ARGUMENT)\)\n$/)
  t.is(missing.stderr.split('\n').length, 2)
})

// --locals on every interpreter, the newest ones of scripts/pythons/fetch.sh included (3.14+
// read their locals through the debug offsets; their slots are tagged stack references).
for (const name of findNewestPythons().missing) {
  test.skip(`${name} dump --locals: not in ${newestPythonsDir()} (scripts/pythons/fetch.sh could not fetch or build it)`, () => {})
}
for (const python of [...pythons, ...findNewestPythons().found]) {
  const tag = `[${python.label}]`
  const isPy2 = python.version.startsWith('2.')
  test.serial(`${tag} dump --locals: names and values of a frame's locals`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'dump_locals.py'))
    try {
      const result = await dumpJson(['-p', String(target.pid), '--locals'])
      const thread = result.threads[0]
      t.falsy(thread.localsError, thread.localsError)
      const frame = thread.frames.find((f) => f.name === 'holds_locals')
      if (!frame?.locals) return t.fail(`no locals for holds_locals: ${JSON.stringify(thread)}`)
      const values = Object.fromEntries(frame.locals.map((l) => [l.name, l.repr]))
      t.log(values)
      t.is(values.count, '3', 'arguments are locals too')
      t.is(values.x, '42')
      t.is(values.s, "'hello'")
      t.is(values.negative, '-7')
      t.is(values.big, isPy2 ? '1267650600228229401496703205376L' : '1267650600228229401496703205376')
      t.is(values.ratio, '1.5')
      t.is(values.flag, 'True')
      t.is(values.nothing, 'None')
      t.is(values.raw, isPy2 ? "'bytes\\n'" : "b'bytes\\n'")
      t.is(values.items, '<list>')
      t.is(values.long_text.length, 80, 'values are cut at 80 characters')
      t.regex(values.long_text, /^'y+'\.\.\.$/)
      t.deepEqual(
        frame.locals.map((l) => l.name),
        ['count', 'x', 's', 'negative', 'big', 'ratio', 'flag', 'nothing', 'raw', 'items', 'long_text'],
        'in co_varnames order',
      )
      // The module frame keeps its variables in a dict, not in slots: no locals listed.
      t.deepEqual(thread.frames.find((f) => f.name === '<module>')?.locals, [])

      const text = await pyflameTs(['dump', '-p', String(target.pid), '--locals'])
      t.is(text.code, 0, text.stderr)
      t.regex(text.stdout, /holds_locals \([^\n]*dump_locals\.py:\d+\)\n(?: {8}\w+ = [^\n]*\n)*? {8}x = 42\n {8}s = 'hello'\n/)
    } finally {
      await target.kill()
    }
  })
}
