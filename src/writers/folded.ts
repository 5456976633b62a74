// Pyflame's folded output: one line per distinct stack, root first, frames written
// `path:function:line` and joined by `;`, then a space and the count; `(idle) N` for samples
// in which no thread held the GIL. `flamegraph.pl` reads it unchanged.

import type { ProfileFrame, RawProfile } from '../types'
import { selectEntries, selectTimeline } from './view'
import { viewLine } from './view'
import type { ViewOptions } from './view-options'

export interface FoldedOptions extends ViewOptions {
  /** Prefix each stack with `process <pid>` (always on when several processes were sampled). */
  processLabels?: boolean
  /** Prefix each stack with `thread <tid>` (and its name when known). */
  threadLabels?: boolean
  /**
   * `pyflame` (default): `path:function:line`, Pyflame's format. `function`: py-spy's
   * `function (path:line)`, which reads better in a flame graph where labels are cut short.
   */
  labelStyle?: 'pyflame' | 'function'
}

/** Characters that would break the folded format (frame separator, line ends, controls). */
const UNSAFE = /[;\r\n\u0000-\u001f\u007f]/g

function clean(text: string): string {
  return text.replace(UNSAFE, '_')
}

/** The label of one frame as Pyflame writes it. */
export function frameLabel(frame: ProfileFrame, options: FoldedOptions): string {
  // Native frames: `libz.so.1:deflate`, or `libz.so.1+0x1f2e` without a symbol.
  if (frame.native) {
    if (!frame.filename) return clean(frame.name)
    return frame.name.startsWith('+0x') ? `${clean(frame.filename)}${frame.name}` : `${clean(frame.filename)}:${clean(frame.name)}`
  }
  const line = viewLine(frame, options)
  if (options.labelStyle === 'function') {
    return `${clean(frame.name)} (${clean(frame.filename)}${line === undefined ? '' : `:${line}`})`
  }
  const base = `${clean(frame.filename)}:${clean(frame.name)}`
  return line === undefined ? base : `${base}:${line}`
}

/** Whether stacks are rooted at their process: always with `--subprocesses`, else with 2+ processes. */
export function labelsProcesses(profile: RawProfile): boolean {
  return profile.subprocesses === true || profile.processes.length > 1
}

export function* foldedLines(profile: RawProfile, options: FoldedOptions = {}): Generator<string> {
  const labelProcesses = options.processLabels ?? labelsProcesses(profile)
  const frameLabels = profile.frames.map((f) => frameLabel(f, options))
  const counts = new Map<string, number>()
  const { entries, idle, idleByProcess } = selectEntries(profile, options)
  for (const entry of entries) {
    const frames = profile.stacks[entry.stack]
    if (frames.length === 0) continue
    const thread = profile.threads[entry.thread]
    let key = ''
    if (labelProcesses) key += `process ${thread.pid};`
    if (options.threadLabels) key += `thread ${thread.tid}${thread.name ? ` (${clean(thread.name)})` : ''};`
    key += frames.map((f) => frameLabels[f]).join(';')
    counts.set(key, (counts.get(key) ?? 0) + entry.count)
  }
  for (const key of [...counts.keys()].sort()) yield `${key} ${counts.get(key)}`
  if (labelProcesses) {
    for (const [pid, ticks] of [...idleByProcess].sort((a, b) => a[0] - b[0])) yield `process ${pid};(idle) ${ticks}`
  } else if (idle > 0) {
    yield `(idle) ${idle}`
  }
}

/** Time-ordered folded lines (one per sample, count 1) from the profile's timeline. */
export function* timelineFoldedLines(profile: RawProfile, options: FoldedOptions = {}): Generator<string> {
  const labelProcesses = options.processLabels ?? labelsProcesses(profile)
  const frameLabels = profile.frames.map((f) => frameLabel(f, options))
  for (const sample of selectTimeline(profile, options)) {
    const frames = profile.stacks[sample.stack]
    if (frames.length === 0) continue
    const thread = profile.threads[sample.thread]
    let key = ''
    if (labelProcesses) key += `process ${thread.pid};`
    if (options.threadLabels) key += `thread ${thread.tid}${thread.name ? ` (${clean(thread.name)})` : ''};`
    yield `${key}${frames.map((f) => frameLabels[f]).join(';')} 1`
  }
}
