// Streams folded sources into the native merger (crates/pyflame-core/src/folded), chunk by
// chunk: it parses and merges the bytes, so JavaScript never decodes the input. Several
// sources are read one after the other into the same tree (their stacks merge). A malformed
// line stops the read with the file name, the line number and the reason, unless
// `skipInvalid` turns it into a counted warning.

import type { FoldedMerger, InvalidFoldedLine } from '../../binding'
import { PyflameError } from '../errors'
import type { NamedSource } from './line-reader'
import { safeText } from '../cli/terminal-text'

export interface ReadFoldedOptions {
  /** Skip malformed lines (counted) instead of stopping; must match the merger's option. */
  skipInvalid?: boolean
  /** Called for each skipped line with `file:line` and the reason (only with `skipInvalid`). */
  onInvalidLine?: (where: string, reason: string) => void
  /** The sources' counts go to the "before" column (`diff`). */
  intoBefore?: boolean
}

export class FoldedSyntaxError extends PyflameError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `${safeText(file, 120)}:${line}: ${safeText(reason, 160)}; fix the line, or pass --skip-invalid to skip malformed lines`)
  }
}

export async function readFolded(sources: NamedSource[], merger: FoldedMerger, options: ReadFoldedOptions = {}): Promise<void> {
  for (const source of sources) {
    const report = (invalid: InvalidFoldedLine[]): void => {
      for (const bad of invalid) {
        if (!options.skipInvalid) throw new FoldedSyntaxError(source.name, bad.line, bad.reason)
        options.onInvalidLine?.(`${safeText(source.name, 120)}:${bad.line}`, safeText(bad.reason, 160))
      }
    }
    merger.beginSource(options.intoBefore ?? false)
    for await (const chunk of guardRead(source)) report(merger.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    report(merger.endSource())
  }
}

/** Iterates a source, turning I/O failures (missing file, directory...) into ERR_READ_FAILED. */
async function* guardRead(source: NamedSource): AsyncGenerator<Uint8Array | string> {
  try {
    yield* source.chunks
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error
    throw new PyflameError('ERR_READ_FAILED', `cannot read ${safeText(source.name, 120)} (${code}): check the path and its permissions`, { cause: error })
  }
}
