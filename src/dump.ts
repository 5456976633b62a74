// One-shot stacks of every thread of a process.

import { fromNative } from './errors'
import { native } from './native'
import { parsePid } from './options'

export interface DumpFrame {
  name: string
  filename: string
  line: number
  firstLine: number
}

export interface DumpThread {
  tid: number
  pythonThreadId: string
  interpreterId: number
  name?: string
  holdsGil: boolean
  idle: boolean
  /** Innermost frame first. */
  frames: DumpFrame[]
  error?: string
}

export interface DumpResult {
  pid: number
  pythonVersion: string
  executable: string
  threads: DumpThread[]
}

export interface DumpOptions {
  /** Pause the threads while reading for a consistent snapshot (default true). */
  blocking?: boolean
  pythonVersion?: string
  forceScan?: boolean
}

export async function dump(pid: number, options: DumpOptions = {}): Promise<DumpResult> {
  const checkedPid = parsePid(pid)
  try {
    return (await native.dump(checkedPid, {
      blocking: options.blocking ?? true,
      discover: { pythonVersion: options.pythonVersion, forceScan: options.forceScan },
    })) as DumpResult
  } catch (error) {
    throw fromNative(error)
  }
}
