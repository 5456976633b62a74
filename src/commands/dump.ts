// `pyflame-ts dump`: print the current stack of every thread once.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { dump, type DumpResult } from '../dump'
import { parsePid } from '../options'
import { PyflameError } from '../errors'

export default class DumpCommand extends PyflameCommand {
  static paths = [['dump']]

  static usage = Command.Usage({
    description: "Print the current Python stack of every thread of a process",
    details: `
      Reads every thread's stack once (pausing the threads for a moment, unless \`--nonblocking\`),
      and prints them innermost frame first, marking the thread holding the GIL and idle threads.
    `,
    examples: [
      ['Stacks of PID 1234', '$0 dump -p 1234'],
      ['As JSON, for scripts', '$0 dump -p 1234 --json'],
    ],
  })

  pid = Option.String('-p,--pid', { description: 'PID of the Python process' })
  json = Option.Boolean('--json', false, { description: 'Print JSON instead of text' })
  nonblocking = Option.Boolean('--nonblocking', false, { description: 'Do not pause the threads (may show a torn stack)' })
  pythonVersion = Option.String('--python-version', { description: 'Override version detection, e.g. 3.11' })
  positionalPid = Option.String({ required: false, name: 'pid' })

  async run(): Promise<number> {
    const given = this.pid ?? this.positionalPid
    if (given === undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: pyflame-ts dump -p PID [--json]')
    const result = await dump(parsePid(given), { blocking: !this.nonblocking, pythonVersion: this.pythonVersion })
    this.context.stdout.write(this.json ? JSON.stringify(result, null, 2) + '\n' : formatDump(result))
    return 0
  }
}

export function formatDump(result: DumpResult): string {
  let out = `Process ${result.pid}: ${result.executable}\nPython v${result.pythonVersion}\n`
  for (const thread of result.threads) {
    const flags = [thread.holdsGil ? 'holds GIL' : '', thread.idle ? 'idle' : 'active'].filter(Boolean).join(', ')
    const name = thread.name ? ` "${thread.name}"` : ''
    out += `\nThread ${thread.tid || thread.pythonThreadId}${name} (${flags})${thread.interpreterId ? ` [interpreter ${thread.interpreterId}]` : ''}\n`
    if (thread.error) out += `    <stack unreadable: ${thread.error}>\n`
    for (const frame of thread.frames) out += `    ${frame.name} (${frame.filename}:${frame.line})\n`
  }
  return out
}
