// The start-up fast path of `pyflame-ts dump` (src/cli/fast-dump.ts) reads the plain spellings of
// dump's options without clipanion. It must read them exactly as clipanion does, and hand every
// other command line to clipanion (so help and usage errors stay clipanion's).

import test from 'ava'
import { buildCli } from '../src/cli/build-cli'
import { plainDumpOptions } from '../src/cli/fast-dump'
import type DumpCommand from '../src/commands/dump'
import type { DumpCommandOptions } from '../src/commands/dump-run'

/** What clipanion's `dump` command reads from `args`, in the fast path's terms. */
async function clipanionOptions(args: string[]): Promise<DumpCommandOptions> {
  const cli = await buildCli('dump')
  const command = cli.process(args) as DumpCommand
  return {
    pid: command.pid ?? command.positionalPid,
    json: command.json,
    locals: command.locals,
    subprocesses: command.subprocesses,
    async: command.async,
    nonblocking: command.nonblocking,
    native: command.native,
    pythonVersion: command.pythonVersion,
  }
}

const READ_HERE = [
  ['dump', '-p', '1234'],
  ['dump', '--pid', '1234'],
  ['dump', '--pid=1234'],
  ['dump', '1234'],
  ['dump'],
  ['dump', '-p', 'abc'],
  ['dump', '--pid=-5'],
  ['dump', '-p', '1234', '--json'],
  ['dump', '--locals', '-p', '77', '--subprocesses'],
  ['dump', '-l', '77', '--nonblocking', '--native'],
  ['dump', '--async', '--pid', '9', '--json'],
  ['dump', '-p', '9', '--python-version', '3.11'],
  ['dump', '--python-version=3.12', '9'],
]

for (const args of READ_HERE) {
  test(`read without clipanion as clipanion reads it: ${args.join(' ')}`, async (t) => {
    const fast = plainDumpOptions(args)
    t.not(fast, undefined, 'a plain spelling takes the fast path')
    t.deepEqual(fast, await clipanionOptions(args))
  })
}

const LEFT_TO_CLIPANION = [
  ['dump', '--help'],
  ['dump', '-h'],
  ['dump', '-p'],
  ['dump', '-p', '1', '-p', '2'],
  ['dump', '-p', '1', '2'],
  ['dump', '1', '--pid', '2'],
  ['dump', '--json', '--json', '-p', '1'],
  ['dump', '--no-json', '-p', '1'],
  ['dump', '-lp', '1'],
  ['dump', '-p', '--json'],
  ['dump', '--pid='],
  ['dump', '--locals=yes', '-p', '1'],
  ['dump', '--', '1'],
  ['dump', '-p', '1', '--frobnicate'],
  ['dump', '--python-version'],
  ['record', '-p', '1'],
  ['dmup', '-p', '1'],
  ['-p', '1', 'dump'],
  [],
]

for (const args of LEFT_TO_CLIPANION) {
  test(`left to clipanion: ${args.join(' ') || '(nothing)'}`, (t) => {
    t.is(plainDumpOptions(args), undefined)
  })
}
