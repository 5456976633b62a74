// `pyflame-ts dump` with options ./fast-dump.ts read: the dump without clipanion.

import type { DumpCommandOptions } from '../commands/dump-run'
import { runDump } from '../commands/dump-run'
import { runCommand } from './run'

export function runPlainDump(options: DumpCommandOptions): Promise<void> {
  return runCommand('pyflame-ts', () => runDump(options, process))
}
