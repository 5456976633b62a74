// Issue 16: asyncio-aware profiles. Real asyncio programs on every interpreter present:
// `dump --async` gives the exact tree of who awaits whom; `record --async` / `sample({ async })`
// measures the split between a CPU-heavy and a light task within 2 points of what the program
// measures itself; `--async-wall` counts waiting tasks; `top --async` names tasks; versions
// whose tasks cannot be read are refused with ERR_UNSUPPORTED_PYTHON, never given a wrong tree.

import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { AsyncDumpResult } from '../src/asyncio/dump'
import { sample } from '../src/index'
import { parseFolded, pyflameTs, ROOT } from './helpers/cli'
import { findAllPythons, majorMinor, spawnPython, type SpawnedPython } from './helpers/pythons'

const PROGRAM = path.join(ROOT, '__test__', 'programs', 'async_chain.py')
const SOURCE = fs.readFileSync(PROGRAM, 'utf8').split('\n')
/** 1-based line of the first line of the program containing `text`. */
const lineOf = (text: string) => SOURCE.findIndex((l) => l.includes(text)) + 1

interface Interpreter {
  label: string
  path: string
  version: string
  freeThreaded: boolean
}

/** Every interpreter present: pyenv's, Debian's, and the newest (Debian unstable's, chrooted; 3.13t). */
function interpreters(): Interpreter[] {
  return findAllPythons().map((p) => ({ label: p.label, path: p.path, version: p.version, freeThreaded: p.freeThreaded === true }))
}

const all = interpreters()
const minor = (p: Interpreter) => majorMinor(p.version)[1]
const asyncCapable = all.filter((p) => p.version.startsWith('3.') && minor(p) >= 6)
// 3.14+ publishes asyncio's debug offsets; 3.7–3.13 are read with generated tables of their
// GIL builds (tools/gen-offsets/gen_asyncio.py), so a free-threaded 3.13 is refused, and so is
// 3.6 (its tasks keep callbacks without contexts and live in a class attribute: no table).
const readable = asyncCapable.filter((p) => minor(p) >= 14 || (minor(p) >= 7 && !p.freeThreaded))
const refused = asyncCapable.filter((p) => !readable.includes(p))
/** What the refusal names: every version whose tasks can be read. */
const SUPPORTED = /supported: 3\.7, 3\.8, 3\.9, 3\.10, 3\.11, 3\.12, 3\.13, 3\.14, 3\.15[;)]/
/** 3.7's tasks have no names: each is `unnamed`, told apart by its coroutine. */
const hasNames = (p: Interpreter) => minor(p) >= 8
/** What a task is called in a dump: its name, or on 3.7 `unnamed`. */
const taskName = (p: Interpreter, name: string) => (hasNames(p) ? name : 'unnamed')
/** What heads a task's part of a profile stack (numbered default names merge into `Task-*`). */
const taskLabel = (p: Interpreter, name: string) => `<task>:${hasNames(p) ? name : 'unnamed'}`

test('an interpreter whose asyncio tasks can be read is present', (t) => {
  t.true(readable.length > 0, `interpreters found: ${all.map((p) => p.label).join(', ')}`)
})

async function withProgram<T>(python: Interpreter, mode: string, body: (target: SpawnedPython) => Promise<T>): Promise<T> {
  const target = await spawnPython(python.path, PROGRAM, [mode])
  try {
    return await body(target)
  } finally {
    await target.kill()
  }
}

/** `dump --async --json`, or the error code it failed with. */
async function dumpAsync(pid: number): Promise<{ result?: AsyncDumpResult; code?: string; stderr: string }> {
  const run = await pyflameTs(['dump', '--async', '--json', '-p', String(pid)])
  if (run.code === 0) return { result: JSON.parse(run.stdout) as AsyncDumpResult, stderr: run.stderr }
  return { code: /ERR_[A-Z_]+/.exec(run.stderr)?.[0] ?? 'none', stderr: run.stderr }
}

/** The expected tree of the `chain` program, as text and as tasks. */
function expectChainTree(t: import('ava').ExecutionContext, python: Interpreter, result: AsyncDumpResult) {
  t.true(result.asyncioLoaded)
  t.deepEqual(result.cycles, [])
  t.deepEqual(result.tasks.map((task) => task.name).sort(), [taskName(python, 'Task-1'), taskName(python, 'fetch_a'), taskName(python, 'fetch_b')].sort())
  // By name, or on 3.7 (no names) by the task's outermost coroutine.
  const key = (task: AsyncDumpResult['tasks'][number]) => (hasNames(python) ? task.name : ({ chain: 'Task-1' } as Record<string, string>)[task.frames[0]?.name] ?? task.frames[0]?.name)
  const byName = new Map(result.tasks.map((task) => [key(task), task]))
  t.deepEqual([...byName.keys()].sort(), ['Task-1', 'fetch_a', 'fetch_b'])
  const main = byName.get('Task-1')!
  const names = (frames: { name: string }[]) => frames.map((f) => f.name)
  const lines = (frames: { line: number }[]) => frames.map((f) => f.line)
  t.deepEqual(names(main.frames), ['chain'])
  t.deepEqual(lines(main.frames), [lineOf('await asyncio.gather(a, b)')])
  t.is(main.awaitsObject, '_GatheringFuture')
  t.deepEqual(main.awaitedBy, [])
  t.is(main.runningTid, undefined)
  for (const [name, call] of [['fetch_a', 'return await slow_io("a")'], ['fetch_b', 'return await slow_io("b")']] as const) {
    const task = byName.get(name)!
    t.falsy(task.error, task.error)
    // Sleeping coroutines are shown: the whole chain down to asyncio.sleep.
    t.deepEqual(names(task.frames), [name, 'slow_io', 'sleep'])
    t.deepEqual(lines(task.frames).slice(0, 2), [lineOf(call), lineOf('await asyncio.sleep(3600)')])
    t.regex(task.frames[2].filename, /asyncio[/\\]tasks\.py$/)
    t.is(task.frames[0].filename, PROGRAM)
    t.is(task.awaitsObject, '_asyncio.Future')
    t.deepEqual(task.awaitedBy, [main.id])
    t.is(task.runningTid, undefined)
  }
}

for (const python of readable) {
  const tag = `[${python.label}]`

  test.serial(`${tag} dump --async: the exact tree of main → gather(fetch_a, fetch_b) → slow_io → sleep`, async (t) => {
    await withProgram(python, 'chain', async (target) => {
      const dumped = await dumpAsync(target.pid)
      t.is(dumped.code, undefined, dumped.stderr)
      const result = dumped.result!
      t.is(result.pid, target.pid)
      t.is(result.pythonVersion, python.version)
      expectChainTree(t, python, result)

      const text = await pyflameTs(['dump', '--async', '-p', String(target.pid)])
      t.is(text.code, 0, text.stderr)
      const sleepLine = result.tasks.find((x) => x.frames[0]?.name === 'fetch_a')!.frames[2]
      const tasksPy = `${sleepLine.filename}:${sleepLine.line}`
      const expected = [
        '',
        `└── (T) ${taskName(python, 'Task-1')} [waiting on _GatheringFuture]`,
        `    └── chain ${PROGRAM}:${lineOf('await asyncio.gather(a, b)')}`,
        `        ├── (T) ${taskName(python, 'fetch_a')} [waiting on _asyncio.Future]`,
        `        │   └── fetch_a ${PROGRAM}:${lineOf('return await slow_io("a")')}`,
        `        │       └── slow_io ${PROGRAM}:${lineOf('await asyncio.sleep(3600)')}`,
        `        │           └── sleep ${tasksPy}`,
        `        └── (T) ${taskName(python, 'fetch_b')} [waiting on _asyncio.Future]`,
        `            └── fetch_b ${PROGRAM}:${lineOf('return await slow_io("b")')}`,
        `                └── slow_io ${PROGRAM}:${lineOf('await asyncio.sleep(3600)')}`,
        `                    └── sleep ${tasksPy}`,
        '',
      ].join('\n')
      const body = text.stdout.slice(text.stdout.indexOf('\n', text.stdout.indexOf('Python v')) + 1)
      t.is(body, expected)
    })
  })

  test.serial(`${tag} sample({ async: true }): a heavy and a light task split as the program measures (±2 pp)`, async (t) => {
    await withProgram(python, 'cpu', async (target) => {
      const slices = () =>
        target
          .stdout()
          .split('\n')
          .map((l) => /^slice (heavy|light) ([\d.]+) ([\d.]+) ([\d.]+)$/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ task: m[1], start: Number(m[2]) * 1000, end: Number(m[3]) * 1000, cpu: Number(m[4]) * 1000 }))
      while (slices().length < 10) await new Promise((r) => setTimeout(r, 50))
      const heavyShare = (o: Record<string, number>) => o.heavy / (o.heavy + o.light)
      // The program's own time in each task over exactly the windows sampled: the part of every
      // slice that falls inside them. Wall-clock time is the truth: a task preempted by another
      // process is still on its thread's stack, and sampled there, as py-spy and Pyflame do.
      const windows: { from: number; to: number }[] = []
      const measure = () => {
        const wall = { heavy: 0, light: 0 } as Record<string, number>
        const cpu = { heavy: 0, light: 0 } as Record<string, number>
        for (const x of slices()) {
          for (const { from, to } of windows) {
            const part = Math.max(0, Math.min(x.end, to) - Math.max(x.start, from))
            wall[x.task] += part
            if (x.end > x.start) cpu[x.task] += (x.cpu * part) / (x.end - x.start)
          }
        }
        return { wall: heavyShare(wall), cpu: heavyShare(cpu) }
      }
      // Windows of samples until the share's error is small beside the 2 points judged, however
      // busy the machine is: 12000 samples (a binomial standard error of 0.4 points) over 12 s
      // at least, and more while the program's wall-clock and CPU-time shares still part by more
      // than 2 points. On a machine busier than its cores the target spends most of its time
      // preempted, a few long preemptions can land in one task, and the sampler, waiting for a
      // CPU too, sees less of them (ARCHITECTURE.md, "Sampling times"); longer runs even them out.
      // The truth is unambiguous only once the wall-clock and CPU shares agree: CI saw them 1.5
      // points apart after 4 windows at load 4 (3.7), and the samples, which follow the CPU
      // share there, 2.3 points from the wall one. So the windows go on until they agree to
      // half a point (10 at most).
      const AGREE = 0.005
      const sampled = { heavy: 0, light: 0 } as Record<string, number>
      let samples = 0
      let errors = 0
      let missed = 0
      let unrooted = 0
      let measured = { wall: 0, cpu: 0 }
      while (windows.length < 10) {
        const profile = await sample({ pid: target.pid, seconds: 3, rate: 0.0005, async: true })
        const to = profile.raw.startTimeMs + profile.durationSecs * 1000
        windows.push({ from: profile.raw.startTimeMs, to })
        samples += profile.samples
        errors += profile.errors
        missed += profile.missed
        for (const [stack, n] of parseFolded(profile.toFolded({ excludeIdle: true }))) {
          const frames = stack.split(';')
          // Every task stack is rooted at the task running main, then the task's own part
          // (told by its name, or on 3.7 by its coroutine).
          if (!frames.some((f) => f.endsWith(':burn:' + f.split(':').pop()))) continue
          // Not paused, a thread can be read while its loop switches tasks, and a switch that
          // begins and ends within one stack read (no task running before nor after it) cannot
          // be told from a thread running no task. Such stacks stay plain: counted and bounded.
          if (frames[0] !== taskLabel(python, 'Task-*')) {
            t.regex(frames[frames.length - 1], /async_chain\.py:burn:\d+$/, stack)
            unrooted += n
            continue
          }
          t.regex(frames[1], /async_chain\.py:cpu:\d+$/)
          const worker = hasNames(python) ? frames[2] : frames[2] === '<task>:unnamed' ? /:(heavy|light)_work:\d+$/.exec(frames[3] ?? '')?.[1] : undefined
          if (worker === '<task>:heavy' || worker === 'heavy') sampled.heavy += n
          else if (worker === '<task>:light' || worker === 'light') sampled.light += n
          else t.fail(`burn outside a worker task: ${stack}`)
        }
        while (!slices().some((x) => x.start >= to)) await new Promise((r) => setTimeout(r, 50))
        measured = measure()
        if (sampled.heavy + sampled.light >= 12000 && windows.length >= 4 && Math.abs(measured.wall - measured.cpu) <= AGREE) break
      }
      const share = heavyShare(sampled)
      const pct = (x: number) => `${(100 * x).toFixed(1)} %`
      t.log(
        `${windows.length} windows, samples ${samples} (${missed} missed, ${errors} errors); heavy ${sampled.heavy}, light ${sampled.light}: ` +
          `share ${pct(share)} vs measured ${pct(measured.wall)} (CPU time ${pct(measured.cpu)}); load ${os.loadavg()[0].toFixed(1)}`,
      )
      t.true(sampled.heavy + sampled.light >= samples * 0.5, `only ${sampled.heavy + sampled.light} of ${samples} samples in the workers`)
      t.true(errors <= samples * 0.1, `${errors} errors`)
      if (unrooted > 0) t.log(`${unrooted} worker samples read across a task switch, left plain`)
      t.true(unrooted <= (sampled.heavy + sampled.light) * 0.001, `${unrooted} worker samples not under their task`)
      // Beyond 6 runnable tasks per core (the target running a sixth of the time or less, the
      // sampler missing about half its deadlines) shares have been off by up to 4 points either
      // way, in plain `record` too and with the sampler at nice -10 (issue 16, BENCHMARKS.md
      // "asyncio task shares under load"): not judged there. Every run up to load 15.7 held.
      const [load] = os.loadavg()
      if (load > 6 * os.cpus().length) t.log(`share not judged: load ${load.toFixed(1)} on ${os.cpus().length} cores`)
      else t.true(Math.abs(share - measured.wall) <= 0.02, `heavy share ${pct(share)} vs ${pct(measured.wall)} measured`)
    })
  })

  test.serial(`${tag} record --async --async-wall: every waiting leaf task is counted in every sample`, async (t) => {
    await withProgram(python, 'chain', async (target) => {
      const run = await pyflameTs(['record', '--async', '--async-wall', '-p', String(target.pid), '-s', '1', '-r', '0.01', '-f', 'folded'])
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      const leaf = (name: string, call: string) =>
        [
          taskLabel(python, 'Task-*'),
          `${PROGRAM}:chain:${lineOf('await asyncio.gather(a, b)')}`,
          taskLabel(python, name),
          `${PROGRAM}:${name}:${lineOf(call)}`,
          `${PROGRAM}:slow_io:${lineOf('await asyncio.sleep(3600)')}`,
        ].join(';')
      const under = (prefix: string) => [...stacks].filter(([s]) => s.startsWith(prefix + ';')).reduce((a, [, n]) => a + n, 0)
      const a = under(leaf('fetch_a', 'return await slow_io("a")'))
      const b = under(leaf('fetch_b', 'return await slow_io("b")'))
      // The loop's thread, idle in select, is sampled once per tick too.
      const ticks = [...stacks].filter(([s]) => !s.startsWith('<task>')).reduce((x, [, n]) => x + n, 0)
      t.log(`ticks ${ticks}, fetch_a ${a}, fetch_b ${b}`)
      t.true(ticks >= 50, `only ${ticks} ticks`)
      t.true(a >= ticks * 0.95 && a <= ticks, `fetch_a waited in ${a} of ${ticks} samples`)
      t.true(b >= ticks * 0.95 && b <= ticks, `fetch_b waited in ${b} of ${ticks} samples`)
      // Task-1 waits through its children: it is never a leaf of its own.
      t.false([...stacks.keys()].some((s) => s.split(';').length === 2 && s.startsWith(taskLabel(python, 'Task-*'))), 'Task-1 counted on its own')
    })
  })

  test.serial(`${tag} top --async names the running tasks`, async (t) => {
    await withProgram(python, 'cpu', async (target) => {
      const run = await pyflameTs(['top', '--async', '-p', String(target.pid), '--refresh', '1', '--once'])
      t.is(run.code, 0, run.stderr)
      if (hasNames(python)) {
        t.regex(run.stdout, /\bheavy\b.*<task>/)
        t.regex(run.stdout, /\blight\b.*<task>/)
      } else {
        // 3.7: one `unnamed` task row; the workers told apart by their coroutines, under it.
        t.regex(run.stdout, /\bunnamed \(<task>/)
        t.regex(run.stdout, /\bheavy_work \(/)
        t.regex(run.stdout, /\blight_work \(/)
      }
    })
  })
}

for (const python of refused) {
  test.serial(`[${python.label}] dump --async and record --async refuse Python ${python.version} with the versions that work`, async (t) => {
    await withProgram(python, 'chain', async (target) => {
      const dumped = await dumpAsync(target.pid)
      t.is(dumped.code, 'ERR_UNSUPPORTED_PYTHON', dumped.stderr)
      t.regex(dumped.stderr, SUPPORTED)
      if (python.freeThreaded) t.regex(dumped.stderr, /free-threaded/)
      t.is(dumped.result, undefined)
      const run = await pyflameTs(['record', '--async', '-p', String(target.pid), '-s', '0.2'])
      t.not(run.code, 0)
      t.regex(run.stderr, /ERR_UNSUPPORTED_PYTHON/)
      t.regex(run.stderr, SUPPORTED)
      t.is(run.stdout, '')
    })
  })
}
