// Runs a clipanion CLI: usage errors and failures become one line on stderr and exit 1;
// output to a closed pipe (`| head`) ends the process quietly.

import type { BaseContext, Cli } from 'clipanion'
import { fromNative, PyflameError } from '../errors'

export function runCli(cli: Cli<BaseContext>, name: string, args: string[]): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
  const context = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
  let command
  try {
    command = cli.process(args, context)
  } catch (error) {
    const message = error instanceof Error ? error.message.trim().split('\n')[0] : String(error)
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

export function formatError(name: string, error: unknown): string {
  const converted = fromNative(error)
  if (converted instanceof PyflameError) return `${name}: ${converted.message} (${converted.code})`
  if (converted instanceof Error) return `${name}: ${converted.message} (ERR_INTERNAL)`
  return `${name}: ${String(converted)} (ERR_INTERNAL)`
}
