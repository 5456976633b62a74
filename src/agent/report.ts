// The agent's self-report: what it sent, lost and retried, and what it costs the host,
// as a line for people (stderr) and as one JSON object per line for machines.

import * as fs from 'node:fs'
import type { UploaderStats } from './uploader'

export interface AgentTarget {
  pid: number
  service: string
  pythonVersion: string
}

export interface AgentStats extends UploaderStats {
  /** Seconds since the agent started. */
  uptimeSecs: number
  /** Processes being profiled now. */
  processes: number
  /** Processes profiled at some point (recycled workers count each time). */
  processesSeen: number
  /** Windows made (one per process per window period with samples). */
  windows: number
  /** Process windows in which no thread ran: nothing to send. */
  emptyWindows: number
  /** Sampling ticks so far, and ticks skipped because sampling fell behind. */
  ticks: number
  lateTicks: number
  /** Stacks that failed validation. */
  sampleErrors: number
  /** CPU the agent used (user+system, every thread: sampler, Node, HTTP). */
  cpuSecs: number
  /** `cpuSecs` over `uptimeSecs`, in percent of one core. */
  cpuPercent: number
  rssBytes: number
  /** The last push failure, if any. */
  lastError?: string
  targets: AgentTarget[]
}

export function formatReport(stats: AgentStats, final = false): string {
  const mb = (stats.rssBytes / 1024 / 1024).toFixed(0)
  return (
    `pyflame-ts agent${final ? ' (final)' : ''}: ${stats.processes} process(es), ` +
    `windows: ${stats.sent} sent, ${stats.queued} waiting, ${stats.dropped} dropped, ${stats.retried} retries, ${stats.rejected} rejected; ` +
    `CPU ${stats.cpuPercent.toFixed(2)} % of a core (${stats.cpuSecs.toFixed(1)} s in ${stats.uptimeSecs.toFixed(0)} s), RSS ${mb} MB`
  )
}

/** Appends the stats as one JSON line (the file is created if needed). */
export function appendMetrics(file: string, stats: AgentStats, event: 'report' | 'final'): void {
  fs.appendFileSync(file, JSON.stringify({ event, time: new Date().toISOString(), ...stats }) + '\n')
}
