// The agent: finds the processes to profile, keeps them in one native fleet recording, cuts
// a window every few seconds, turns each process's share into a labelled pprof and queues
// it for the uploader. Sampling runs on the recording's own thread; discovery, encoding and
// HTTP run on the JS thread and never hold sampling up.

import { fromNative, PyflameError } from '../errors'
import type { AgentWindow } from '../../binding'
import { native } from '../native'
import type { RawProfile } from '../types'
import { ProcessFinder, type Found } from './discovery'
import { ingestName } from './labels'
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options'
import { appendMetrics, formatReport, type AgentStats, type AgentTarget } from './report'
import { Uploader } from './uploader'
import * as fs from 'node:fs'

export interface AgentHandle {
  /** Settles once the agent has stopped: with the final stats, or with a fatal error. */
  readonly done: Promise<AgentStats>
  /** Stops sampling, sends the last window and what waits (within the flush timeout). */
  stop(): Promise<AgentStats>
  stats(): AgentStats
}

/** Attach failures that a process still starting up may get over. */
const RETRY_ATTACH = new Set(['ERR_NOT_PYTHON', 'ERR_UNSUPPORTED_PYTHON', 'ERR_READ_FAILED'])
const ATTACH_ATTEMPTS = 4

interface Failure {
  attempts: number
  retryAt: number
  gaveUp: boolean
}

interface Target extends Found {
  pythonVersion?: string
}

type FleetRecording = InstanceType<typeof native.FleetRecording>

class Agent implements AgentHandle {
  readonly done: Promise<AgentStats>
  private resolveDone!: (stats: AgentStats) => void
  private rejectDone!: (error: unknown) => void
  private readonly fleet: FleetRecording
  private readonly running: Promise<RawProfile>
  private readonly finder: ProcessFinder
  private readonly uploader: Uploader
  /** Processes in the recording (or joining it), by PID. */
  private readonly targets = new Map<number, Target>()
  private readonly failures = new Map<number, Failure>()
  private processesSeen = 0
  private windows = 0
  private emptyWindows = 0
  private perfEventsNoticed = false
  private cutting: Promise<void> = Promise.resolve()
  private readonly timers: NodeJS.Timeout[] = []
  private stopping: Promise<AgentStats> | undefined
  private fatal: unknown
  private readonly startedAt = Date.now()
  private readonly startCpu = process.cpuUsage()

  constructor(private readonly options: ResolvedAgentOptions) {
    this.done = new Promise<AgentStats>((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    this.done.catch(() => {})
    for (const pid of options.pids) {
      if (!fs.existsSync(`/proc/${pid}`)) throw new PyflameError('ERR_NO_PROCESS', `no process with PID ${pid}: check the PID (ps -p ${pid})`)
    }
    this.finder = new ProcessFinder({ pids: options.pids, match: options.match, cgroup: options.cgroup })
    this.uploader = new Uploader({
      ingestUrl: options.ingestUrl,
      serverLabel: options.serverLabel,
      headers: options.headers,
      ca: options.ca,
      capacity: options.bufferWindows,
      requestTimeoutMs: options.requestTimeoutMs,
      log: options.log,
      onFatal: (error) => this.fail(error),
    })
    try {
      // Python's thread names cost tens of reads per process every few seconds: only read
      // when the windows carry them.
      this.fleet = new native.FleetRecording({ interval: options.interval, discover: { pythonVersion: options.pythonVersion }, threadNames: options.threadLabels, perfEvents: options.perfEvents })
      this.running = this.fleet.run() as Promise<RawProfile>
    } catch (error) {
      throw fromNative(error)
    }
    this.running.catch((error: unknown) => this.fail(fromNative(error)))
    this.scan()
    this.every(options.scanMs, () => this.scan())
    this.every(options.windowMs, () => {
      this.cutting = this.cutting.then(() => this.cutWindow())
    })
    if (options.reportMs > 0) this.every(options.reportMs, () => this.report('report'))
  }

  private every(ms: number, work: () => void): void {
    this.timers.push(setInterval(work, ms))
  }

  stats(): AgentStats {
    const progress = this.fleet.progress()
    const cpu = process.cpuUsage(this.startCpu)
    const cpuSecs = (cpu.user + cpu.system) / 1e6
    const uptimeSecs = (Date.now() - this.startedAt) / 1000
    const targets: AgentTarget[] = [...this.targets.values()].map((t) => ({ pid: t.pid, service: this.serviceOf(t), pythonVersion: t.pythonVersion ?? '' }))
    return {
      ...this.uploader.stats(),
      uptimeSecs,
      processes: this.targets.size,
      processesSeen: this.processesSeen,
      windows: this.windows,
      emptyWindows: this.emptyWindows,
      ticks: progress.ticks,
      lateTicks: progress.missed,
      sampleErrors: progress.errors,
      cpuSecs,
      cpuPercent: uptimeSecs > 0 ? (100 * cpuSecs) / uptimeSecs : 0,
      rssBytes: process.memoryUsage.rss(),
      lastError: this.uploader.lastError,
      targets,
    }
  }

  private report(event: 'report' | 'final'): AgentStats {
    const stats = this.stats()
    this.options.log(formatReport(stats, event === 'final'))
    if (this.options.metricsFile) {
      try {
        appendMetrics(this.options.metricsFile, stats, event)
      } catch (error) {
        this.options.log(`pyflame-ts agent: cannot write --metrics-file ${JSON.stringify(this.options.metricsFile)}: ${(error as Error).message} (ERR_OUTPUT)`)
      }
    }
    return stats
  }

  private serviceOf(target: Found): string {
    return this.options.service ?? target.service
  }

  /** Looks for processes to add (and ones no longer selected, to let go). */
  private scan(): void {
    if (this.stopping) return
    let found: Map<number, Found>
    try {
      found = this.finder.find()
    } catch (error) {
      this.options.log(`pyflame-ts agent: cannot list processes: ${(error as Error).message} (ERR_READ_FAILED)`)
      return
    }
    const now = Date.now()
    for (const [pid, target] of found) {
      if (this.targets.has(pid)) continue
      const failure = this.failures.get(pid)
      if (failure && (failure.gaveUp || now < failure.retryAt)) continue
      this.attach(target)
    }
    for (const pid of this.failures.keys()) if (!found.has(pid)) this.failures.delete(pid)
    // Still running but no longer selected (e.g. it exec'd another program): let it go.
    for (const pid of this.targets.keys()) {
      if (!found.has(pid) && fs.existsSync(`/proc/${pid}`)) this.fleet.leave(pid)
    }
    if (this.options.pids.length > 0 && !this.finder.listedAlive()) {
      this.options.log('pyflame-ts agent: every process given with -p has exited; sending what is left and stopping')
      void this.stop()
    }
  }

  private attach(found: Found): void {
    const target: Target = { ...found }
    this.targets.set(found.pid, target)
    ;(this.fleet.attach(found.pid) as Promise<{ pythonVersion: string }>).then(
      (attached) => {
        target.pythonVersion = attached.pythonVersion
        this.processesSeen += 1
        this.failures.delete(found.pid)
      },
      (raw: unknown) => {
        this.targets.delete(found.pid)
        const error = fromNative(raw)
        const code = error instanceof PyflameError ? error.code : 'ERR_INTERNAL'
        if (code === 'ERR_NO_PROCESS') return
        const failure = this.failures.get(found.pid) ?? { attempts: 0, retryAt: 0, gaveUp: false }
        failure.attempts += 1
        failure.retryAt = Date.now() + 1000 * 2 ** (failure.attempts - 1)
        failure.gaveUp = !RETRY_ATTACH.has(code) || failure.attempts >= ATTACH_ATTEMPTS
        this.failures.set(found.pid, failure)
        if (failure.gaveUp) {
          // A PID the user named that cannot be profiled is a mistake to report, not to skip.
          if (this.options.pids.includes(found.pid)) return this.fail(error)
          const message = error instanceof Error ? error.message : String(error)
          this.options.log(`pyflame-ts agent: not profiling PID ${found.pid}: ${message} (${code})`)
        }
      },
    )
  }

  private async cutWindow(): Promise<void> {
    let window: AgentWindow | null
    try {
      // Split by process and encoded natively, off the JS thread (crates/pyflame-node/src/window_pprof.rs).
      window = await this.fleet.drainWindows(this.options.threadLabels)
    } catch (error) {
      this.options.log(`pyflame-ts agent: ${(fromNative(error) as Error).message}`)
      return
    }
    if (window) this.queueWindows(window)
    this.noticePerfEventsRefusal()
    // Exited processes leave after the window that holds their last samples.
    for (const pid of this.fleet.takeExited()) {
      this.targets.delete(pid)
      this.finder.forget(pid)
    }
  }

  /** Says once why quiet workers are checked the costlier way, and what would allow perf events. */
  private noticePerfEventsRefusal(): void {
    if (this.perfEventsNoticed) return
    const why = this.fleet.perfEventsRefusal()
    if (!why) return
    this.perfEventsNoticed = true
    this.options.log(
      `pyflame-ts agent: ${why}; quiet threads are checked through /proc/PID/task/TID/schedstat instead, which costs the agent more CPU (grant CAP_PERFMON or set kernel.perf_event_paranoid to 2 to use perf events)`,
    )
  }

  private queueWindows(window: AgentWindow): void {
    const fromMs = window.startTimeMs
    const untilMs = window.startTimeMs + window.durationSecs * 1000
    for (const { pid, pythonVersion, ticks, pprof } of window.processes) {
      const target = this.targets.get(pid)
      const service = target ? this.serviceOf(target) : (this.options.service ?? 'python')
      if (!pprof) {
        this.emptyWindows += 1
        continue
      }
      this.windows += 1
      const labels: [string, string][] = [
        ['host', this.options.host],
        ['pid', String(pid)],
        ['python_version', pythonVersion || 'unknown'],
      ]
      if (target?.containerId) labels.push(['container_id', target.containerId])
      labels.push(...this.options.tags)
      this.uploader.enqueue({ pid, fromMs, untilMs, samples: ticks, body: pprof, name: ingestName(service, labels) })
    }
  }

  stop(): Promise<AgentStats> {
    this.stopping ??= this.shutDown()
    return this.stopping
  }

  private async shutDown(): Promise<AgentStats> {
    for (const timer of this.timers) clearInterval(timer)
    await this.cutting
    this.fleet.stop()
    let last: RawProfile | undefined
    try {
      last = await this.running
    } catch {
      // Already reported through fail().
    }
    if (last) {
      try {
        this.queueWindows(native.agentWindowPprofs(last, this.options.threadLabels))
      } catch (error) {
        this.options.log(`pyflame-ts agent: cannot encode the last window: ${(fromNative(error) as Error).message} (ERR_INTERNAL)`)
      }
    }
    await this.uploader.flush(this.options.flushTimeoutMs)
    const stats = this.report('final')
    this.uploader.close()
    if (this.fatal !== undefined) this.rejectDone(this.fatal)
    else this.resolveDone(stats)
    return stats
  }

  private fail(error: unknown): void {
    this.fatal ??= error
    if (this.stopping) {
      // Stopping already: end the flush now, nothing more will be accepted.
      this.uploader.close()
      return
    }
    this.stopping = (async () => {
      for (const timer of this.timers) clearInterval(timer)
      this.fleet.stop()
      await this.running.catch(() => {})
      this.uploader.close()
      const stats = this.stats()
      if (this.options.metricsFile) appendMetrics(this.options.metricsFile, stats, 'final')
      this.rejectDone(error)
      return stats
    })()
  }
}

/**
 * Starts profiling the selected processes continuously and pushing each window to Pyroscope.
 * Throws at once on invalid options; later failures settle `done`.
 */
export function startAgent(options: AgentOptions): AgentHandle {
  return new Agent(resolveAgentOptions(options))
}
