// speedscope's file format (https://www.speedscope.app/file-format-schema.json): one frame
// table shared by sampled profiles, one profile per thread by default. Weights are seconds
// (samples × the sampling interval), as py-spy writes them, so speedscope shows real time.
// With a timeline the samples keep their time order (speedscope's "Time Order" view is then a
// real flame chart); without one each distinct stack appears once with its total weight.

import type { RawProfile } from '../types'
import { processCount, selectEntries, selectTimeline, threadLabel, viewFrames } from './view'
import { profileJson } from './json'
import type { ViewOptions } from './view-options'

export const SPEEDSCOPE_SCHEMA_URL = 'https://www.speedscope.app/file-format-schema.json'

export interface SpeedscopeFrame {
  name: string
  file?: string
  line?: number
}

export interface SpeedscopeSampledProfile {
  type: 'sampled'
  name: string
  unit: 'seconds'
  startValue: number
  endValue: number
  /** Stacks of indices into `shared.frames`, root first. */
  samples: number[][]
  weights: number[]
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA_URL
  shared: { frames: SpeedscopeFrame[] }
  profiles: SpeedscopeSampledProfile[]
  name: string
  activeProfileIndex: number
  exporter: string
}

export interface SpeedscopeOptions extends ViewOptions {
  /** One profile per thread (default true); false puts every thread into one profile. */
  perThread?: boolean
  /** Name of the file shown by speedscope; default `pyflame-ts pid <pid>`. */
  name?: string
}

/** Size of the text pieces speedscopeChunks yields. */
const CHUNK_CHARS = 1 << 20

/** Label of the frame that stands for Pyflame's `(idle)` bucket. */
export const IDLE_FRAME_NAME = '(idle)'

/** A stack as the view shows it: `id` is equal for equal frame lists. */
interface ViewStack {
  id: number
  frames: number[]
}

/** Collects one profile's samples; consecutive equal stacks merge (speedscope does the same). */
class SampleList {
  readonly samples: number[][] = []
  readonly weights: number[] = []
  private lastId = -1

  add(stack: ViewStack, weight: number, mergeWithPrevious: boolean): void {
    if (mergeWithPrevious && this.samples.length > 0 && stack.id === this.lastId) {
      this.weights[this.weights.length - 1] += weight
      return
    }
    this.samples.push(stack.frames)
    this.weights.push(weight)
    this.lastId = stack.id
  }

  total(): number {
    let sum = 0
    for (const weight of this.weights) sum += weight
    return sum
  }
}

export function toSpeedscope(profile: RawProfile, opts: SpeedscopeOptions = {}): SpeedscopeFile {
  const perThread = opts.perThread ?? true
  const interval = profile.intervalSecs
  const table = viewFrames(profile, opts)
  const frames: SpeedscopeFrame[] = []
  // The output holds only frames that some sample uses, in first-use order.
  const outputIndex = new Map<number, number>()
  const frameOf = (rawFrame: number): number => {
    const viewIndex = table.frameIndex[rawFrame]
    let index = outputIndex.get(viewIndex)
    if (index === undefined) {
      const frame = table.frames[viewIndex]
      index = frames.length
      frames.push(frame.line === undefined ? { name: frame.name, file: frame.filename } : { name: frame.name, file: frame.filename, line: frame.line })
      outputIndex.set(viewIndex, index)
    }
    return index
  }
  // Each profile stack is mapped once; samples of equal stacks share one array.
  const viewStacks: Array<ViewStack | undefined> = []
  const stackIds = new Map<string, number>()
  const mapStack = (stack: number): ViewStack =>
    (viewStacks[stack] ??= (() => {
      const frames = profile.stacks[stack].map(frameOf)
      const key = frames.join(',')
      let id = stackIds.get(key)
      if (id === undefined) stackIds.set(key, (id = stackIds.size))
      return { id, frames }
    })())

  const multiProcess = profile.subprocesses === true || processCount(profile) > 1
  // `busy` counts samples where the thread was running, to choose the profile shown first.
  const groups = new Map<string, { name: string; list: SampleList; busy: number; main: boolean }>()
  const groupOf = (threadIndex: number, busy = 0): SampleList => {
    const key = perThread ? `t${threadIndex}` : 'all'
    let group = groups.get(key)
    if (!group) {
      const thread = profile.threads[threadIndex]
      const name = perThread ? threadLabel(thread, multiProcess) : `pyflame-ts pid ${profile.pid}`
      group = { name, list: new SampleList(), busy: 0, main: !perThread || (thread.pid === profile.pid && thread.tid === thread.pid) }
      groups.set(key, group)
    }
    group.busy += busy
    return group.list
  }
  // Threads appear in the profile's thread order, not in first-sample order.
  if (perThread) profile.threads.forEach((_, index) => groupOf(index))

  const timeline = selectTimeline(profile, opts)
  const view = selectEntries(profile, opts)
  if (profile.timeline && profile.timeline.length > 0) {
    const ordered = [...timeline].sort((a, b) => a.timeUs - b.timeUs)
    for (const sample of ordered) groupOf(sample.thread, sample.idle ? 0 : 1).add(mapStack(sample.stack), interval, true)
  } else {
    for (const entry of view.entries) groupOf(entry.thread, entry.idle ? 0 : entry.count).add(mapStack(entry.stack), entry.count * interval, false)
  }

  const profiles: SpeedscopeSampledProfile[] = []
  // speedscope opens on the thread that ran the most, the main thread on a tie.
  let active = 0
  let best = { busy: -1, main: false }
  for (const { name, list, busy, main } of groups.values()) {
    if (perThread && list.samples.length === 0) continue
    if (busy > best.busy || (busy === best.busy && main && !best.main)) {
      active = profiles.length
      best = { busy, main }
    }
    profiles.push(sampledProfile(name, list))
  }
  if (view.idle > 0) {
    let idleStack: ViewStack | undefined
    const idle = (): ViewStack => {
      if (!idleStack) {
        idleStack = { id: -2, frames: [frames.length] }
        frames.push({ name: IDLE_FRAME_NAME })
      }
      return idleStack
    }
    if (perThread) {
      for (const [pid, ticks] of view.idleByProcess) {
        const list = new SampleList()
        list.add(idle(), ticks * interval, false)
        profiles.push(sampledProfile(`process ${pid} ${IDLE_FRAME_NAME}: no thread held the GIL`, list))
      }
    } else {
      const all = profiles[0] ?? sampledProfile(`pyflame-ts pid ${profile.pid}`, new SampleList())
      all.samples.push(idle().frames)
      all.weights.push(view.idle * interval)
      all.endValue += view.idle * interval
      if (profiles.length === 0) profiles.push(all)
    }
  }
  if (profiles.length === 0) profiles.push(sampledProfile(`pyflame-ts pid ${profile.pid}`, new SampleList()))

  return {
    $schema: SPEEDSCOPE_SCHEMA_URL,
    shared: { frames },
    profiles,
    name: opts.name ?? `pyflame-ts pid ${profile.pid}`,
    activeProfileIndex: active,
    exporter: 'pyflame-ts',
  }
}

function sampledProfile(name: string, list: SampleList): SpeedscopeSampledProfile {
  return { type: 'sampled', name, unit: 'seconds', startValue: 0, endValue: list.total(), samples: list.samples, weights: list.weights }
}

/**
 * The speedscope file as JSON text in pieces of about 1 MB, for writing to a file or stream:
 * a long recording's file can exceed what one JavaScript string may hold.
 */
export function* speedscopeChunks(profile: RawProfile, opts: SpeedscopeOptions = {}): Generator<string> {
  const file = toSpeedscope(profile, opts)
  const { shared, profiles, ...header } = file
  yield `${profileJson(header).slice(0, -1)},"shared":${profileJson(shared)},"profiles":[`
  for (const [index, sampled] of profiles.entries()) {
    const { samples, weights, ...fields } = sampled
    let chunk = `${index > 0 ? ',' : ''}${profileJson(fields).slice(0, -1)},"samples":[`
    for (let i = 0; i < samples.length; i++) {
      chunk += (i > 0 ? ',' : '') + JSON.stringify(samples[i])
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk
        chunk = ''
      }
    }
    yield `${chunk}],"weights":${JSON.stringify(weights)}}`
  }
  yield ']}\n'
}

/** The speedscope file as one JSON string (see speedscopeChunks for large recordings). */
export function speedscopeJson(profile: RawProfile, opts: SpeedscopeOptions = {}): string {
  let text = ''
  for (const chunk of speedscopeChunks(profile, opts)) text += chunk
  return text
}
