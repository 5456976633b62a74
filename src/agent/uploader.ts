// Sends windows to Pyroscope's `/ingest`, one at a time in the order recorded, from a
// bounded queue: when the server is down or slow the queue fills and its oldest window is
// dropped (and counted) for each new one; a failed push is retried with exponential backoff.
// Sampling runs on its own native thread, so nothing here ever holds it up.

import * as http from 'node:http'
import * as https from 'node:https'
import { PyflameError } from '../errors'
import type { Window } from './window'

export interface UploaderStats {
  /** Windows the server accepted. */
  sent: number
  /** Windows waiting to be sent (including one in flight). */
  queued: number
  /** Windows dropped because the queue was full (the oldest first). */
  dropped: number
  /** Pushes that failed and were tried again. */
  retried: number
  /** Windows the server refused (4xx) and that were not retried. */
  rejected: number
  /** Bytes of pprof the server accepted. */
  bytesSent: number
}

export interface UploaderOptions {
  ingestUrl: URL
  serverLabel: string
  headers: Record<string, string>
  /** Certificates to trust for https (undefined: Node's defaults). */
  ca?: string[]
  capacity: number
  requestTimeoutMs: number
  log: (line: string) => void
  /** A refusal that no retry can fix (wrong URL, credentials or tenant). */
  onFatal: (error: PyflameError) => void
}

/** First retry after this long; each next one waits twice as long, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 30_000
/** Refusals that mean the agent is misconfigured: stop instead of refusing every window. */
const FATAL_STATUSES = new Set([401, 403, 404, 405])
/**
 * Pyroscope answers 422 when the ingester cannot store a profile right now (e.g. its ring is
 * still settling after a restart, though /ready says 200): retried like a 5xx, but a window
 * refused this many times in a row is given up, so one that the server can never take does
 * not hold the queue forever.
 */
const MAX_REFUSALS_PER_WINDOW = 8
/** How much of an error response is quoted. */
const MAX_ERROR_BODY = 300

type PushResult = { ok: true } | { ok: false; retry: boolean; status?: number; message: string }

/** Answers that ask to try again later (the server's state, not the window's content). */
function retryable(status: number): boolean {
  return status === 408 || status === 422 || status === 425 || status === 429 || status >= 500
}

/** Quotes text from elsewhere for a one-line message: control characters escaped, length bounded. */
export function quoteForMessage(text: string, max = MAX_ERROR_BODY): string {
  const trimmed = text.trim()
  const cut = trimmed.length > max ? trimmed.slice(0, max) + '…' : trimmed
  return JSON.stringify(cut)
}

export class Uploader {
  private readonly queue: Window[] = []
  private readonly stats_: UploaderStats = { sent: 0, queued: 0, dropped: 0, retried: 0, rejected: 0, bytesSent: 0 }
  private sending = false
  private failures = 0
  /** Times the head window was refused with an HTTP status (network errors do not count). */
  private headRefusals = 0
  private retryTimer: NodeJS.Timeout | undefined
  private unreachable = false
  private closed = false
  private readonly agent: http.Agent
  private idleWaiters: (() => void)[] = []
  lastError: string | undefined

  constructor(private readonly options: UploaderOptions) {
    this.agent =
      options.ingestUrl.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: options.ca })
        : new http.Agent({ keepAlive: true, maxSockets: 1 })
  }

  stats(): UploaderStats {
    return { ...this.stats_, queued: this.queue.length }
  }

  enqueue(window: Window): void {
    if (this.closed) return
    this.queue.push(window)
    while (this.queue.length > this.options.capacity) {
      // The oldest waiting window goes; one in flight stays until its push ends.
      this.queue.splice(this.sending ? 1 : 0, 1)
      if (!this.sending) this.headRefusals = 0
      this.stats_.dropped += 1
    }
    this.pump()
  }

  /** Resolves when the queue is empty, or after `timeoutMs` with what could not be sent. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.queue.length === 0) return
    // Stopping: try now rather than after the current backoff.
    if (this.retryTimer) {
      clearTimeout(this.retryTimer)
      this.retryTimer = undefined
      this.pump()
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.idleWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  close(): void {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.agent.destroy()
    for (const wake of this.idleWaiters.splice(0)) wake()
  }

  private pump(): void {
    if (this.sending || this.retryTimer || this.closed) return
    const window = this.queue[0]
    if (!window) {
      for (const wake of this.idleWaiters.splice(0)) wake()
      return
    }
    this.sending = true
    this.push(window).then((result) => {
      this.sending = false
      if (this.closed) return
            if (result.ok) {
        this.queue.shift()
        this.stats_.sent += 1
        this.stats_.bytesSent += window.body.length
        this.failures = 0
        this.headRefusals = 0
        if (this.unreachable) {
          this.unreachable = false
          this.options.log(`pyflame-ts agent: ${this.options.serverLabel} takes profiles again; sending ${this.queue.length} waiting window(s)`)
        }
        this.pump()
        return
      }
      this.lastError = result.message
      if (result.retry && result.status !== undefined && this.queue[0] === window) {
        this.headRefusals += 1
        if (this.headRefusals >= MAX_REFUSALS_PER_WINDOW) result.retry = false
      }
      if (!result.retry) {
        if (this.queue[0] === window) this.queue.shift()
        this.headRefusals = 0
        this.stats_.rejected += 1
        const error = new PyflameError('ERR_SERVER_REJECTED', result.message)
        if (result.status !== undefined && FATAL_STATUSES.has(result.status)) {
          this.options.onFatal(error)
          return
        }
        this.options.log(`pyflame-ts agent: ${result.message}; the window was dropped (ERR_SERVER_REJECTED)`)
        this.pump()
        return
      }
      this.stats_.retried += 1
      this.failures += 1
      if (!this.unreachable) {
        this.unreachable = true
        this.options.log(
          `pyflame-ts agent: ${result.message}; still recording, keeping up to ${this.options.capacity} window(s) and retrying (ERR_SERVER_UNREACHABLE)`,
        )
      }
      const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1))
      // Jitter spreads the retries of many agents after an outage.
      const wait = backoff / 2 + Math.random() * (backoff / 2)
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.pump()
      }, wait)
      this.retryTimer.unref()
    })
  }

  private push(window: Window): Promise<PushResult> {
    const url = new URL(this.options.ingestUrl.href)
    url.searchParams.set('name', window.name)
    url.searchParams.set('from', String(Math.floor(window.fromMs)))
    url.searchParams.set('until', String(Math.ceil(window.untilMs)))
    url.searchParams.set('format', 'pprof')
    url.searchParams.set('spyName', 'pyflame-ts')
    const request = url.protocol === 'https:' ? https.request : http.request
    const server = this.options.serverLabel
    return new Promise<PushResult>((resolve) => {
      let settled = false
      const settle = (result: PushResult) => {
        if (!settled) {
          settled = true
          resolve(result)
        }
      }
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.options.headers, 'Content-Length': String(window.body.length) },
          timeout: this.options.requestTimeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = []
          let length = 0
          res.on('data', (chunk: Buffer) => {
            if (length < 4096) chunks.push(chunk)
            length += chunk.length
          })
          res.on('error', (error) => settle({ ok: false, retry: true, message: `lost the answer of ${server}: ${error.message}` }))
          res.on('end', () => {
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) return settle({ ok: true })
            const body = quoteForMessage(Buffer.concat(chunks).toString('utf8'))
            // 408 and 429 ask to come back later; 5xx are the server's trouble, not the window's.
            const retry = retryable(status)
            const advice =
              status === 401 || status === 403
                ? 'check --basic-auth, --bearer-token or --tenant-id'
                : status === 404 || status === 405
                  ? 'check that --server is the Pyroscope base URL (the agent posts to its /ingest)'
                  : 'the server refused the profile'
            settle({ ok: false, retry, status, message: `${server} answered ${status} to ${url.pathname}: ${body}${retry ? '' : `; ${advice}`}` })
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.requestTimeoutMs / 1000} s`)))
      req.on('error', (error: NodeJS.ErrnoException) => {
        settle({ ok: false, retry: true, message: `cannot reach ${server}: ${error.message}` })
      })
      req.end(window.body)
    })
  }
}
