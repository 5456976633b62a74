#!/usr/bin/env node
// `pyflame-ts`: the modern front, with subcommands.

import { Builtins, Cli } from 'clipanion'
import { runCli } from './run'
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
})
cli.register(RecordCommand)
cli.register(DumpCommand)
cli.register(RenderCommand)
cli.register(DiffCommand)
cli.register(TopCommand)
cli.register(Builtins.HelpCommand)
cli.register(Builtins.VersionCommand)

runCli(cli, 'pyflame-ts', normaliseTraceArgs(process.argv.slice(2)))

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
