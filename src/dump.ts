// One-shot stacks of every thread of a process.

import * as fs from 'node:fs'
import { fromNative, PyflameError } from './errors'
import { native } from './native'
import { parsePid } from './options'

export interface DumpLocal {
  name: string
  /** Python's repr of int, float, str, bytes, bool and None (at most 80 characters), else `<typename>`. */
  repr: string
}

export interface DumpFrame {
  name: string
  filename: string
  line: number
  firstLine: number
  /** With `native`: true on native frames (`filename` is the binary, `name` the function or `+0x<offset>`). */
  native?: boolean
  /** With `locals`: the frame's bound local variables (cell variables included). */
  locals?: DumpLocal[]
}

export interface DumpThread {
  tid: number
  pythonThreadId: string
  interpreterId: number
  /** Python's name for the thread (`threading.Thread.name`, e.g. `MainThread`), else the kernel's. */
  name?: string
  /** The kernel's name for the thread (`/proc/PID/task/TID/comm`). */
  kernelName?: string
  holdsGil: boolean
  idle: boolean
  /** Innermost frame first. */
  frames: DumpFrame[]
  error?: string
  /** With `locals`: why this thread's locals could not be read (its stack still is). */
  localsError?: string
}

export interface DumpResult {
  pid: number
  pythonVersion: string
  executable: string
  /** Built with `--disable-gil` (3.13t and later). */
  freeThreaded: boolean
  /** Free-threaded and running without a GIL: no thread holds one. */
  gilDisabled: boolean
  /** One-line warnings about how the process was read (e.g. a Python newer than this build). */
  notices: string[]
  threads: DumpThread[]
}

export interface DumpOptions {
  /** Pause the threads while reading for a consistent snapshot (default true). */
  blocking?: boolean
  pythonVersion?: string
  forceScan?: boolean
  /** Also read each frame's local variables (names and short reprs). */
  locals?: boolean
  /** Also unwind each thread's native stack and merge it with the Python frames. */
  native?: boolean
}

export async function dump(pid: number, options: DumpOptions = {}): Promise<DumpResult> {
  const checkedPid = parsePid(pid)
  try {
    return (await native.dump(checkedPid, {
      blocking: options.blocking ?? true,
      discover: { pythonVersion: options.pythonVersion, forceScan: options.forceScan },
      locals: options.locals ?? false,
      native: options.native ?? false,
    })) as DumpResult
  } catch (error) {
    throw fromNative(error)
  }
}

/**
 * Dumps `pid` and every Python process below it, each once, parents before children. Processes
 * that are not Python (a shell, a launcher), zombies and processes gone meanwhile are skipped;
 * the root's error is thrown only when no process of the tree could be dumped.
 */
export async function dumpProcessTree(pid: number, options: DumpOptions = {}): Promise<DumpResult[]> {
  const root = parsePid(pid)
  const results: DumpResult[] = []
  let rootError: unknown
  for (const member of processTree(root)) {
    try {
      results.push(await dump(member, options))
    } catch (error) {
      if (member === root) rootError = error
      else if (!(error instanceof PyflameError && SKIPPED_IN_TREE.has(error.code))) throw error
    }
  }
  if (results.length === 0) throw rootError ?? new PyflameError('ERR_NOT_PYTHON', `no Python process found in the tree of ${root}`)
  return results
}

/** Errors that mean "this member of the tree is not a Python process to dump". */
const SKIPPED_IN_TREE = new Set(['ERR_NOT_PYTHON', 'ERR_NO_PROCESS', 'ERR_UNSUPPORTED_PYTHON'])

/** `pid` and its descendants (breadth first, each once), leaving out zombies. */
export function processTree(pid: number): number[] {
  const seen = new Set<number>()
  const queue = [pid]
  while (queue.length > 0) {
    const current = queue.shift()!
    if (seen.has(current)) continue
    if (current !== pid && processState(current) === 'Z') continue
    seen.add(current)
    queue.push(...childrenOf(current))
  }
  return [...seen]
}

function childrenOf(pid: number): number[] {
  const children = new Set<number>()
  let tids: string[] = []
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
  for (const tid of tids) {
    try {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) {
        if (child) children.add(Number(child))
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return [...children].sort((a, b) => a - b)
}

function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return undefined
  }
}
