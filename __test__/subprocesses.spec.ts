// `--subprocesses` waits a bounded time (`--subprocess-wait`, default 2 s) for a first Python
// process below (or at) the PID, and roots every sample at its process, even when only one
// process is sampled.

import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { parseFolded, pyflameTs } from './helpers/cli'
import { findPythons } from './helpers/pythons'

const python = [...findPythons()].reverse().find((p) => !p.version.startsWith('2.'))
const SPIN = 'def spin():\n    while True:\n        sum(range(1000))\nspin()'

/** A shell that runs `script` (its `$0` is the Python): stays our child, in its own group. */
function shell(script: string): ChildProcess {
  return spawn('sh', ['-c', script, python!.path], { stdio: 'ignore', detached: true })
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL')
  } catch {
    // already gone
  }
}

if (python) {
  test(`[${python.label}] a shell that starts Python a moment later is waited for, and its one child labels every sample`, async (t) => {
    // The child starts about 0.5 s after the recording does; the shell itself stays a shell.
    const launcher = shell(`sleep 0.5; "$0" -c '${SPIN}'; true`)
    try {
      const run = await pyflameTs(['record', '-p', String(launcher.pid), '--subprocesses', '-s', '1.5', '-r', '0.01'])
      t.is(run.code, 0, run.stderr)
      const stacks = parseFolded(run.stdout)
      const roots = new Set([...stacks.keys()].map((stack) => stack.split(';')[0]))
      t.is(roots.size, 1, `one process: ${[...roots].join(', ')}`)
      const [root] = roots
      t.regex(root, /^process \d+$/)
      t.not(root, `process ${launcher.pid}`, 'the Python child, not the shell')
      t.true([...stacks.keys()].some((stack) => stack.endsWith(':spin:3')), run.stdout)
    } finally {
      killGroup(launcher)
    }
  })

  test(`[${python.label}] a launcher that execs Python a moment later is sampled itself, rooted at its process`, async (t) => {
    const launcher = shell(`sleep 0.5; exec "$0" -c '${SPIN}'`)
    try {
      const run = await pyflameTs(['record', '-p', String(launcher.pid), '--subprocesses', '-s', '1', '-r', '0.01', '-x'])
      t.is(run.code, 0, run.stderr)
      const lines = run.stdout.trim().split('\n')
      t.true(lines.length > 0)
      for (const line of lines) t.true(line.startsWith(`process ${launcher.pid};`), line)
    } finally {
      killGroup(launcher)
    }
  })

  test(`[${python.label}] with one Python process, --subprocesses still roots (idle) and every stack at the process`, async (t) => {
    const launcher = shell(`"$0" -c 'import time\ntime.sleep(30)'; true`)
    try {
      const run = await pyflameTs(['record', '-p', String(launcher.pid), '--subprocesses', '-s', '1', '-r', '0.02'])
      t.is(run.code, 0, run.stderr)
      const lines = run.stdout.trim().split('\n')
      t.true(lines.some((line) => /^process \d+;\(idle\) \d+$/.test(line)), run.stdout)
      for (const line of lines) t.regex(line, /^process \d+;/)
    } finally {
      killGroup(launcher)
    }
  })
}

test('--subprocesses gives up after --subprocess-wait when no Python appears', async (t) => {
  const launcher = spawn('sleep', ['30'], { stdio: 'ignore', detached: true })
  try {
    const run = await pyflameTs(['record', '-p', String(launcher.pid), '--subprocesses', '--subprocess-wait', '0.3', '-s', '1'])
    t.is(run.code, 1)
    t.regex(run.stderr, /ran CPython within 0\.3 s.*--subprocess-wait SECONDS.*\(ERR_NOT_PYTHON\)\n$/)
    t.is(run.stderr.split('\n').length, 2, 'one line')
  } finally {
    killGroup(launcher)
  }
})

test('--subprocess-wait must be a number of seconds', async (t) => {
  const run = await pyflameTs(['record', '-p', String(process.pid), '--subprocesses', '--subprocess-wait', 'soon'])
  t.is(run.code, 1)
  t.regex(run.stderr, /--subprocess-wait takes a number of seconds.*\(ERR_INVALID_ARGUMENT\)\n$/)
})
