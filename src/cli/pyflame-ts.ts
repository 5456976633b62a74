#!/usr/bin/env node
// `pyflame-ts`: the modern front, with subcommands.

import { Builtins, Cli } from 'clipanion'
import { runCli } from './run'
import { colorsWanted } from './terminal-text'
import AgentCommand from '../commands/agent'
import DiffCommand from '../commands/diff'
import DumpCommand from '../commands/dump'
import RecordCommand from '../commands/record'
import RenderCommand from '../commands/render'
import TopCommand from '../commands/top'
import { packageVersion } from '../version'

const cli = new Cli({
  binaryLabel: 'pyflame-ts',
  binaryName: 'pyflame-ts',
  binaryVersion: packageVersion(),
  // Help in colour only on a terminal, and never with NO_COLOR set.
  enableColors: colorsWanted(),
})
cli.register(RecordCommand)
cli.register(DumpCommand)
cli.register(RenderCommand)
cli.register(DiffCommand)
cli.register(TopCommand)
cli.register(AgentCommand)
cli.register(Builtins.HelpCommand)
cli.register(Builtins.VersionCommand)

runCli(cli, 'pyflame-ts', normaliseTraceArgs(joinNegativeValues(process.argv.slice(2))), ['record', 'dump', 'top', 'render', 'diff'])

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
