#!/usr/bin/env node
// `pyflame-ts`: the modern front, with subcommands.
//
// Start-up is part of the product (`dump` should cost little more than Node itself): this file
// loads only what the command on the command line needs. `--version` loads nothing but
// package.json; a plain `dump -p PID` loads the dump and the addon, not clipanion
// (./fast-dump.ts), and writes to fd 1 without creating process.stdout; any other command loads
// clipanion and runs its own module, never the other commands' (the report, SVG, agent and pprof
// writers run inside the command that writes them). The build bundles this file and each module
// it imports with `import()` (scripts/bundle-cli.mjs).

import { packageVersion } from '../version'
import { plainDumpOptions } from './fast-dump'

/** The commands a usage error suggests, in this order. */
const SUGGESTED = ['record', 'dump', 'top', 'render', 'diff']

if (require.main === module) void main(process.argv.slice(2))

async function main(argv: string[]): Promise<void> {
  const args = normaliseTraceArgs(joinNegativeValues(argv))
  // clipanion's VersionCommand prints the same line; answering here skips loading clipanion.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${packageVersion()}\n`)
    return
  }
  const dumpOptions = plainDumpOptions(args)
  if (dumpOptions !== undefined) {
    const { runPlainDump } = await import('./dump-main')
    return runPlainDump(dumpOptions)
  }
  const { runCommands } = await import('./build-cli')
  return runCommands(args, SUGGESTED)
}

/**
 * `-s -1` would read `-1` as an option; join a negative number to the option before it
 * (`--seconds=-1`) so the value is checked and explained like any other.
 */
export function joinNegativeValues(args: string[]): string[] {
  const longName: Record<string, string> = { '-s': '--seconds', '-r': '--rate', '-p': '--pid' }
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const name = longName[args[i]] ?? (['--seconds', '--duration', '--rate', '--hz', '--pid'].includes(args[i]) ? args[i] : undefined)
    if (name !== undefined && /^-\d/.test(args[i + 1] ?? '')) {
      out.push(`${name}=${args[i + 1]}`)
      i++
    } else {
      out.push(args[i])
    }
  }
  return out
}

/**
 * Pyflame's `-t` takes the rest of the command line as the command to run, options and all.
 * Clipanion reads everything after `--` as plain arguments, so insert one after `-t`.
 */
export function normaliseTraceArgs(args: string[]): string[] {
  if (args[0] !== 'record') return args
  const index = args.findIndex((a, i) => i > 0 && (a === '-t' || a === '--trace'))
  if (index < 0 || args[index + 1] === '--') return args
  return [...args.slice(0, index + 1), '--', ...args.slice(index + 1)]
}
