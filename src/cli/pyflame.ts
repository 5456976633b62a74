#!/usr/bin/env node
// `pyflame`: a drop-in for Pyflame 1.6 (its flags, output and messages, no subcommands).
// `pyflame-ts` is the modern front; both share the option parsers and the core.

import { runPyflame } from '../pyflame/main'
import { stdoutSync } from './stdout-sync'

// Output straight to fd 1, and process.stderr created only for a message (start-up, ./stdout-sync.ts);
// output to a closed pipe (`| head`) ends the process quietly.
const stderr = { write: (text: string) => process.stderr.write(text) }

runPyflame(process.argv.slice(2), { stdout: stdoutSync, stderr }).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`pyflame: ${error instanceof Error ? error.message : String(error)} (ERR_INTERNAL)\n`)
    process.exitCode = 1
  },
)
