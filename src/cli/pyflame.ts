#!/usr/bin/env node
// `pyflame`: a drop-in for Pyflame 1.6 (its flags, output and messages, no subcommands).
// `pyflame-ts` is the modern front; both share the option parsers and the core.

import { runPyflame } from '../pyflame/main'

// Output to a closed pipe (`| head`) ends the process quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

runPyflame(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`pyflame: ${error instanceof Error ? error.message : String(error)} (ERR_INTERNAL)\n`)
    process.exitCode = 1
  },
)
