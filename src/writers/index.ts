// Writes a profile in any supported format to a file or stream. Each format's writer loads when
// that format is written: folded output never loads the SVG, report or pprof (protobuf) code.

import type { Format } from '../output'
import type { Profile } from '../profile'
import type { FoldedOptions } from './folded'
import { foldedLines, timelineFoldedLines } from './folded'
import type { FlamegraphOptions } from '../flamegraph/options'

export interface Sink {
  write(chunk: string | Uint8Array): unknown
}

export interface WriteOptions {
  /** Time-ordered output where the format has it (SVG flame chart; needs a timeline). */
  flamechart?: boolean
  /** Drawing options for SVG output. */
  flamegraph?: FlamegraphOptions
  /** The sampled command line, shown in the HTML report's metadata. */
  commandLine?: string
}

/** The subtitle of a recorded profile's flame graph: what was sampled, how, how much. */
export function profileSubtitle(profile: Profile): string {
  const raw = profile.raw
  const errors = raw.errors > 0 ? `, ${raw.errors} errors (${errorKindsText(profile)})` : ''
  const noGil = raw.processes.some((p) => p.gilDisabled) ? ' · free-threaded, no GIL: threads on a CPU counted, by CPU time' : ''
  return `Python ${raw.pythonVersion} · PID ${raw.pid} · ${raw.ticks} samples every ${raw.intervalSecs * 1000} ms over ${raw.durationSecs.toFixed(1)} s${errors}${noGil}`
}

/** `3 invalid data: frame, 1 unreadable address`: what the errors were. */
export function errorKindsText(profile: Profile): string {
  const kinds = profile.raw.errorKinds ?? []
  return kinds.length > 0 ? kinds.map((k) => `${k.count} ${k.kind}`).join(', ') : 'kinds not recorded'
}

/** The HTML report's metadata rows for a recording. */
export function profileMeta(profile: Profile, commandLine?: string): Array<[string, string]> {
  const raw = profile.raw
  const achieved = raw.durationSecs > 0 ? raw.ticks / raw.durationSecs : 0
  const rows: Array<[string, string]> = [
    ['Python', raw.pythonVersion],
    ['PID', String(raw.pid)],
  ]
  if (commandLine) rows.push(['Command', commandLine])
  rows.push(
    ['Started', new Date(raw.startTimeMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')],
    ['Duration', `${raw.durationSecs.toFixed(2)} s`],
    ['Rate', `${Number(achieved.toFixed(1))} Hz achieved of ${Number((1 / raw.intervalSecs).toFixed(1))} Hz asked (every ${Number((raw.intervalSecs * 1000).toFixed(3))} ms)`],
    ['Samples', `${raw.ticks.toLocaleString('en-US')} (${raw.gilIdleTicks.toLocaleString('en-US')} idle)`],
    ['Errors', raw.errors > 0 ? `${raw.errors} (${errorKindsText(profile)})` : '0'],
    ['Ended', raw.endReason],
  )
  return rows
}

export async function writeProfile(profile: Profile, format: Format, view: FoldedOptions, sink: Sink, options: WriteOptions = {}): Promise<void> {
  switch (format) {
    case 'folded':
      for (const line of foldedLines(profile.raw, view)) sink.write(line + '\n')
      return
    case 'speedscope': {
      const { speedscopeChunks } = await import('./speedscope')
      for (const chunk of speedscopeChunks(profile.raw, view)) sink.write(chunk)
      return
    }
    case 'chrometrace': {
      const { chromeTraceChunks } = await import('./chrometrace')
      for (const chunk of chromeTraceChunks(profile.raw, view)) sink.write(chunk)
      return
    }
    case 'pprof': {
      const { toPprof } = await import('./pprof')
      sink.write(toPprof(profile.raw, view))
      return
    }
    case 'html': {
      const { renderReport } = await import('../report')
      const labelled: FoldedOptions = { labelStyle: 'function', ...view }
      const errors = (profile.raw.errorKinds ?? []).map((k) => ({ kind: k.kind, count: k.count }))
      await renderReport(foldedLines(profile.raw, labelled), { title: options.flamegraph?.title ?? `Python ${profile.raw.pythonVersion} profile of PID ${profile.raw.pid}`, meta: profileMeta(profile, options.commandLine), errors }, (chunk: string) => {
        sink.write(chunk)
      })
      return
    }
    case 'svg': {
      const flamechart = options.flamechart === true && profile.raw.timeline !== undefined
      // Function-first labels: a box cut short still shows which function it is.
      const labelled: FoldedOptions = { labelStyle: 'function', ...view }
      const { renderFlamegraph } = await import('../flamegraph/render')
      const lines = flamechart ? timelineFoldedLines(profile.raw, labelled) : foldedLines(profile.raw, labelled)
      await renderFlamegraph(lines, { subtitle: profileSubtitle(profile), ...options.flamegraph, flamechart }, (chunk: string) => {
        sink.write(chunk)
      })
      return
    }
  }
}
