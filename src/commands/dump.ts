// `pyflame-ts dump`: print the current stack of every thread once.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { runDump } from './dump-run'

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

      \`--async\` (CPython 3.7 to 3.15; not free-threaded 3.13) prints the asyncio tasks instead: every task of every event loop,
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
    return runDump(
      {
        pid: this.pid ?? this.positionalPid,
        json: this.json,
        locals: this.locals,
        subprocesses: this.subprocesses,
        async: this.async,
        nonblocking: this.nonblocking,
        native: this.native,
        pythonVersion: this.pythonVersion,
      },
      this.context,
    )
  }
}
