// Writes a profile in any supported format to a file or stream.

import type { Format } from '../output'
import type { Profile } from '../profile'
import type { FoldedOptions } from './folded'
import { foldedLines } from './folded'

export interface Sink {
  write(chunk: string | Uint8Array): unknown
}

export interface WriteOptions {
  /** Time-ordered output where the format has it (SVG flame chart). */
  flamechart?: boolean
  title?: string
}

export async function writeProfile(profile: Profile, format: Format, view: FoldedOptions, sink: Sink, _options: WriteOptions = {}): Promise<void> {
  switch (format) {
    case 'folded':
      for (const line of foldedLines(profile.raw, view)) sink.write(line + '\n')
      return
    default:
      throw new Error(`format ${format} is not wired yet`)
  }
}
