// `pyflame-ts dump`: print the current stack of every thread once.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { dump, dumpProcessTree, type DumpResult } from '../dump'
import { parsePid } from '../options'
import { PyflameError } from '../errors'

export default class DumpCommand extends PyflameCommand {
  static paths = [['dump']]

  static usage = Command.Usage({
    description: "Print the current Python stack of every thread of a process",
    details: `
      Reads every thread's stack once (pausing the threads for a moment, unless \`--nonblocking\`),
      and prints them innermost frame first, marking the thread holding the GIL and idle threads.
      A read that caught a stack mid-change is retried, so each stack is one consistent moment.

      \`--locals\` adds each frame's local variables: ints, floats, strings, bytes, bools and None
      as Python prints them (cut at 80 characters), other values by their type name.
      \`--subprocesses\` dumps every Python process below PID too, each under its \`Process\` header.

      \`--async\` (CPython 3.11 to 3.15; not free-threaded 3.13) prints the asyncio tasks instead: every task of every event loop,
      running or waiting, as a tree of who awaits whom, each with its coroutine stack (outermost
      first) and what it waits on. Tasks that await each other in a cycle are named in a note.
    `,
    examples: [
      ['Stacks of PID 1234', '$0 dump -p 1234'],
      ['With local variables', '$0 dump -p 1234 --locals'],
      ['Every worker of a gunicorn master', '$0 dump -p 1234 --subprocesses'],
      ['As JSON, for scripts', '$0 dump -p 1234 --json'],
      ['The asyncio tasks of a server, who awaits whom', '$0 dump -p 1234 --async'],
    ],
  })

  pid = Option.String('-p,--pid', { description: 'PID of the Python process' })
  json = Option.Boolean('--json', false, { description: 'Print JSON instead of text (an array of processes with --subprocesses)' })
  locals = Option.Boolean('-l,--locals', false, { description: "Show each frame's local variables" })
  subprocesses = Option.Boolean('--subprocesses', false, { description: 'Also dump the Python processes below PID' })
  async = Option.Boolean('--async', false, { description: 'Print the asyncio tasks (who awaits whom, coroutine stacks) instead of threads' })
  nonblocking = Option.Boolean('--nonblocking', false, { description: 'Do not pause the threads (a torn read is still retried)' })
  native = Option.Boolean('--native', false, { description: 'Also unwind native (C/C++/Rust) frames and merge them with the Python frames' })
  pythonVersion = Option.String('--python-version', { description: 'Override version detection, e.g. 3.11' })
  positionalPid = Option.String({ required: false, name: 'pid' })

  async run(): Promise<number> {
    const given = this.pid ?? this.positionalPid
    if (given === undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: pyflame-ts dump -p PID [--json] [--locals] [--subprocesses]')
    const pid = parsePid(given)
    if (this.native && this.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--native pauses the threads to unwind them: it cannot be combined with --nonblocking')
    if (this.async) {
      if (this.locals || this.subprocesses) throw new PyflameError('ERR_INVALID_ARGUMENT', '--async shows tasks, not threads: it takes neither --locals nor --subprocesses')
      // The asyncio readers load only for --async: a plain dump starts as fast as it can.
      const { dumpAsync } = await import('../asyncio/dump')
      const { formatAsyncDump } = await import('../asyncio/tree')
      const result = await dumpAsync(pid, { blocking: !this.nonblocking, pythonVersion: this.pythonVersion })
      this.context.stdout.write(this.json ? JSON.stringify(result, null, 2) + '\n' : formatAsyncDump(result))
      return 0
    }
    const options = { blocking: !this.nonblocking, pythonVersion: this.pythonVersion, locals: this.locals, native: this.native }
    const results = this.subprocesses ? await dumpProcessTree(pid, options) : [await dump(pid, options)]
    for (const result of results) {
      for (const notice of result.notices ?? []) this.context.stderr.write(`pyflame-ts: process ${result.pid}: ${notice}\n`)
    }
    if (this.json) {
      this.context.stdout.write(JSON.stringify(this.subprocesses ? results : results[0], null, 2) + '\n')
    } else {
      this.context.stdout.write(results.map(formatDump).join('\n'))
    }
    return 0
  }
}

export function formatDump(result: DumpResult): string {
  const build = result.freeThreaded ? (result.gilDisabled ? ' (free-threaded, GIL off)' : ' (free-threaded, GIL on)') : ''
  let out = `Process ${result.pid}: ${result.executable}\nPython v${result.pythonVersion}${build}\n`
  for (const thread of result.threads) {
    const flags = [thread.holdsGil ? 'holds GIL' : '', thread.idle ? 'idle' : 'active'].filter(Boolean).join(', ')
    // Python's thread name (else the kernel's); names are the program's text: control characters escaped.
    const name = thread.name ? ` ${JSON.stringify(thread.name)}` : ''
    out += `\nThread ${thread.tid || thread.pythonThreadId}${name} (${flags})${thread.interpreterId ? ` [interpreter ${thread.interpreterId}]` : ''}\n`
    if (thread.error) out += `    <stack unreadable: ${thread.error}>\n`
    if (thread.localsError) out += `    <locals unreadable: ${thread.localsError}>\n`
    for (const frame of thread.frames) {
      out += frame.native ? `    ${frame.name.startsWith('+0x') ? `${frame.filename}${frame.name}` : frame.name} (${frame.filename || 'native'})\n` : `    ${frame.name} (${frame.filename}:${frame.line})\n`
      for (const local of frame.locals ?? []) out += `        ${local.name} = ${local.repr}\n`
    }
  }
  return out
}
