// `pyflame-ts record`: sample a running process (or a command it starts) and write a profile.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { PyflameError } from '../errors'
import { parseHertz, parseInterval, parsePid, parseSeconds, parseSubprocessWait } from '../options'
import { AtomicFile, defaultFileName, formatFromPath, parseFormat, type Format } from '../output'
import { recordThenWrite, signalExitStatus } from '../record-flow'
import type { FoldedOptions } from '../writers/folded'
import type { Profile } from '../profile'

export default class RecordCommand extends PyflameCommand {
  static paths = [['record']]

  static usage = Command.Usage({
    description: 'Sample the Python stacks of a running process and write a profile',
    details: `
      Samples the process given with \`-p\` every \`-r\` seconds for \`-s\` seconds (Pyflame's meanings),
      or runs a command and samples it until it exits (\`-t\`, or after \`--\`).

      Samples are taken at random times, \`-r\` seconds apart on average (exponentially distributed
      gaps: a Poisson process), so no loop of the target whose period matches the interval is always
      caught at the same point. \`--periodic\` samples exactly every \`-r\` seconds instead; a program
      with a loop of that period (or a divisor of it) then gets a wrong profile. When the machine
      cannot keep the rate, the sampling times that passed while a sample was still being taken are
      skipped and counted as missed; the recording still ends after \`-s\` seconds.

      By default each sample is the stack of the thread holding the GIL, and samples where no
      thread holds it are counted as \`(idle)\` (\`-x\` drops them). \`--threads\` samples every thread.

      The output format follows the extension of \`-o\` (\`.svg\`, \`.html\` for the interactive report, \`.speedscope.json\`, \`.trace.json\`,
      \`.pb.gz\`, anything else: folded) unless \`-f\` says otherwise. Without \`-o\` the profile goes to
      stdout, or to \`pyflame-<pid>-<time>.<ext>\` when stdout is a terminal.

      \`--async\` (CPython 3.7 to 3.15; not free-threaded 3.13) records asyncio tasks: a thread running a task counts under that
      task's stack, below the stacks of the tasks awaiting it, each part headed by its task's name.
      \`--async-wall\` also counts each waiting task once per sample, under the tasks awaiting it.
    `,
    examples: [
      ['Profile PID 1234 for 10 seconds into a flame graph', '$0 record -p 1234 -s 10 -o profile.svg'],
      ['The same as an interactive report (flame graph, function table, sandwich)', '$0 record -p 1234 -s 10 -o report.html'],
      ['Pyflame-compatible folded output, 1000 samples a second', '$0 record -p 1234 -s 5 -r 0.001 -x > out.txt'],
      ['Profile a command until it exits', '$0 record -o out.svg -- python app.py'],
      ['All gunicorn workers of a master, until Ctrl-C', '$0 record -p 4242 --subprocesses -s unlimited -o workers.svg'],
      ['An asyncio server by request handler (task)', '$0 record -p 1234 -s 10 --async -o tasks.svg'],
      ['Where asyncio tasks wait (wall clock)', '$0 record -p 1234 -s 10 --async --async-wall -o waits.svg'],
    ],
  })

  pid = Option.String('-p,--pid', { description: 'PID of the Python process to sample' })
  seconds = Option.String('-s,--seconds,--duration', { description: 'How long to sample, in seconds (default 1; 0 = one sample; "unlimited" = until Ctrl-C or exit)' })
  rate = Option.String('-r,--rate', { description: 'Seconds between samples (default 0.01)' })
  hz = Option.String('--hz', { description: 'Samples per second (instead of -r)' })
  output = Option.String('-o,--output', { description: 'Output file (default: stdout)' })
  format = Option.String('-f,--format', { description: 'folded, svg, html, speedscope, chrometrace or pprof (default: from the -o extension)' })
  excludeIdle = Option.Boolean('-x,--exclude-idle', false, { description: 'Drop idle samples: the (idle) bucket, and idle threads with --threads' })
  threads = Option.Boolean('--threads', false, { description: "Sample every thread's stack, not only the GIL holder's" })
  gil = Option.Boolean('--gil', false, { description: 'Only the thread holding the GIL (the default view, without the (idle) bucket)' })
  idle = Option.Boolean('--idle', false, { description: 'With --threads: keep idle threads (the default; overrides -x for threads)' })
  noLineNumbers = Option.Boolean('-n,--no-line-numbers', false, { description: 'Write path:function without the line number' })
  byFunction = Option.Boolean('--function', false, { description: "Aggregate by function (its first line), not by current line" })
  fullFilenames = Option.Boolean('--full-filenames', false, { description: 'Show full file paths (already the default, as in Pyflame)' })
  threadLabels = Option.Boolean('--thread-labels', false, { description: 'Root each stack at its thread (thread <tid>)' })
  flamechart = Option.Boolean('--flamechart', false, { description: 'Keep every sample with its time, in time order' })
  periodic = Option.Boolean('--periodic', false, { description: 'Sample exactly every -r seconds, not at random times with that mean (aliases with periodic programs)' })
  blocking = Option.Boolean('--blocking', false, { description: 'Pause the threads briefly around each sample for exact stacks' })
  nonblocking = Option.Boolean('--nonblocking', false, { description: 'Read without pausing the target (the default)' })
  native = Option.Boolean('--native', false, { description: 'Also unwind native (C/C++/Rust) frames and merge them with the Python frames (pauses the threads like --blocking)' })
  subprocesses = Option.Boolean('--subprocesses', false, { description: 'Also sample child processes (e.g. all workers of a master); every stack is rooted at its `process PID`' })
  subprocessWait = Option.String('--subprocess-wait', { description: 'With --subprocesses: seconds to wait for a first Python process to appear (default 2)' })
  async = Option.Boolean('--async', false, { description: 'asyncio tasks: each sample under the running task, below the tasks awaiting it (CPython 3.7+)' })
  asyncWall = Option.Boolean('--async-wall', false, { description: 'With --async: also count every waiting task (where tasks sit waiting); implies --threads' })
  pythonVersion = Option.String('--python-version,--abi', { description: 'Override version detection, e.g. 3.11 (for embedded interpreters)' })
  trace = Option.Boolean('-t,--trace', false, { description: 'Run the command that follows and sample it until it exits' })
  command = Option.Rest()

  async run(): Promise<number> {
    const traced = this.command.length > 0
    if (this.trace && !traced) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: -t needs a command to run, e.g. pyflame-ts record -t python app.py')
    if (traced && this.pid !== undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Options -t and -p are not mutually compatible: give a PID or a command, not both')
    if (!traced && this.pid === undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: pyflame-ts record -p PID [-s SECONDS] [-r INTERVAL] [-o FILE], or pyflame-ts record -- COMMAND')
    if (this.subprocessWait !== undefined && !this.subprocesses) throw new PyflameError('ERR_INVALID_ARGUMENT', '--subprocess-wait applies only with --subprocesses')
    if (this.blocking && this.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--blocking and --nonblocking contradict each other: pick one')
    if (this.native && this.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--native pauses the threads to unwind them: it cannot be combined with --nonblocking')

    const seconds = traced && this.seconds === undefined ? Infinity : parseSeconds(this.seconds)
    if (this.rate !== undefined && this.hz !== undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'give either -r (seconds between samples) or --hz (samples per second), not both')
    const interval = this.hz !== undefined ? parseHertz(this.hz) : parseInterval(this.rate, seconds)
    const format: Format = this.format !== undefined ? parseFormat(this.format) : formatFromPath(this.output)
    if (this.asyncWall && !this.async) throw new PyflameError('ERR_INVALID_ARGUMENT', '--async-wall counts waiting asyncio tasks: give it with --async')
    const view: FoldedOptions = {
      // Waiting tasks hold no GIL: the wall view shows every thread's samples.
      threads: this.threads || this.asyncWall,
      gil: this.gil,
      excludeIdle: this.excludeIdle && !(this.threads && this.idle),
      idle: this.idle,
      lineNumbers: !this.noLineNumbers,
      function: this.byFunction,
      fullFilenames: this.fullFilenames,
      threadLabels: this.threadLabels,
    }

    if (traced && /(^|\/)(pyflame|pyflame-ts)$/.test(this.command[0])) throw new PyflameError('ERR_INVALID_ARGUMENT', 'You tried to pyflame a pyflame, naughty!')
    const stdoutIsTerminal = Boolean((this.context.stdout as NodeJS.WriteStream).isTTY)
    let outputPath: string | undefined
    let commandLine: string | undefined = traced ? this.command.join(' ') : undefined
    const { profile, commandStatus, interruptedBy } = await recordThenWrite(
      {
        pid: traced ? undefined : parsePid(this.pid),
        command: traced ? this.command : undefined,
        commandStdoutToStderr: this.output === undefined && !stdoutIsTerminal,
        seconds,
        interval,
        sampling: { blocking: this.blocking, native: this.native, subprocesses: this.subprocesses, subprocessWait: this.subprocessWait === undefined ? undefined : parseSubprocessWait(this.subprocessWait), timeline: this.flamechart, pythonVersion: this.pythonVersion, periodic: this.periodic, requireGil: this.gil, async: this.asyncWall ? 'wall' : this.async },
        progress: true,
      },
      {
        // Open the destination first: an unwritable path fails before any sampling.
        open: (pid) => {
          commandLine ??= readCommandLine(pid)
          outputPath = this.output ?? (stdoutIsTerminal ? defaultFileName(pid, this.format !== undefined ? format : 'svg') : undefined)
          return outputPath !== undefined && outputPath !== '-' ? new AtomicFile(outputPath) : undefined
        },
        write: async (recorded, file) => {
          const effectiveFormat = this.output === undefined && this.format === undefined && outputPath !== undefined ? 'svg' : format
          const { writeProfile } = await import('../writers')
          await writeProfile(recorded, effectiveFormat, view, file ?? this.context.stdout, { flamechart: this.flamechart, commandLine })
          file?.commit()
        },
      },
    )
    if (process.stderr.isTTY) {
      this.context.stderr.write(recordSummary(profile, view, outputPath ?? 'stdout'))
      if (this.native) this.context.stderr.write(`  ${profile.nativeFailures} native unwinds failed\n`)
      // What the errors were (a torn stack, an unreadable address...), not only how many.
      if (profile.errors > 0) {
        const { errorKindsText } = await import('../writers')
        this.context.stderr.write(`  errors by kind: ${errorKindsText(profile)}\n`)
      }
    }
    // Ctrl-C (or SIGTERM) after the profile is written: the shell's status for that signal (130),
    // whether run directly or through npx (which reports its child's signal the same way).
    if (interruptedBy !== undefined) return signalExitStatus(interruptedBy)
    if (traced) return commandStatus ?? 0
    return 0
  }
}

/** The target's command line from /proc (arguments joined by spaces), or undefined. */
function readCommandLine(pid: number): string | undefined {
  try {
    const text = require('node:fs').readFileSync(`/proc/${pid}/cmdline`, 'latin1') as string
    const line = text.replace(/\0+$/, '').split('\0').join(' ')
    return line === '' ? undefined : line
  } catch {
    return undefined
  }
}

/**
 * The lines shown on a terminal once the profile is written: counts, what was missed, and the
 * top functions with the sampling error of their shares.
 */
export function recordSummary(profile: Profile, view: FoldedOptions, destination: string): string {
  const idleShare = profile.samples > 0 ? ((100 * profile.idle) / profile.samples).toFixed(1) : '0.0'
  let text =
    `${profile.samples} samples (${profile.errors} errors, ${idleShare}% idle, ${profile.missed} missed) of Python ${profile.pythonVersion} in ${profile.durationSecs.toFixed(2)} s` +
    ` \u2192 ${destination}\n`
  if (profile.missed > 0) {
    const asked = 1 / profile.interval
    const kept = profile.durationSecs > 0 ? profile.samples / profile.durationSecs : 0
    text += `The machine could not keep ${formatHz(asked)}: ${formatHz(kept)} kept, ${profile.missed} sampling times skipped (not taken late).\n`
  }
  const { total, shares } = profile.functionShares({ ...view, top: 5 })
  if (total > 0 && shares.length > 0) {
    const pad = Math.min(60, Math.max(...shares.map((s) => s.label.length)))
    text += `Top functions (self, share of ${total} samples \u00b1 95 % margin):\n`
    for (const s of shares) text += `  ${s.label.padEnd(pad)}  ${s.share.toFixed(1)} % \u00b1 ${s.margin.toFixed(1)}\n`
  }
  return text
}

function formatHz(hz: number): string {
  return hz >= 1000 ? `${Number((hz / 1000).toPrecision(3))} kHz` : `${Number(hz.toPrecision(3))} Hz`
}
