// `pyflame-ts dump` with options ./fast-dump.ts read: the dump without clipanion, its failures
// reported as a clipanion command reports them (../commands/base.ts).

import { runDump, type DumpCommandOptions } from '../commands/dump-run'
import { formatError } from './run'
import { stdoutSync } from './stdout-sync'

export async function runPlainDump(options: DumpCommandOptions): Promise<void> {
  try {
    // process.stderr is created only for a notice to write (see ./stdout-sync.ts for why).
    const stderr = { write: (text: string) => process.stderr.write(text) }
    process.exitCode = await runDump(options, { stdout: stdoutSync, stderr })
  } catch (error) {
    process.stderr.write(formatError('pyflame-ts', error) + '\n')
    process.exitCode = 1
  }
}
