// `pyflame-ts` through clipanion, with only the commands a command line needs.

import { Builtins, Cli, type BaseContext } from 'clipanion'
import { COMMANDS } from './command-modules'
import { packageVersion } from '../version'
import { runCli } from './run'
import { colorsWanted } from './terminal-text'

/**
 * The CLI with the command named by `first` alone when it is one (a smaller parser to build and
 * run), else with every command (the help lists them, a typo gets the nearest).
 */
export async function buildCli(first: string | undefined): Promise<Cli<BaseContext>> {
  const cli = new Cli({
    binaryLabel: 'pyflame-ts',
    binaryName: 'pyflame-ts',
    binaryVersion: packageVersion(),
    // Help in colour only on a terminal, and never with NO_COLOR set.
    enableColors: colorsWanted(),
  })
  const chosen = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS)
  for (const command of await Promise.all(chosen.map((name) => COMMANDS[name]()))) cli.register(command.default)
  cli.register(Builtins.HelpCommand)
  cli.register(Builtins.VersionCommand)
  return cli
}

/** Parses `args` (after `pyflame-ts`) with clipanion and runs the command. */
export async function runCommands(args: string[], suggested: string[]): Promise<void> {
  runCli(await buildCli(args[0]), 'pyflame-ts', args, suggested)
}
