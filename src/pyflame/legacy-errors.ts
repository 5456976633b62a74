// Failures of sampling, dumping or tracing, reworded as Pyflame 1.6 reported them: its
// sentence first, then the core's explanation of what to do, then the error code.

import { fromNative, PyflameError } from '../errors'
import { LegacyFailure } from './failure'

export interface FailureContext {
  pid?: number
  output?: string
}

export function legacyFailure(error: unknown, context: FailureContext): LegacyFailure {
  // Loaded here, on failure only: `pyflame --dump` and `--version` never load the record flow.
  const { CommandExitedError, CommandNotReadableError, CommandStartError } = require('../record-flow') as typeof import('../record-flow')
  if (error instanceof LegacyFailure) return error
  const converted = fromNative(error)
  if (converted instanceof CommandStartError) {
    // Pyflame's child reported a failed exec by exiting with status 1.
    return new LegacyFailure('Child process exited with status: 1', `${converted.message}: check the command's name and that it is executable.`, converted.code)
  }
  if (converted instanceof CommandExitedError) {
    if (converted.lastError && neverPython(converted.lastError)) return byCode(converted.lastError, context)
    return new LegacyFailure(`Child process exited with status: ${converted.status ?? 'killed'}`, 'It ended before its Python interpreter could be read: a program this short has nothing to profile.', converted.code)
  }
  if (converted instanceof CommandNotReadableError) return byCode(converted.lastError, context)
  if (converted instanceof PyflameError) return byCode(converted, context)
  const message = converted instanceof Error ? converted.message : String(converted)
  return new LegacyFailure(`pyflame: ${message}`, '', 'ERR_INTERNAL')
}

function byCode(error: PyflameError, context: FailureContext): LegacyFailure {
  const advice = sentence(error.message)
  switch (error.code) {
    case 'ERR_NO_PROCESS':
    case 'ERR_PERMISSION':
    case 'ERR_READ_FAILED':
      return new LegacyFailure(`Failed to seize PID ${context.pid ?? ''}`.trimEnd(), advice, error.code)
    case 'ERR_NOT_PYTHON':
      return new LegacyFailure('Failed to locate libpython within timeout period.', advice, error.code)
    case 'ERR_UNSUPPORTED_PYTHON':
      return new LegacyFailure('Failed to detect a Python ABI.', advice, error.code)
    case 'ERR_OUTPUT':
      return new LegacyFailure(`cannot open file "${context.output ?? ''}" as output`, advice, error.code)
    default:
      return new LegacyFailure(`pyflame: ${error.message}`, '', error.code)
  }
}

/**
 * A traced command that exited while still "not Python" never was Python (a shell script
 * that only sleeps), as opposed to a Python program too short to catch after start-up.
 */
function neverPython(error: PyflameError): boolean {
  return error.code === 'ERR_NOT_PYTHON' && !/no interpreter yet/.test(error.message)
}

function sentence(message: string): string {
  const text = message.trim()
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1)
  return /[.!?)]$/.test(capitalised) ? capitalised : `${capitalised}.`
}
