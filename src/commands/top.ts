// `pyflame-ts top`: a live view of the functions using the most time, like py-spy top.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { PyflameError } from '../errors'
import { parseHertz, parseInterval, parsePid, parseSubprocessWait } from '../options'
import { startRecording, type RecordingHandle } from '../sample'
import { FunctionStats } from '../top/function-stats'
import { renderScreen } from '../top/render'
import { SORT_KEYS, type SortColumn } from '../top/sort'
import { LiveTerminal } from '../top/terminal'

const CTRL_C = '\x03'

export default class TopCommand extends PyflameCommand {
  static paths = [['top']]

  static usage = Command.Usage({
    description: 'Show a live, refreshing view of the functions using the most time',
    details: `
      Samples the process continuously and redraws a table every \`--refresh\` seconds: each function's
      share of the last refresh (\`%Own\`: running itself, \`%Total\`: anywhere on the stack) and its
      time since \`top\` started. Sort with 1-4 (or o, t, O, T); quit with q or Ctrl-C.

      By default each sample is the thread holding the GIL (as in \`record\`); \`--threads\` counts every
      thread, leaving out idle ones unless \`--idle\`. When stdout is not a terminal, a plain-text
      snapshot is printed at every refresh instead (\`--once\` or \`--iterations N\` to stop after a few).
    `,
    examples: [
      ['Watch PID 1234', '$0 top -p 1234'],
      ['Every thread, sampled 200 times a second', '$0 top -p 1234 --threads --hz 200'],
      ['One 2-second snapshot for a log', '$0 top -p 1234 --refresh 2 --once > top.txt'],
    ],
  })

  pid = Option.String('-p,--pid', { description: 'PID of the Python process' })
  rate = Option.String('-r,--rate', { description: 'Seconds between samples (default 0.01)' })
  hz = Option.String('--hz', { description: 'Samples per second (instead of -r)' })
  refresh = Option.String('--refresh', { description: 'Seconds between screen refreshes (default 1)' })
  threads = Option.Boolean('--threads', false, { description: "Count every thread's stack, not only the GIL holder's" })
  idle = Option.Boolean('--idle', false, { description: 'With --threads: also count idle threads' })
  gil = Option.Boolean('--gil', false, { description: 'Only the thread holding the GIL' })
  subprocesses = Option.Boolean('--subprocesses', false, { description: 'Also sample child processes' })
  subprocessWait = Option.String('--subprocess-wait', { description: 'With --subprocesses: seconds to wait for a first Python process to appear (default 2)' })
  nonblocking = Option.Boolean('--nonblocking', false, { description: 'Read without pausing the target (the default)' })
  blocking = Option.Boolean('--blocking', false, { description: 'Pause the threads briefly around each sample' })
  native = Option.Boolean('--native', false, { description: 'Also unwind native (C/C++/Rust) frames and merge them with the Python frames (pauses the threads like --blocking)' })
  once = Option.Boolean('--once', false, { description: 'Print one snapshot after the first refresh and exit' })
  iterations = Option.String('--iterations', { description: 'Exit after this many refreshes' })
  async = Option.Boolean('--async', false, { description: 'asyncio tasks (CPython 3.7+): count samples under the running task; tasks appear as <task> rows' })
  pythonVersion = Option.String('--python-version', { description: 'Override version detection, e.g. 3.11' })
  positionalPid = Option.String({ required: false, name: 'pid' })

  async run(): Promise<number> {
    const given = this.pid ?? this.positionalPid
    if (given === undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: pyflame-ts top -p PID [-r INTERVAL|--hz N] [--threads]')
    const pid = parsePid(given)
    if (this.rate !== undefined && this.hz !== undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'give either -r (seconds between samples) or --hz (samples per second), not both')
    if (this.subprocessWait !== undefined && !this.subprocesses) throw new PyflameError('ERR_INVALID_ARGUMENT', '--subprocess-wait applies only with --subprocesses')
    if (this.blocking && this.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--blocking and --nonblocking contradict each other: pick one')
    if (this.native && this.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--native pauses the threads to unwind them: it cannot be combined with --nonblocking')
    const interval = this.hz !== undefined ? parseHertz(this.hz) : parseInterval(this.rate ?? 0.01, Infinity)
    const refreshSeconds = parsePositive('--refresh', this.refresh ?? '1')
    const iterations = this.once ? 1 : this.iterations !== undefined ? Math.floor(parsePositive('--iterations', this.iterations)) : Infinity
    if (iterations < 1) throw new PyflameError('ERR_INVALID_ARGUMENT', '--iterations needs a whole number of at least 1')

    const stdout = this.context.stdout as NodeJS.WriteStream
    const stdin = this.context.stdin as NodeJS.ReadStream
    const stats = new FunctionStats({ threads: this.threads, gil: this.gil, excludeIdle: !this.idle, idle: this.idle })
    let sortBy: SortColumn = 'own'

    const handle = startRecording({
      pid,
      seconds: Infinity,
      rate: interval,
      blocking: this.blocking,
      native: this.native,
      subprocesses: this.subprocesses,
      subprocessWait: this.subprocessWait === undefined ? undefined : parseSubprocessWait(this.subprocessWait),
      pythonVersion: this.pythonVersion,
      async: this.async,
    })

    let wake: () => void = () => {}
    let stopping = false
    const stop = () => {
      stopping = true
      wake()
    }
    let failure: unknown
    let targetExited = false
    handle.done.then(
      (last) => {
        if (last.endReason === 'target-exited') targetExited = true
        stop()
      },
      (error: unknown) => {
        failure = error
        stop()
      },
    )

    const live = stdout.isTTY === true && !this.once && this.iterations === undefined
    const terminal = live ? new LiveTerminal(stdin, stdout) : undefined
    const screen = () =>
      renderScreen(stats, { pid, interval, sortBy, keyHelp: live, rows: terminal?.rows, columns: terminal?.columns })
    const redraw = () => terminal?.draw(screen())
    const onSignal = () => stop()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      terminal?.enter(
        (key) => {
          if (key === 'q' || key === 'Q' || key === CTRL_C) stop()
          else if (SORT_KEYS[key]) {
            sortBy = SORT_KEYS[key]
            redraw()
          }
        },
        redraw,
      )
      if (terminal) terminal.draw([`pyflame-ts top: collecting samples from process ${pid}...`])
      let shown = 0
      while (!stopping && shown < iterations) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, refreshSeconds * 1000)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        if (stopping) break
        const batch = await drainQuietly(handle)
        if (!batch) break
        stats.addWindow(batch.raw)
        shown++
        if (terminal) redraw()
        else stdout.write(screen().join('\n') + '\n\n')
      }
      handle.stop()
      await handle.done.catch(() => {})
    } finally {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      terminal?.restore()
      handle.stop()
    }
    if (failure !== undefined) throw failure
    if (targetExited) this.context.stderr.write(`pyflame-ts top: process ${pid} exited\n`)
    return 0
  }
}

async function drainQuietly(handle: RecordingHandle) {
  try {
    return await handle.drain()
  } catch {
    // The recording ended between the check and the drain: `done` reports why.
    return null
  }
}

function parsePositive(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new PyflameError('ERR_INVALID_ARGUMENT', `${flag} takes a positive number, got "${value}"`)
  return n
}
