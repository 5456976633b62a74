// Streams folded sources into a sink, chunk by chunk: lines are parsed in place inside each
// chunk, so only the current chunk and the merged tree are in memory, whatever the input size.
// Several sources are read one after the other into the same sink (their stacks merge).
// A malformed line stops the read with the file name, the line number and the reason, unless
// `skipInvalid` turns it into a counted warning.

import { PyflameError } from '../errors'
import type { ParsedCount } from './count'
import type { NamedSource } from './line-reader'
import { BLANK, INVALID, looksDifferential, newLineParse, parseLineAt } from './parse-line'

export interface FoldedSink {
  /**
   * One stack: frames are text[start, end) separated by ';'. Returns false when the stack held
   * no frame name.
   */
  addStack(text: string, start: number, end: number, count: ParsedCount, before?: ParsedCount): boolean
}

export interface ReadFoldedOptions {
  /** Two count columns (`stack before after`); 'auto' (default) decides from the first stack line. */
  differential?: boolean | 'auto'
  /** Skip malformed lines (counted) instead of stopping. */
  skipInvalid?: boolean
  /** Called for each skipped line with `file:line` and the reason (only with `skipInvalid`). */
  onInvalidLine?: (where: string, reason: string) => void
}

export interface ReadFoldedSummary {
  /** Lines that held a stack and a count. */
  stacks: number
  /** Malformed lines skipped (only with `skipInvalid`). */
  invalid: number
  /** Whether the input was read as the two-column differential form. */
  differential: boolean
}

export class FoldedSyntaxError extends PyflameError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `${file}:${line}: ${reason}; fix the line, or pass --skip-invalid to skip malformed lines`)
  }
}

export async function readFolded(sources: NamedSource[], sink: FoldedSink, options: ReadFoldedOptions = {}): Promise<ReadFoldedSummary> {
  let differential: boolean | undefined = options.differential === 'auto' || options.differential === undefined ? undefined : options.differential
  let stacks = 0
  let invalid = 0
  const parse = newLineParse()
  for (const source of sources) {
    let lineNumber = 0
    for await (const text of guardRead(source)) {
      let start = 0
      const length = text.length
      while (start < length) {
        let newline = text.indexOf('\n', start)
        if (newline === -1) newline = length
        let end = newline
        if (end > start && text.charCodeAt(end - 1) === 13) end--
        lineNumber++
        const lineStart = start
        start = newline + 1
        if (differential === undefined) {
          const kind = parseLineAt(text, lineStart, end, false, parse)
          if (kind === BLANK) continue
          differential = kind !== INVALID && looksDifferential(text.slice(lineStart, end))
        }
        const kind = parseLineAt(text, lineStart, end, differential, parse)
        if (kind === BLANK) continue
        let reason: string | undefined
        if (kind === INVALID) reason = parse.reason
        else if (!sink.addStack(text, parse.stackStart, parse.stackEnd, parse.count!, parse.before)) reason = 'the stack has no frame names'
        if (reason === undefined) {
          stacks++
          continue
        }
        if (!options.skipInvalid) throw new FoldedSyntaxError(source.name, lineNumber, reason)
        invalid++
        options.onInvalidLine?.(`${source.name}:${lineNumber}`, reason)
      }
    }
  }
  return { stacks, invalid, differential: differential ?? false }
}

/** Iterates a source, turning I/O failures (missing file, directory...) into ERR_READ_FAILED. */
async function* guardRead(source: NamedSource): AsyncGenerator<string> {
  try {
    yield* source.chunks
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error
    throw new PyflameError('ERR_READ_FAILED', `cannot read ${source.name} (${code}): check the path and its permissions`, { cause: error })
  }
}
