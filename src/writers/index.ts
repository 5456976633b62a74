// Writes a profile in any supported format to a file or stream.

import type { Format } from '../output'
import type { Profile } from '../profile'
import { chromeTraceChunks } from './chrometrace'
import type { FoldedOptions } from './folded'
import { foldedLines } from './folded'
import { toPprof } from './pprof'
import { speedscopeChunks } from './speedscope'

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
    case 'speedscope':
      for (const chunk of speedscopeChunks(profile.raw, view)) sink.write(chunk)
      return
    case 'chrometrace':
      for (const chunk of chromeTraceChunks(profile.raw, view)) sink.write(chunk)
      return
    case 'pprof':
      sink.write(toPprof(profile.raw, view))
      return
    case 'svg':
      throw new Error('svg output is not wired yet')
  }
}
