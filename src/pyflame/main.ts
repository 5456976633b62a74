// The `pyflame` command: Pyflame 1.6's flags, output and messages, on the shared core. Parsing
// is in ./command-line.ts; sampling goes through the same record flow as `pyflame-ts record`.

// Each mode loads what it runs when it runs (start-up is measured in bench/startup.mjs).

import { safeMessage } from '../cli/terminal-text'
import type { ViewOptions } from '../writers/view-options'
import { supportedAbis } from './abi'
import { parseCommandLine, type Invocation, type Sampling } from './command-line'
import { openDestination } from './destination'
import { LegacyFailure } from './failure'
import { legacyFailure } from './legacy-errors'
import { buildString, HELP, versionLine } from './usage'

/** Where `pyflame` writes (process.stdout and process.stderr, or anything with `write`). */
export interface Streams {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
}

/**
 * A traced command that is still not a readable Python after this long is not one. Pyflame
 * gave up after 50 intervals; start-up on a loaded machine can take longer than that.
 */
const TRACE_READABLE_TIMEOUT_MS = 5000

/** Runs `pyflame` with `args` (without the program name) and resolves to the exit code. */
export async function runPyflame(args: readonly string[], streams: Streams): Promise<number> {
  let invocation: Invocation | undefined
  try {
    invocation = parseCommandLine(args)
    switch (invocation.mode) {
      case 'help':
        streams.stdout.write(`${buildString()}\n\n${HELP}`)
        return 0
      case 'version':
        streams.stdout.write(`${versionLine(supportedAbis())}\n`)
        return 0
      case 'dump':
        for (const warning of invocation.warnings) streams.stderr.write(`${safeMessage(warning)}\n`)
        await dumpStacks(invocation, streams)
        return 0
      case 'record':
        for (const warning of invocation.warnings) streams.stderr.write(`${safeMessage(warning)}\n`)
        await record(invocation, streams)
        // Pyflame exited 0 once the profile was written, whatever a traced command returned.
        return 0
    }
  } catch (error) {
    const context = invocation && invocation.mode !== 'help' && invocation.mode !== 'version' ? { pid: invocation.pid, output: invocation.output } : {}
    // Messages may quote input (a path, an argument): no control character reaches the terminal.
    streams.stderr.write(safeMessage(legacyFailure(error, context).render()))
    return 1
  }
}

async function dumpStacks(invocation: Extract<Invocation, { mode: 'dump' }>, streams: Streams): Promise<void> {
  const { dump } = await import('../dump')
  const { dumpText } = await import('./dump-text')
  const destination = openDestination(invocation.output, streams.stdout)
  try {
    const result = await dump(invocation.pid, { pythonVersion: invocation.pythonVersion })
    destination.write(dumpText(result))
    destination.commit()
  } catch (error) {
    destination.abort()
    throw error
  }
}

async function record(sampling: Sampling, streams: Streams): Promise<void> {
  const command = sampling.command
  if (command && /pyflame(-ts)?$/.test(command[0])) {
    throw new LegacyFailure('You tried to pyflame a pyflame, naughty!', 'pyflame cannot profile itself: give -t a Python command, e.g. pyflame -t python app.py.', 'ERR_INVALID_ARGUMENT')
  }
  const { recordThenWrite } = await import('../record-flow')
  const { flamechartLines } = await import('./flamechart')
  const { pyflameFoldedLines } = await import('./folded-text')
  const view: ViewOptions = {
    threads: sampling.threads,
    excludeIdle: sampling.excludeIdle,
    // With --threads Pyflame kept every thread's stack; -x only dropped the (idle) bucket.
    idle: sampling.threads,
    lineNumbers: sampling.lineNumbers,
  }
  await recordThenWrite(
    {
      pid: sampling.pid,
      command,
      commandStdoutToStderr: sampling.output === undefined,
      seconds: sampling.seconds,
      interval: sampling.interval,
      sampling: { timeline: sampling.flamechart, pythonVersion: sampling.pythonVersion },
      progress: false,
      readableTimeoutMs: TRACE_READABLE_TIMEOUT_MS,
    },
    {
      open: () => openDestination(sampling.output, streams.stdout),
      write: async (profile, destination) => {
        const lines = sampling.flamechart ? flamechartLines(profile.raw, view) : pyflameFoldedLines(profile.raw, view)
        let text = ''
        for (const line of lines) text += `${line}\n`
        destination.write(text)
        destination.commit()
      },
    },
  )
}
