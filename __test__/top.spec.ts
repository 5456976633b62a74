// `pyflame-ts top` under a real pseudo-terminal (util-linux `script`): the live table names the
// busy function, keys re-sort it, and q, SIGTERM or the target exiting all end it with exit
// status 0 and the terminal restored (alternate screen left, cursor shown).

import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { PYFLAME_TS, pyflameTs, ROOT } from './helpers/cli'
import { findPythons, spawnPython } from './helpers/pythons'

const PROGRAMS = path.join(ROOT, '__test__', 'programs')
const LEAVE_ALT_SCREEN = '\x1b[?1049l'
const ENTER_ALT_SCREEN = '\x1b[?1049h'
const SHOW_CURSOR = '\x1b[?25h'
const python = findPythons().find((p) => p.version.startsWith('3.12')) ?? findPythons().find((p) => !p.version.startsWith('2.'))

interface Pty {
  child: ChildProcess
  output(): string
  /** Resolves once the output matches, rejects if the session ends first. */
  waitFor(pattern: RegExp): Promise<void>
  exited: Promise<number | null>
  send(keys: string): void
}

/** Runs `pyflame-ts args` inside a pseudo-terminal (script -e returns the command's status). */
function inPty(args: string[]): Pty {
  // `exec`: script runs the command through $SHELL (dash when unset), which would otherwise stay
  // between script and node, and a signal sent to "the child" would hit the shell.
  const command = 'exec ' + [process.execPath, PYFLAME_TS, ...args].map((a) => `'${a}'`).join(' ')
  const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '120', LINES: '30' } })
  let out = ''
  const watchers: Array<() => void> = []
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d
    for (const w of watchers) w()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const safety = setTimeout(() => child.kill('SIGKILL'), 60_000)
  void exited.then(() => clearTimeout(safety))
  return {
    child,
    output: () => out,
    exited,
    send: (keys) => child.stdin!.write(keys),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => pattern.test(out) && resolve()
        watchers.push(check)
        check()
        void exited.then(() => (pattern.test(out) ? resolve() : reject(new Error(`session ended without ${pattern}; output ends with: ${JSON.stringify(out.slice(-1500))}`))))
      }),
  }
}

/** The `node pyflame-ts top` process running under `script`. */
function topPid(pty: Pty): number {
  const scriptPid = pty.child.pid!
  const children = fs.readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/).map(Number)
  if (children.length !== 1) throw new Error(`expected one child of script, got ${children}`)
  return children[0]
}

function assertRestored(t: import('ava').ExecutionContext, output: string): void {
  t.true(output.includes(ENTER_ALT_SCREEN), 'the live view used the alternate screen')
  const leave = output.lastIndexOf(LEAVE_ALT_SCREEN)
  t.true(leave > output.lastIndexOf(ENTER_ALT_SCREEN), 'the alternate screen was left')
  t.true(output.trimEnd().endsWith(SHOW_CURSOR) || output.lastIndexOf(SHOW_CURSOR) > leave, 'the cursor was shown again at the end')
}

if (!python) {
  test('top: no Python 3 interpreter to test against', (t) => t.fail('install a Python 3 (pyenv) to run the top tests'))
} else {
  test.serial(`[${python.label}] top shows the busy function, re-sorts on keys and quits on q`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'busy.py'))
    try {
      const pty = inPty(['top', '-p', String(target.pid), '--refresh', '0.3'])
      // A screen arrives in several writes: wait for its last row of interest too.
      await pty.waitFor(/heavy \([^)]*busy\.py:\d+\)[\s\S]*<module> \(/)
      const screen = pty.output()
      t.regex(screen, /%Own\*\s+%Total\s+OwnTime\s+TotalTime\s+Function \(filename:line\)/, 'sorted by %Own at first')
      t.regex(screen, /\d+\.\d%\s+\d+\.\d%\s+\d+\.\d\ds\s+\d+\.\d\ds\s+heavy \(/)
      t.regex(screen, /<module> \(/)
      pty.send('2')
      await pty.waitFor(/%Own\s+%Total\*/)
      pty.send('T')
      await pty.waitFor(/TotalTime\*/)
      // Sorted by total time, the functions every stack goes through come first.
      await pty.waitFor(/TotalTime\*[^\x1b]*\n[^\n]*\d\.\d\ds +(<module>|main) \(/)
      pty.send('q')
      t.is(await pty.exited, 0)
      assertRestored(t, pty.output())
    } finally {
      await target.kill()
    }
  })

  test.serial(`[${python.label}] top: Ctrl-C and SIGTERM also exit 0 with the terminal restored`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'busy.py'))
    try {
      const ctrlC = inPty(['top', '-p', String(target.pid), '--refresh', '0.3'])
      await ctrlC.waitFor(/heavy \(/)
      ctrlC.send('\x03')
      t.is(await ctrlC.exited, 0)
      assertRestored(t, ctrlC.output())

      const term = inPty(['top', '-p', String(target.pid), '--refresh', '0.3'])
      await term.waitFor(/heavy \(/)
      process.kill(topPid(term), 'SIGTERM')
      t.is(await term.exited, 0)
      assertRestored(t, term.output())
    } finally {
      await target.kill()
    }
  })

  test.serial(`[${python.label}] top: the target exiting ends top with the terminal restored`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'busy.py'))
    const pty = inPty(['top', '-p', String(target.pid), '--refresh', '0.3'])
    try {
      await pty.waitFor(/heavy \(/)
    } finally {
      await target.kill()
    }
    t.is(await pty.exited, 0)
    assertRestored(t, pty.output())
    t.regex(pty.output(), new RegExp(`process ${target.pid} exited`))
  })

  test.serial(`[${python.label}] top without a terminal prints plain snapshots (--iterations)`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'busy.py'))
    try {
      const run = await pyflameTs(['top', '-p', String(target.pid), '--refresh', '0.3', '--iterations', '2'])
      t.is(run.code, 0, run.stderr)
      t.is(run.stderr, '')
      t.false(run.stdout.includes('\x1b'), 'no terminal control sequences in a pipe')
      const snapshots = run.stdout.split(/\n\n(?=pyflame-ts top:)/)
      t.is(snapshots.length, 2)
      for (const snapshot of snapshots) {
        t.regex(snapshot, new RegExp(`^pyflame-ts top: process ${target.pid} \\(Python v${python.version.replace(/\./g, '\\.')}\\)`))
        t.regex(snapshot, /heavy \([^)]*busy\.py:\d+\)/)
      }
      // The busiest function by own time is first: heavy runs ~3x longer than light.
      const rows = snapshots[1].split('\n').filter((l) => /\(.*busy\.py:\d+\)$/.test(l))
      t.regex(rows[0], /heavy \(/)
    } finally {
      await target.kill()
    }
  })

  test.serial(`[${python.label}] top --threads leaves idle threads out unless --idle`, async (t) => {
    const target = await spawnPython(python.path, path.join(PROGRAMS, 'dump_threads.py'))
    try {
      const busyOnly = await pyflameTs(['top', '-p', String(target.pid), '--threads', '--refresh', '0.5', '--once'])
      t.is(busyOnly.code, 0, busyOnly.stderr)
      t.regex(busyOnly.stdout, /burn_cpu_forever \(/)
      t.notRegex(busyOnly.stdout, /sleep_forever \(/, 'the sleeping thread is idle')
      const withIdle = await pyflameTs(['top', '-p', String(target.pid), '--threads', '--idle', '--refresh', '0.5', '--once'])
      t.is(withIdle.code, 0, withIdle.stderr)
      t.regex(withIdle.stdout, /burn_cpu_forever \(/)
      t.regex(withIdle.stdout, /sleep_forever \(/)
      t.regex(withIdle.stdout, /main_waits \(/)
      t.regex(withIdle.stdout, /Threads: 3/)
    } finally {
      await target.kill()
    }
  })
}

test('top on a missing process: one error line, exit 1, the terminal never switched', async (t) => {
  const pty = inPty(['top', '-p', '999999999'])
  t.is(await pty.exited, 1)
  t.regex(pty.output(), /pyflame-ts: .*\((ERR_NO_PROCESS|ERR_INVALID_ARGUMENT)\)/)
  t.false(pty.output().includes(ENTER_ALT_SCREEN))
})
