// Pyflame 1.6's command line (`dhno:p:r:s:tvx` plus its long options) mapped onto the shared
// option parsers of src/options.ts. Options are acted on in the order given, as Pyflame did:
// `-h`/`-v` answer at once, a bad `--abi` or `-p` fails where it stands.

import { PyflameError } from '../errors'
import { parseInterval, parsePid, parseSeconds } from '../options'
import { parseAbi } from './abi'
import { LegacyFailure } from './failure'
import { getopt, type OptionSpec } from './getopt'
import { USAGE_LINES } from './usage'

const OPTIONS: OptionSpec[] = [
  { name: 'abi', long: 'abi', takesValue: true },
  { name: 'dump', short: 'd', long: 'dump', takesValue: false },
  { name: 'help', short: 'h', long: 'help', takesValue: false },
  { name: 'rate', short: 'r', long: 'rate', takesValue: true },
  { name: 'seconds', short: 's', long: 'seconds', takesValue: true },
  { name: 'threads', long: 'threads', takesValue: false },
  { name: 'no-line-numbers', short: 'n', long: 'no-line-numbers', takesValue: false },
  { name: 'output', short: 'o', long: 'output', takesValue: true },
  { name: 'pid', short: 'p', long: 'pid', takesValue: true },
  { name: 'trace', short: 't', long: 'trace', takesValue: false, endsOptions: true },
  { name: 'flamechart', long: 'flamechart', takesValue: false },
  { name: 'version', short: 'v', long: 'version', takesValue: false },
  { name: 'exclude-idle', short: 'x', long: 'exclude-idle', takesValue: false },
]

/** What to sample and how to write it, with Pyflame's meanings. */
export interface Sampling {
  /** The process to sample (absent with `command`). */
  pid?: number
  /** `-t`: the command to run and sample until it exits. */
  command?: string[]
  seconds: number
  interval: number
  threads: boolean
  excludeIdle: boolean
  lineNumbers: boolean
  flamechart: boolean
  output?: string
  pythonVersion?: string
}

export type Invocation =
  | { mode: 'help' }
  | { mode: 'version' }
  | { mode: 'dump'; pid: number; output?: string; pythonVersion?: string; warnings: string[] }
  | ({ mode: 'record'; warnings: string[] } & Sampling)

export const LEGACY_PID_WARNING = 'WARNING: Specifying a PID to trace without -p is deprecated; write `pyflame -p PID` (Pyflame issue #99).'

export function parseCommandLine(args: readonly string[]): Invocation {
  let pid: number | undefined
  let abi: string | undefined
  let rate: string | undefined
  let seconds: string | undefined
  let output: string | undefined
  let command: string[] | undefined
  let dump = false
  let threads = false
  let trace = false
  let excludeIdle = false
  let lineNumbers = true
  let flamechart = false
  const operands: string[] = []

  for (const token of getopt(args, OPTIONS)) {
    if (token.kind === 'error') throw usageFailure(`pyflame: ${token.message}\n${USAGE_LINES}`, 'See `pyflame --help` for the options this command takes.')
    if (token.kind === 'operand') operands.push(token.value)
    else if (token.kind === 'command') command = token.argv
    else {
      switch (token.name) {
        case 'abi':
          abi = parseAbi(token.value!)
          break
        case 'dump':
          dump = true
          threads = true
          break
        case 'help':
          return { mode: 'help' }
        case 'version':
          return { mode: 'version' }
        case 'threads':
          threads = true
          break
        case 'pid':
          pid = legacyPid(token.value!)
          break
        case 'rate':
          rate = token.value
          break
        case 'seconds':
          seconds = token.value
          break
        case 'trace':
          trace = true
          break
        case 'flamechart':
          flamechart = true
          break
        case 'exclude-idle':
          excludeIdle = true
          break
        case 'output':
          output = token.value
          break
        case 'no-line-numbers':
          lineNumbers = false
          break
      }
    }
  }

  const warnings: string[] = []
  if (trace) {
    if (dump) throw usageFailure('Options -t and -d are not mutually compatible.', '-d prints the stacks of a running process once: use -d -p PID, or -t COMMAND to profile a command.')
    if (pid !== undefined) throw usageFailure('Options -t and -p are not mutually compatible.', 'Give either -p PID (a running process) or -t COMMAND (a command to start), not both.')
    if (!command || command.length === 0) {
      throw usageFailure(`Option -t requires a command to run.\n\n${USAGE_LINES}`, 'Put the command after -t, e.g. pyflame -t python app.py.')
    }
    if (operands.length > 0) throw usageFailure(USAGE_LINES, `Unexpected argument${operands.length > 1 ? 's' : ''} ${operands.join(' ')} before -t: the command goes after -t.`)
  } else if (pid === undefined) {
    // Pyflame once took the PID as the last argument; it still works, with a warning.
    if (operands.length !== 1) {
      throw usageFailure(USAGE_LINES, operands.length === 0 ? 'Give the process to sample with -p PID, or a command to run with -t.' : `Expected one PID, got ${operands.length} arguments (${operands.join(' ')}).`)
    }
    pid = legacyPid(operands[0], true)
    warnings.push(LEGACY_PID_WARNING)
  } else if (operands.length > 0) {
    throw usageFailure(USAGE_LINES, `Unexpected argument${operands.length > 1 ? 's' : ''} ${operands.join(' ')}: the PID is already given with -p.`)
  }

  if (dump) return { mode: 'dump', pid: pid!, output, pythonVersion: abi, warnings }
  // With -t Pyflame sampled until the command exited, whatever -s said.
  const duration = trace ? Infinity : legacySeconds(seconds)
  return {
    mode: 'record',
    warnings,
    pid: trace ? undefined : pid,
    command: trace ? command : undefined,
    seconds: duration,
    interval: shared(() => parseInterval(rate, duration)),
    threads,
    excludeIdle,
    lineNumbers,
    flamechart,
    output,
    pythonVersion: abi,
  }
}

/** `-p` (or the positional PID) through the shared parser, failing in Pyflame's words. */
function legacyPid(text: string, positional = false): number {
  try {
    return parsePid(text)
  } catch (error) {
    const wording = `Error: failed to parse "${text}" as a PID.` + (positional ? `\n\n${USAGE_LINES}` : '')
    const reason = (error as PyflameError).message.replace(/^failed to parse .* as a PID: /, '')
    throw new LegacyFailure(wording, `${reason[0].toUpperCase()}${reason.slice(1)}.`, 'ERR_INVALID_ARGUMENT')
  }
}

/** Pyflame ran until the target exited when `-s` was negative; the shared parser calls that "unlimited". */
function legacySeconds(text: string | undefined): number {
  if (text !== undefined && /^\s*-\d/.test(text) && Number.isFinite(Number(text))) return Infinity
  return shared(() => parseSeconds(text))
}

/** Runs a shared parser; its errors have no Pyflame wording (Pyflame crashed on them), so they get the program name. */
function shared<T>(parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    // The shared messages may offer `--hz`, which only the pyflame-ts front has.
    if (error instanceof PyflameError) throw new LegacyFailure(`pyflame: ${error.message.replace(/ \(or --hz [^)]*\)/, '')}`, '', error.code)
    throw error
  }
}

function usageFailure(wording: string, advice: string): LegacyFailure {
  return new LegacyFailure(wording, advice, 'ERR_INVALID_ARGUMENT')
}
