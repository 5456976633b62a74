#!/usr/bin/env node
// `pyflame-ts`: the modern front, with subcommands.
//
// Start-up is part of the product (`dump` should cost little more than Node itself): this file
// loads only what the command on the command line needs. `--version` loads nothing but
// package.json; a command loads clipanion and its own module, never the other commands' (the
// report, SVG, agent and pprof writers load inside the command that writes them).

import type { BaseContext, Cli, CommandClass } from 'clipanion'
import { packageVersion } from '../version'

/** Each command's module, loaded only when that command runs (or for the full help). */
const COMMANDS: Record<string, () => CommandClass<BaseContext>> = {
  record: () => require('../commands/record').default,
  dump: () => require('../commands/dump').default,
  render: () => require('../commands/render').default,
  diff: () => require('../commands/diff').default,
  top: () => require('../commands/top').default,
  agent: () => require('../commands/agent').default,
}

/** The commands a usage error suggests, in this order. */
const SUGGESTED = ['record', 'dump', 'top', 'render', 'diff']

if (require.main === module) main(process.argv.slice(2))

function main(argv: string[]): void {
  const args = normaliseTraceArgs(joinNegativeValues(argv))
  // clipanion's VersionCommand prints the same line; answering here skips loading clipanion.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${packageVersion()}\n`)
    return
  }
  const { runCli } = require('./run') as typeof import('./run')
  runCli(buildCli(args[0]), 'pyflame-ts', args, SUGGESTED)
}

/**
 * The CLI with the command named by `first` alone when it is one (a smaller parser to build and
 * run), else with every command (the help lists them, a typo gets the nearest).
 */
export function buildCli(first: string | undefined): Cli<BaseContext> {
  const { Builtins, Cli } = require('clipanion') as typeof import('clipanion')
  const { colorsWanted } = require('./terminal-text') as typeof import('./terminal-text')
  const cli = new Cli({
    binaryLabel: 'pyflame-ts',
    binaryName: 'pyflame-ts',
    binaryVersion: packageVersion(),
    // Help in colour only on a terminal, and never with NO_COLOR set.
    enableColors: colorsWanted(),
  })
  const chosen = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS)
  for (const name of chosen) cli.register(COMMANDS[name]())
  cli.register(Builtins.HelpCommand)
  cli.register(Builtins.VersionCommand)
  return cli
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
