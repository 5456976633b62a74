// The start-up fast path of `pyflame-ts dump` (src/cli/fast-dump.ts) reads the plain spellings of
// dump's options without clipanion. It must read them exactly as clipanion does, and hand every
// other command line to clipanion (so help and usage errors stay clipanion's). Its output goes
// straight to fd 1 (src/cli/stdout-sync.ts): a closed pipe and a full non-blocking one still end well.

import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { buildCli } from '../src/cli/build-cli'
import { plainDumpOptions } from '../src/cli/fast-dump'
import type DumpCommand from '../src/commands/dump'
import type { DumpCommandOptions } from '../src/commands/dump-run'
import { PYFLAME_TS, ROOT } from './helpers/cli'
import { findPythons, spawnPython } from './helpers/pythons'

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

const python = findPythons().find((p) => /^3\.1[1-9]/.test(p.version))
const withPython = python ? test.serial : test.skip

const WAITING = `
import time
def waiting_in_fast_dump_test():
    print("ready", flush=True)
    while True:
        time.sleep(1)
waiting_in_fast_dump_test()
`

/** Runs the dump with fd 1 a non-blocking pipe already full (EAGAIN at once), then drains it. */
const FULL_PIPE_DRIVER = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
filled = 0
try:
    while True:
        filled += os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(1)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(b"exit %d\\n" % child.wait() + data[filled:])
`

withPython('the fast dump writes through a full non-blocking pipe, and ends quietly on a closed one', async (t) => {
  const target = await spawnPython(python!.path, '-c', [WAITING])
  try {
    const args = [PYFLAME_TS, 'dump', '-p', String(target.pid), '--json']
    const full = spawnSync('python3', ['-c', FULL_PIPE_DRIVER, process.execPath, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    t.is(full.status, 0, full.stderr)
    const [status, ...rest] = full.stdout.split('\n')
    t.is(status, 'exit 0')
    const dump = JSON.parse(rest.join('\n')) as { threads: { frames: { name: string }[] }[] }
    t.true(dump.threads.some((thread) => thread.frames.some((frame) => frame.name === 'waiting_in_fast_dump_test')), 'the whole dump arrived')

    const closed = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.destroy() // the reader is gone before the dump is written: EPIPE
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('close', (code) => resolve({ code, stderr }))
    })
    t.is(closed.code, 0)
    t.is(closed.stderr, '')
  } finally {
    await target.kill()
  }
})
