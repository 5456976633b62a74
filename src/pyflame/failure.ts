// A failure of the `pyflame` front: Pyflame's own wording on the first line(s), exactly as
// Pyflame 1.6 printed it (scripts match on it), then a line with this project's advice and
// error code.

import type { ErrorCode } from '../errors'

export class LegacyFailure extends Error {
  constructor(
    /** What Pyflame 1.6 printed for the same failure, e.g. `Failed to seize PID 1`. */
    readonly wording: string,
    /** What to do about it. */
    readonly advice: string,
    readonly code: ErrorCode,
  ) {
    super(`${wording} ${advice}`)
    this.name = 'LegacyFailure'
  }

  /** The text for stderr, newline-terminated. */
  render(): string {
    if (this.advice === '') return `${this.wording.replace(/\n$/, '')} (${this.code})\n`
    const wording = this.wording.endsWith('\n') ? this.wording : `${this.wording}\n`
    return `${wording}${this.advice} (${this.code})\n`
  }
}
