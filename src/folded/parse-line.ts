// One folded line: `frame;frame;... count` or, in the differential form, `stack before after`.
// The count is the last whitespace-separated token; the stack is everything before it.
// Comment lines (`#`, austin writes them) and blank lines carry no samples.
// Lines are parsed in place (positions in a chunk), so no line string is made.

import { parseCountAt, type ParsedCount } from './count'

export const BLANK = 0
export const STACK = 1
export const INVALID = 2

/** The result of parsing one line; reused from line to line. */
export interface LineParse {
  stackStart: number
  stackEnd: number
  count: ParsedCount | undefined
  before: ParsedCount | undefined
  reason: string
}

export function newLineParse(): LineParse {
  return { stackStart: 0, stackEnd: 0, count: undefined, before: undefined, reason: '' }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 11 || code === 12 || code === 13
}

/**
 * Parses text[start, end) (no line end). `differential`: the input has two count columns.
 * Returns BLANK, STACK or INVALID and fills `result`.
 */
export function parseLineAt(text: string, start: number, end: number, differential: boolean, result: LineParse): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--
  while (start < end && isSpace(text.charCodeAt(start))) start++
  if (start === end || text.charCodeAt(start) === 35 /* # */) return BLANK
  let tokenStart = end
  while (tokenStart > start && !isSpace(text.charCodeAt(tokenStart - 1))) tokenStart--
  let restEnd = tokenStart
  while (restEnd > start && isSpace(text.charCodeAt(restEnd - 1))) restEnd--
  if (restEnd === start) {
    result.reason = 'expected "stack count", found no count after a space'
    return INVALID
  }
  const count = parseCountAt(text, tokenStart, end)
  if (!count) {
    result.reason = `the count "${text.slice(tokenStart, end)}" is not a non-negative number`
    return INVALID
  }
  result.count = count
  result.before = undefined
  result.stackStart = start
  result.stackEnd = restEnd
  if (!differential) return STACK
  let firstStart = restEnd
  while (firstStart > start && !isSpace(text.charCodeAt(firstStart - 1))) firstStart--
  let stackEnd = firstStart
  while (stackEnd > start && isSpace(text.charCodeAt(stackEnd - 1))) stackEnd--
  const before = stackEnd === start ? undefined : parseCountAt(text, firstStart, restEnd)
  if (!before) {
    result.reason = 'expected "stack before after" (differential input), found one count'
    return INVALID
  }
  result.before = before
  result.stackEnd = stackEnd
  return STACK
}

const TWO_COUNTS = /\s\d+(?:\.\d*)?\s+\d+(?:\.\d*)?\s*$/

/** True when a stack line ends in two counts: the differential form (`difffolded.pl` output). */
export function looksDifferential(line: string): boolean {
  return TWO_COUNTS.test(line)
}

/** Convenience for one line given as a string (tests, tools). */
export function parseFoldedLine(line: string, differential = false): { kind: 'blank' } | { kind: 'invalid'; reason: string } | { kind: 'stack'; stack: string; count: ParsedCount; before?: ParsedCount } {
  const result = newLineParse()
  const kind = parseLineAt(line, 0, line.length, differential, result)
  if (kind === BLANK) return { kind: 'blank' }
  if (kind === INVALID) return { kind: 'invalid', reason: result.reason }
  return { kind: 'stack', stack: line.slice(result.stackStart, result.stackEnd), count: result.count!, before: result.before }
}
