// Writes a profile in any supported format to a file or stream.

import type { Format } from '../output'
import type { Profile } from '../profile'
import { chromeTraceChunks } from './chrometrace'
import type { FoldedOptions } from './folded'
import { foldedLines, timelineFoldedLines } from './folded'
import { renderFlamegraph } from '../flamegraph/render'
import type { FlamegraphOptions } from '../flamegraph/options'
import { toPprof } from './pprof'
import { speedscopeChunks } from './speedscope'

export interface Sink {
  write(chunk: string | Uint8Array): unknown
}

export interface WriteOptions {
  /** Time-ordered output where the format has it (SVG flame chart; needs a timeline). */
  flamechart?: boolean
  /** Drawing options for SVG output. */
  flamegraph?: FlamegraphOptions
}

/** The subtitle of a recorded profile's flame graph: what was sampled, how, how much. */
export function profileSubtitle(profile: Profile): string {
  const raw = profile.raw
  const errors = raw.errors > 0 ? `, ${raw.errors} errors` : ''
  const noGil = raw.processes.some((p) => p.gilDisabled) ? ' · free-threaded, no GIL: every running thread counted' : ''
  return `Python ${raw.pythonVersion} · PID ${raw.pid} · ${raw.ticks} samples every ${raw.intervalSecs * 1000} ms over ${raw.durationSecs.toFixed(1)} s${errors}${noGil}`
}

export async function writeProfile(profile: Profile, format: Format, view: FoldedOptions, sink: Sink, options: WriteOptions = {}): Promise<void> {
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
    case 'svg': {
      const flamechart = options.flamechart === true && profile.raw.timeline !== undefined
      // Function-first labels: a box cut short still shows which function it is.
      const labelled: FoldedOptions = { labelStyle: 'function', ...view }
      const lines = flamechart ? timelineFoldedLines(profile.raw, labelled) : foldedLines(profile.raw, labelled)
      await renderFlamegraph(lines, { subtitle: profileSubtitle(profile), ...options.flamegraph, flamechart }, (chunk: string) => {
        sink.write(chunk)
      })
      return
    }
  }
}
