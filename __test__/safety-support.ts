// Shared by the safety specs: what the kernel says about a target's threads, whether a
// target keeps making progress, and the interpreter the specs run against.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT } from './helpers/cli'
import { findPythons, majorMinor, type PythonInstall } from './helpers/pythons'

export const PROGRAMS = path.join(ROOT, '__test__', 'programs')

export interface TaskState {
  tid: number
  /** One-letter state of /proc/PID/task/TID/stat: R, S, D, t (traced stop), T (stopped), Z... */
  state: string
  /** TracerPid from /proc/PID/task/TID/status (0: nobody traces it). */
  tracer: number
}

/** Every thread of `pid` as the kernel sees it now; threads that vanish mid-read are skipped. */
export function taskStates(pid: number): TaskState[] {
  const out: TaskState[] = []
  let tids: string[]
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1')
      const tracer = Number(/^TracerPid:\s*(\d+)/m.exec(status)?.[1] ?? 0)
      out.push({ tid: Number(tid), state, tracer })
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out
}

/** Threads left stopped (t/T), traced by someone, or zombie: each is harm to the target. */
export function harmedTasks(pid: number): TaskState[] {
  return taskStates(pid).filter((t) => t.state === 't' || t.state === 'T' || t.tracer !== 0 || (t.state === 'Z' && t.tid !== pid))
}

export function readCounter(file: string): number {
  try {
    return Number(fs.readFileSync(file, 'utf8')) || 0
  } catch {
    return 0
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Waits until the counter the target writes moves past its current value; resolves to how
 * much it advanced, or 0 if it never did within `withinMs` (a safety net, not a timing claim).
 */
export async function progressAfter(file: string, withinMs = 5000): Promise<number> {
  const before = readCounter(file)
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    await sleep(25)
    const now = readCounter(file)
    if (now > before) return now - before
  }
  return 0
}

/** The newest Python 3 found (the safety specs need one interpreter, not all of them). */
export function newestPython3(minMinor = 6): PythonInstall | undefined {
  const candidates = findPythons().filter((p) => {
    const [major, minor] = majorMinor(p.version)
    return major === 3 && minor >= minMinor && minor <= 13
  })
  candidates.sort((a, b) => majorMinor(b.version)[1] - majorMinor(a.version)[1])
  return candidates.find((p) => p.kind === 'pyenv-shared') ?? candidates[0]
}

/** Folded text must be complete: every line `stack count`, ending with a newline. */
export function isCompleteFolded(text: string): boolean {
  return text.length > 0 && text.endsWith('\n') && text.split('\n').slice(0, -1).every((line) => /^.+ \d+$/.test(line))
}

/** Resolves true once some thread of `pid` is traced (a blocking recording has seized it). */
export async function waitTraced(pid: number, withinMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (taskStates(pid).some((t) => t.tracer !== 0)) return true
    await sleep(5)
  }
  return false
}

/**
 * Splits the stacks sampled from `programs/safety_recursion.py` into real call paths and
 * invented ones. The program's only paths are `<module>` → `main` → `rec`… → `leaf`, and
 * `main` → random's internals; anything else (a root missing, `leaf` under `main`, `rec`
 * under random) was made up from a torn read.
 */
export function checkRecursionStacks(stacks: Map<string, number>): { checked: number; invented: string[] } {
  const program = 'safety_recursion.py'
  let checked = 0
  const invented: string[] = []
  for (const [stack, count] of stacks) {
    const frames = stack.split(';').map((f) => {
      const parts = f.split(':')
      return { file: parts.slice(0, -2).join(':'), fn: parts[parts.length - 2] }
    })
    const ours = (i: number) => frames[i].file.endsWith(program)
    let ok = frames.length >= 2 && ours(0) && frames[0].fn === '<module>' && ours(1) && frames[1].fn === 'main'
    for (let i = 2; ok && i < frames.length; i++) {
      const caller = frames[i - 1]
      const frame = frames[i]
      if (!ours(i)) ok = caller.fn === 'main' || !caller.file.endsWith(program) // random.randint and what it calls
      else if (frame.fn === 'rec') ok = ours(i - 1) && (caller.fn === 'rec' || caller.fn === 'main')
      else if (frame.fn === 'leaf') ok = ours(i - 1) && caller.fn === 'rec'
      else ok = false
    }
    checked += count
    if (!ok) invented.push(`${count} × ${stack}`)
  }
  return { checked, invented }
}
