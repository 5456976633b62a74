// The "record, then write" flow shared by `pyflame-ts record` and the `pyflame` drop-in:
// start the traced command (or take the PID), open the destination, wait until the
// interpreter can be read, record until the duration, Ctrl-C or the target's exit, then
// hand the profile to the front's writer. Each front only maps its flags onto this.

import { type ChildProcess, spawn } from 'node:child_process'
import { PyflameError } from './errors'
import { progressDisplay } from './progress'
import { startRecording, type RecordingHandle, type SampleOptions } from './sample'
import type { Profile } from './profile'

/** Where the profile goes; created before sampling so an unwritable path fails first. */
export interface Destination {
  /** Drops what was written (the target is left untouched). */
  abort(): void
}

export interface RecordRequest {
  /** The process to sample; ignored when `command` is given. */
  pid?: number
  /** A command to run and sample until it exits. */
  command?: string[]
  /** Send the command's stdout to our stderr (when the profile itself goes to stdout). */
  commandStdoutToStderr?: boolean
  seconds: number
  interval: number
  sampling?: Pick<SampleOptions, 'blocking' | 'native' | 'subprocesses' | 'subprocessWait' | 'timeline' | 'pythonVersion' | 'periodic' | 'requireGil' | 'async'>
  /** Show the progress line on a terminal. */
  progress?: boolean
  /**
   * For a command: give up when its interpreter still cannot be read after this long
   * (default: keep trying until the command exits).
   */
  readableTimeoutMs?: number
}

export interface RecordSteps<D extends Destination | undefined> {
  /** Opens the destination once the PID is known (the default file name carries it). */
  open(pid: number): D
  /** Writes the finished profile; a throw aborts the destination. */
  write(profile: Profile, destination: D): Promise<void>
}

export interface RecordOutcome<D> {
  profile: Profile
  pid: number
  destination: D
  /** Exit status of the traced command (undefined without one; null when unknown). */
  commandStatus?: number | null
  /** The signal that stopped the recording early (the profile was still written). */
  interruptedBy?: NodeJS.Signals
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }

/** The shell's status for a process ended by `signal`: 128 + its number (130 for Ctrl-C). */
export function signalExitStatus(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0)
}

/**
 * The traced command exited before its interpreter could be read. `lastError` is why the
 * last attempt failed (e.g. ERR_NOT_PYTHON: it was never a Python process).
 */
export class CommandExitedError extends PyflameError {
  constructor(
    readonly status: number | null,
    readonly lastError: PyflameError | undefined,
  ) {
    super('ERR_NO_PROCESS', `Child process exited with status: ${status ?? 'killed'} (before it could be sampled; a program this short has nothing to profile)`)
  }
}

/** The traced command could not be started at all (not found, not executable). */
export class CommandStartError extends PyflameError {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super('ERR_NO_PROCESS', `cannot run ${command}: ${reason}`)
  }
}

/** The traced command kept running but never became readable within `readableTimeoutMs`. */
export class CommandNotReadableError extends PyflameError {
  constructor(readonly lastError: PyflameError) {
    super(lastError.code, lastError.message, { cause: lastError })
  }
}

export async function recordThenWrite<D extends Destination | undefined>(request: RecordRequest, steps: RecordSteps<D>): Promise<RecordOutcome<D>> {
  let pid = request.pid ?? 0
  let traced: TracedCommand | undefined
  if (request.command && request.command.length > 0) {
    traced = spawnTraced(request.command, request.commandStdoutToStderr ?? false)
    // Without a PID the spawn failed; its 'error' event says why (e.g. ENOENT).
    if (traced.child.pid === undefined) {
      await traced.exit
      throw new CommandStartError(request.command[0], 'no process was started')
    }
    pid = traced.child.pid
  }
  const destination = steps.open(pid)

  let handle: RecordingHandle
  try {
    handle = await start(request, pid, traced)
  } catch (error) {
    destination?.abort()
    throw error
  }
  const display = request.progress ? progressDisplay(request.seconds, request.interval) : { update() {}, stop() {} }
  const timer = setInterval(() => display.update(handle.progress()), 100)
  let interrupted = 0
  let interruptedBy: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted += 1
    interruptedBy ??= signal
    if (interrupted > 1) process.exit(130)
    handle.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  traced?.exit.then(
    () => handle.stop(),
    () => handle.stop(),
  )
  let profile: Profile
  try {
    profile = await handle.done
  } catch (error) {
    destination?.abort()
    throw error
  } finally {
    clearInterval(timer)
    display.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }

  // Said once per process: how it was read (no GIL, a Python newer than this build).
  for (const summary of profile.raw.processes) {
    for (const notice of summary.notices ?? []) process.stderr.write(`pyflame-ts: process ${summary.pid}: ${notice}\n`)
  }
  try {
    await steps.write(profile, destination)
  } catch (error) {
    destination?.abort()
    throw error
  }
  const outcome: RecordOutcome<D> = { profile, pid, destination, interruptedBy }
  if (traced) outcome.commandStatus = await traced.exit
  return outcome
}

/** Starts recording; for a traced command, waits until its interpreter can be read. */
async function start(request: RecordRequest, pid: number, traced?: TracedCommand): Promise<RecordingHandle> {
  const options: SampleOptions = {
    pid,
    seconds: request.seconds,
    rate: request.interval,
    blocking: request.sampling?.blocking ?? false,
    native: request.sampling?.native ?? false,
    subprocesses: request.sampling?.subprocesses ?? false,
    subprocessWait: request.sampling?.subprocessWait,
    timeline: request.sampling?.timeline ?? false,
    periodic: request.sampling?.periodic ?? false,
    pythonVersion: request.sampling?.pythonVersion,
    requireGil: request.sampling?.requireGil ?? false,
    async: request.sampling?.async,
  }
  if (!traced) return startRecording(options)
  let exited = false
  let startFailure: unknown
  traced.exit.then(
    () => (exited = true),
    (error: unknown) => {
      exited = true
      startFailure = error
    },
  )
  const startedAt = Date.now()
  // Why the last attempt while the command ran failed (e.g. not Python yet).
  let lastError: PyflameError | undefined
  // The command needs a moment to load and initialise Python before it can be read.
  for (;;) {
    try {
      return await sampling(startRecording(options))
    } catch (error) {
      const code = (error as PyflameError).code
      // The command may be gone before its exit event has reached us.
      if (code === 'ERR_NO_PROCESS' && !exited) await traced.exit.catch(() => {})
      if (exited) {
        if (startFailure) throw startFailure
        throw new CommandExitedError(await traced.exit, lastError ?? (error instanceof PyflameError ? error : undefined))
      }
      const retry = code === 'ERR_NOT_PYTHON' || code === 'ERR_UNSUPPORTED_PYTHON' || code === 'ERR_READ_FAILED'
      if (!retry) throw error
      lastError = error as PyflameError
      if (request.readableTimeoutMs !== undefined && Date.now() - startedAt > request.readableTimeoutMs) {
        throw new CommandNotReadableError(lastError)
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
}

/**
 * Resolves with the handle once the recording has taken a sample (or already ended well);
 * rejects when it failed before that. The core finds the interpreter on its own thread,
 * so a process that is not readable yet shows as a rejected `done`, not as a throw.
 */
async function sampling(handle: RecordingHandle): Promise<RecordingHandle> {
  let settled = false
  const ended = handle.done.then(
    () => {
      settled = true
    },
    (error: unknown) => {
      settled = true
      throw error
    },
  )
  const started = (async () => {
    while (!settled && handle.progress().ticks === 0) await new Promise((resolve) => setTimeout(resolve, 2))
  })()
  await Promise.race([ended, started])
  return handle
}

interface TracedCommand {
  child: ChildProcess
  /** Exit status (128 when killed by a signal); rejects with CommandStartError. */
  exit: Promise<number | null>
}

function spawnTraced(command: string[], stdoutToStderr: boolean): TracedCommand {
  const [file, ...args] = command
  // The command's stdout must not mix into a profile written to stdout.
  const child = spawn(file, args, { stdio: ['inherit', stdoutToStderr ? process.stderr : 'inherit', 'inherit'] })
  const exit = new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => reject(new CommandStartError(file, error.message)))
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)))
  })
  exit.catch(() => {})
  return { child, exit }
}
