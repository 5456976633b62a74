// Targets that change under sampling: threads that start and end all the time, a forking
// target, an exec'ing target, a target that exits mid-recording, 500 threads; and a stack
// that unwinds and rewinds constantly, read without pausing, must never yield an invented
// frame (torn reads become counted errors).

import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { sample } from '../src/index'
import { ROOT, parseFolded, pyflameTs } from './helpers/cli'
import { findPythons, spawnPython } from './helpers/pythons'
import { PROGRAMS, checkRecursionStacks, harmedTasks, isCompleteFolded, newestPython3, sleep } from './safety-support'

const python = newestPython3()

function total(stacks: Map<string, number>): number {
  return [...stacks.values()].reduce((a, b) => a + b, 0)
}

async function unharmedAfter(pid: number): Promise<ReturnType<typeof harmedTasks>> {
  let harmed = harmedTasks(pid)
  for (let i = 0; i < 40 && harmed.length > 0; i++) {
    await sleep(25)
    harmed = harmedTasks(pid)
  }
  return harmed
}

for (const mode of ['nonblocking', 'blocking'] as const) {
  const flags = mode === 'blocking' ? ['--blocking'] : []

  ;(python ? test.serial : test.serial.skip)(`[${mode}] threads that start and end constantly: sampling continues, no zombie or stopped thread`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_thread_churn.py'))
    try {
      const run = await pyflameTs(['record', '-p', String(target.pid), ...flags, '--threads', '-r', '0.002', '-s', '2'], { killAfterMs: 60_000 })
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      t.true(total(stacks) > 0, 'samples were taken')
      t.true([...stacks.keys()].some((s) => s.includes(':short_life:')), 'short-lived threads were sampled')
      t.deepEqual(await unharmedAfter(target.pid), [])
      t.is(target.child.exitCode, null, 'the target is still running')
    } finally {
      await target.kill()
    }
  })

  ;(python ? test.serial : test.serial.skip)(`[${mode}] a target that forks all the time: recording completes, parent and children unharmed`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_forker.py'))
    try {
      const run = await pyflameTs(['record', '-p', String(target.pid), ...flags, '-r', '0.002', '-s', '2'], { killAfterMs: 60_000 })
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      t.true(total(stacks) > 0)
      t.true([...stacks.keys()].some((s) => s.includes(':parent_work:') || s.includes(':main:')))
      t.deepEqual(await unharmedAfter(target.pid), [])
      t.is(target.child.exitCode, null, 'the forker is still running')
    } finally {
      await target.kill()
    }
  })

  ;(python ? test.serial : test.serial.skip)(`[${mode}] a target that execs mid-recording: one clean ending, the new program runs`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_execer.py'), ['1.5'])
    try {
      const run = await pyflameTs(['record', '-p', String(target.pid), ...flags, '-r', '0.002', '-s', '4'], { killAfterMs: 60_000 })
      t.log(`exit ${run.code}; stderr: ${run.stderr.trim() || '(none)'}`)
      if (run.code === 0) {
        t.true(isCompleteFolded(run.stdout) || run.stdout === '', 'the profile is complete folded text')
      } else {
        t.is(run.code, 1)
        t.is(run.stderr.trim().split('\n').length, 1, 'one line explains the ending')
      }
      await sleep(200)
      t.deepEqual(await unharmedAfter(target.pid), [])
      t.is(target.child.exitCode, null, 'the exec\'d program is still running')
      t.regex(fs.readFileSync(`/proc/${target.pid}/cmdline`, 'latin1'), /after_exec/, 'it is the new program')
    } finally {
      await target.kill()
    }
  })

  ;(python ? test.serial : test.serial.skip)(`[${mode}] a target that exits mid-recording: the profile is written (end reason target-exited)`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-safety-'))
    try {
      // The API tells the end reason. Here the test process is the target's parent: in
      // blocking mode that is refused (Node's SIGCHLD handling would reap the ptrace stops,
      // see docs/safety.md); the CLI below is a separate process and is not the parent.
      const first = await spawnPython(python.path, path.join(PROGRAMS, 'safety_exits.py'), ['4'])
      try {
        if (mode === 'nonblocking') {
          const profile = await sample({ pid: first.pid, seconds: 30, rate: 0.002 })
          t.is(profile.endReason, 'target-exited')
          t.true(profile.samples > 0)
        } else {
          const error = await t.throwsAsync(sample({ pid: first.pid, seconds: 30, rate: 0.002, blocking: true }))
          t.is((error as { code?: string }).code, 'ERR_INVALID_ARGUMENT')
          t.regex(error!.message, /child of this process/)
        }
      } finally {
        await first.kill()
      }
      // The CLI writes the file.
      const second = await spawnPython(python.path, path.join(PROGRAMS, 'safety_exits.py'), ['4'])
      const out = path.join(dir, 'exits.txt')
      const run = await pyflameTs(['record', '-p', String(second.pid), ...flags, '-r', '0.002', '-s', '30', '-o', out], { killAfterMs: 60_000 })
      t.is(run.code, 0, run.stderr)
      const text = fs.readFileSync(out, 'utf8')
      t.true(isCompleteFolded(text))
      t.true([...parseFolded(text).keys()].some((s) => s.includes(':work_then_leave:')))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  ;(python ? test.serial : test.serial.skip)(`[${mode}] 500 threads: samples are taken of every kind of thread`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'safety_many_threads.py'), ['500'], { readyTimeoutMs: 60_000 })
    try {
      const threads = fs.readdirSync(`/proc/${target.pid}/task`).length
      t.true(threads >= 501, `${threads} threads`)
      const run = await pyflameTs(['record', '-p', String(target.pid), ...flags, '--threads', '-r', '0.05', '-s', '0.5'], { killAfterMs: 90_000 })
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      const napper = [...stacks].filter(([s]) => s.includes(':napper:')).reduce((a, [, n]) => a + n, 0)
      const burner = [...stacks].filter(([s]) => s.includes(':burner:')).reduce((a, [, n]) => a + n, 0)
      t.log(`samples of napper threads: ${napper}, of burner threads: ${burner}`)
      // Each tick samples every thread: hundreds of napper stacks per tick.
      t.true(napper >= 495, `napper samples ${napper}`) // one tick alone samples all 495
      t.true(burner > 0, `burner samples ${burner}`)
      t.deepEqual(await unharmedAfter(target.pid), [])
    } finally {
      await target.kill()
    }
  })
}

// Every installed interpreter: each generation of frames (heap frame objects up to 3.10, the
// data stack from 3.11) has its own validation, so each is attacked.
for (const py of findPythons()) {
  test.serial(`${py.label}: non-blocking reads of a stack that changes all the time are refused, not invented`, async (t) => {
    const target = await spawnPython(py.path, path.join(PROGRAMS, 'safety_recursion.py'))
    try {
      // Almost every read of this program is torn (the stack moves every ~100 ns) and is
      // rightly refused: record in 2 s rounds until enough stacks were accepted to judge.
      let samples = 0
      let errors = 0
      let checked = 0
      const invented: string[] = []
      for (let round = 0; round < 5 && checked < 20; round++) {
        const profile = await sample({ pid: target.pid, seconds: 2, rate: 0.0005 })
        const result = checkRecursionStacks(parseFolded(profile.toFolded({ excludeIdle: true })))
        samples += profile.samples
        errors += profile.errors
        checked += result.checked
        invented.push(...result.invented)
      }
      t.log(`${samples} samples, ${checked} stacks checked, ${invented.length} invented, ${errors} reads counted as errors (${(100 * errors / Math.max(1, samples)).toFixed(1)}%)`)
      for (const stack of invented.slice(0, 3)) t.log(`invented: ${stack}`)
      t.true(checked >= 3, `only ${checked} stacks accepted`)
      // Validation without pausing cannot be absolute (docs/safety.md, "Torn stacks"): across
      // the runs measured there, 1 invented stack in 10,464 accepted. One is tolerated here so
      // that a once-in-thousands event does not fail a run; two mean validation has a hole.
      t.true(invented.length <= 1, `${invented.length} invented stacks of ${checked}:\n${invented.slice(0, 5).join('\n')}`)
    } finally {
      await target.kill()
    }
  })
}

;(python ? test.serial : test.serial.skip)('a long fast recording keeps the profiler\'s memory flat (RSS growth bound)', async (t) => {
  // The full measurement (60 s at 2 kHz) is in docs/safety.md; this is a short guard against
  // a gross leak: RSS between the first and last quarter of a 6 s, 5 kHz recording.
  // The long-run benchmark's target: ~1,000 distinct stacks, each held long enough to be read.
  const target = await spawnPython(python.path, path.join(ROOT, 'bench', 'targets', 'many_stacks.py'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-rss-'))
  try {
    const points: number[] = []
    let poller: NodeJS.Timeout | undefined
    const run = await pyflameTs(['record', '-p', String(target.pid), '--threads', '-r', '0.0002', '-s', '6', '-o', path.join(dir, 'p.txt')], {
      killAfterMs: 60_000,
      onSpawn: (child) => {
        poller = setInterval(() => {
          try {
            points.push(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]))
          } catch {
            // not started or already gone
          }
        }, 200)
      },
    })
    clearInterval(poller)
    t.is(run.code, 0, run.stderr)
    const samples = [...parseFolded(fs.readFileSync(path.join(dir, 'p.txt'), 'utf8')).values()].reduce((a, b) => a + b, 0)
    const quarter = Math.floor(points.length / 4)
    const early = points[quarter]
    const late = points[points.length - 1 - Math.floor(quarter / 2)]
    t.log(`${samples} samples; RSS ${early} kB at 25 %, ${late} kB near the end (${points.length} readings)`)
    t.true(samples > 1000, `${samples} samples`)
    t.true(late - early < 16 * 1024, `RSS grew by ${late - early} kB`)
  } finally {
    await target.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
