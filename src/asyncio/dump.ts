// `dumpAsync(pid)`: every asyncio task of a process at one moment (CPython 3.7+; not free-threaded 3.13).

import { fromNative } from '../errors'
import { native } from '../native'
import { parsePid } from '../options'
import { findCycles } from './tree'

export interface AsyncFrame {
  name: string
  filename: string
  line: number
  firstLine: number
}

export interface AsyncTaskInfo {
  /** Address of the task object (hex): what `awaitedBy` and `awaitsTask` refer to. */
  id: string
  name: string
  /** Kernel tid of the thread running this task now; absent while it waits. */
  runningTid?: number
  /** The coroutine stack, outermost coroutine first (sleeping coroutines included). */
  frames: AsyncFrame[]
  /** The task this one awaits directly (`await other_task`). */
  awaitsTask?: string
  /** What it awaits otherwise, by type (`_asyncio.Future`, `_GatheringFuture`, ...). */
  awaitsObject?: string
  /** Ids of the tasks awaiting this one (a `gather` or `TaskGroup` parent, an `await`er). */
  awaitedBy: string[]
  /** Why this task could not be read (it is listed without frames). */
  error?: string
}

export interface AsyncDumpResult {
  pid: number
  pythonVersion: string
  executable: string
  /** False when the process has not imported asyncio (then there are no tasks). */
  asyncioLoaded: boolean
  tasks: AsyncTaskInfo[]
  /** Groups of task ids that await each other in a circle (each awaits the next). */
  cycles: string[][]
}

export interface AsyncDumpOptions {
  /** Pause the threads while reading for a consistent snapshot (default true). */
  blocking?: boolean
  pythonVersion?: string
  forceScan?: boolean
}

export async function dumpAsync(pid: number, options: AsyncDumpOptions = {}): Promise<AsyncDumpResult> {
  const checkedPid = parsePid(pid)
  let raw: Omit<AsyncDumpResult, 'cycles'>
  try {
    raw = (await native.dumpAsync(checkedPid, {
      blocking: options.blocking ?? true,
      discover: { pythonVersion: options.pythonVersion, forceScan: options.forceScan },
    })) as Omit<AsyncDumpResult, 'cycles'>
  } catch (error) {
    throw fromNative(error)
  }
  return { ...raw, cycles: findCycles(raw.tasks) }
}
