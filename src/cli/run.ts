// Runs a clipanion CLI: usage errors and failures become one line on stderr and exit 1;
// output to a closed pipe (`| head`) ends the process quietly.

import type { BaseContext, Cli } from 'clipanion'
import { fromNative, PyflameError } from '../errors'
import { safeMessage } from './terminal-text'
import { explainUsageError } from './usage-errors'

export function runCli(cli: Cli<BaseContext>, name: string, args: string[], commands: string[] = []): void {
  endQuietlyOnClosedPipe()
  const context = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
  let command
  try {
    command = cli.process(args, context)
  } catch (error) {
    const message = explainUsageError(error instanceof Error ? error.message : String(error), args, commands)
    process.stderr.write(`${name}: ${message}; see \`${name} --help\` (ERR_INVALID_ARGUMENT)\n`)
    process.exitCode = 1
    return
  }
  cli
    .run(command, context)
    .then((code) => {
      process.exitCode = code
    })
    .catch((error: unknown) => {
      process.stderr.write(formatError(name, error) + '\n')
      process.exitCode = 1
    })
}

function endQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

export function formatError(name: string, error: unknown): string {
  const converted = fromNative(error)
  // Messages may quote input: whatever a message holds, no control character reaches the terminal.
  if (converted instanceof PyflameError) return `${name}: ${safeMessage(converted.message)} (${converted.code})`
  if (converted instanceof Error) return `${name}: ${safeMessage(converted.message)} (ERR_INTERNAL)`
  return `${name}: ${safeMessage(String(converted))} (ERR_INTERNAL)`
}
