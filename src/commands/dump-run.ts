// The work of `pyflame-ts dump` once its options are read, without the option parser: the
// clipanion command and the start-up fast path (src/cli/fast-dump.ts) both run it.

import { dump, dumpProcessTree, type DumpResult } from '../dump'
import { parsePid } from '../options'
import { PyflameError } from '../errors'

/** The options of `pyflame-ts dump`, as given (the PID unparsed). */
export interface DumpCommandOptions {
  pid: string | undefined
  json: boolean
  locals: boolean
  subprocesses: boolean
  async: boolean
  nonblocking: boolean
  native: boolean
  pythonVersion: string | undefined
}

export interface DumpOutput {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
}

export async function runDump(options: DumpCommandOptions, out: DumpOutput): Promise<number> {
  if (options.pid === undefined) throw new PyflameError('ERR_INVALID_ARGUMENT', 'Usage: pyflame-ts dump -p PID [--json] [--locals] [--subprocesses]')
  const pid = parsePid(options.pid)
  if (options.native && options.nonblocking) throw new PyflameError('ERR_INVALID_ARGUMENT', '--native pauses the threads to unwind them: it cannot be combined with --nonblocking')
  if (options.async) {
    if (options.locals || options.subprocesses) throw new PyflameError('ERR_INVALID_ARGUMENT', '--async shows tasks, not threads: it takes neither --locals nor --subprocesses')
    // The asyncio readers load only for --async: a plain dump starts as fast as it can.
    const { dumpAsync } = await import('../asyncio/dump')
    const { formatAsyncDump } = await import('../asyncio/tree')
    const result = await dumpAsync(pid, { blocking: !options.nonblocking, pythonVersion: options.pythonVersion })
    out.stdout.write(options.json ? JSON.stringify(result, null, 2) + '\n' : formatAsyncDump(result))
    return 0
  }
  const readOptions = { blocking: !options.nonblocking, pythonVersion: options.pythonVersion, locals: options.locals, native: options.native }
  const results = options.subprocesses ? await dumpProcessTree(pid, readOptions) : [await dump(pid, readOptions)]
  for (const result of results) {
    for (const notice of result.notices ?? []) out.stderr.write(`pyflame-ts: process ${result.pid}: ${notice}\n`)
  }
  if (options.json) {
    out.stdout.write(JSON.stringify(options.subprocesses ? results : results[0], null, 2) + '\n')
  } else {
    out.stdout.write(results.map(formatDump).join('\n'))
  }
  return 0
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
