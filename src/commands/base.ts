// Base for every command: failures become one line on stderr with the error code, and a
// non-zero exit, instead of clipanion's stack trace on stdout.

import { Command } from 'clipanion'
import { formatError } from '../cli/run'

export abstract class PyflameCommand extends Command {
  /** The command's work; throw a PyflameError for a failure the user can fix. */
  abstract run(): Promise<number>

  async execute(): Promise<number> {
    try {
      return await this.run()
    } catch (error) {
      this.context.stderr.write(formatError(this.cli.binaryName, error) + '\n')
      return 1
    }
  }
}
