// A streaming sampler for long-running use from Node: batches of samples arrive as they are
// taken, and memory stays bounded because each batch holds only counts since the last one.

import { EventEmitter } from 'node:events'
import type { Profile } from './profile'
import { startRecording, type RecordingHandle, type SampleOptions } from './sample'

export interface SamplerOptions extends Omit<SampleOptions, 'signal'> {
  /** Milliseconds between batches (default 1000). */
  batchIntervalMs?: number
}

export interface SamplerEvents {
  /** Samples taken since the previous batch (interned tables are complete). */
  batch: [Profile]
  /** The recording ended; the last batch was emitted before this. */
  end: [{ endReason: string }]
  error: [Error]
}

export class Sampler extends EventEmitter<SamplerEvents> {
  private handle: RecordingHandle | undefined
  private timer: NodeJS.Timeout | undefined
  private draining: Promise<void> = Promise.resolve()

  constructor(private readonly options: SamplerOptions) {
    super()
  }

  /** Starts sampling (default duration: until `stop()` or the target exits). */
  start(): this {
    if (this.handle) throw new Error('Sampler already started')
    this.handle = startRecording({ ...this.options, seconds: this.options.seconds ?? Infinity })
    const every = this.options.batchIntervalMs ?? 1000
    this.timer = setInterval(() => {
      this.draining = this.draining.then(() => this.emitBatch())
    }, every)
    this.handle.done.then(
      (last) => {
        clearInterval(this.timer)
        this.draining.then(() => {
          if (last.samples > 0) this.emit('batch', last)
          this.emit('end', { endReason: last.endReason })
        })
      },
      (error: Error) => {
        clearInterval(this.timer)
        if (this.listenerCount('error') > 0) this.emit('error', error)
      },
    )
    return this
  }

  private async emitBatch(): Promise<void> {
    const batch = await this.handle?.drain()
    if (batch && batch.samples > 0) this.emit('batch', batch)
  }

  /** Stops sampling; resolves once the final batch and `end` have been emitted. */
  async stop(): Promise<void> {
    if (!this.handle) return
    this.handle.stop()
    await new Promise<void>((resolve) => {
      this.once('end', () => resolve())
      this.handle!.done.catch(() => resolve())
    })
  }

  progress() {
    return this.handle?.progress()
  }
}
