// The agent's options as the Node API takes them, and their validation into one resolved
// shape (the CLI maps its flags onto AgentOptions and goes through the same checks).

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as tls from 'node:tls'
import { invalidArgument } from '../errors'
import { DEFAULT_INTERVAL, parseHertz, parseInterval, parsePid } from '../options'
import { labelValue, validateLabelName, validateServiceName } from './labels'

export interface AgentOptions {
  /** Pyroscope's base URL, e.g. `http://pyroscope:4040` (a path prefix is kept). */
  server: string
  /** `service_name` of every profile (default: from the cgroup/unit or the command line). */
  service?: string
  /** Processes to profile, with their descendants (a gunicorn master's workers). */
  pids?: number[]
  /** Profile every process whose command line matches (a JavaScript regular expression). */
  match?: string | RegExp
  /** Profile every process in this cgroup (a path such as `/system.slice/app.service`, or a unit name). */
  cgroup?: string
  /** Seconds per pushed window (default 10). */
  windowSeconds?: number
  /** Seconds between samples (default 0.01). */
  rate?: number
  /** Samples per second; instead of `rate`. */
  hz?: number
  /** Extra labels on every profile, e.g. `{ env: 'prod' }`. */
  tags?: Record<string, string>
  /** `user:password` for HTTP basic auth. */
  basicAuth?: string
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string
  /** Sent as `X-Scope-OrgID` (a multi-tenant Pyroscope's tenant). */
  tenantId?: string
  /** PEM file of the CA that signed an https server's certificate (beside the system's). */
  caFile?: string
  /** Windows kept while the server cannot take them; the oldest is dropped beyond (default 1024). */
  bufferWindows?: number
  /** Label each sample with its thread's name (more series on the server). */
  threadLabels?: boolean
  /**
   * Let the kernel log quiet threads' context switches with perf events (default true), so a
   * worker that has not run is counted again without being read; false reads each thread's
   * /proc/PID/task/TID/schedstat instead (more CPU for the agent, no perf event on the target).
   */
  perfEvents?: boolean
  /** Seconds between looks for new processes (default 2). */
  scanSeconds?: number
  /** Seconds between self-reports (default 60; 0: only the final one). */
  reportSeconds?: number
  /** Appends each self-report to this file as one JSON line. */
  metricsFile?: string
  /** Seconds to keep trying to send what is left when stopping (default 10). */
  flushTimeoutSeconds?: number
  /** Seconds before one push is given up and retried (default 15). */
  requestTimeoutSeconds?: number
  /** The `host` label (default: this machine's host name). */
  host?: string
  /** Override Python version detection, e.g. `'3.11'`. */
  pythonVersion?: string
  /** Lines for the operator (warnings, self-reports); default: stderr. */
  log?: (line: string) => void
}

export interface ResolvedAgentOptions {
  ingestUrl: URL
  /** The server as given, without credentials (for messages). */
  serverLabel: string
  headers: Record<string, string>
  /** Certificates to trust for https, beside Node's bundled ones. */
  ca: string[] | undefined
  service: string | undefined
  pids: number[]
  match: RegExp | undefined
  cgroup: string | undefined
  windowMs: number
  interval: number
  tags: [string, string][]
  bufferWindows: number
  threadLabels: boolean
  perfEvents: boolean
  scanMs: number
  reportMs: number
  metricsFile: string | undefined
  flushTimeoutMs: number
  requestTimeoutMs: number
  host: string
  pythonVersion: string | undefined
  log: (line: string) => void
}

/** Labels the agent sets itself; a `--tag` may not replace them. */
export const AGENT_LABELS = ['service_name', 'host', 'pid', 'python_version', 'thread_name'] as const

function positiveSeconds(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= min) {
    throw invalidArgument(`${name} must be a number of seconds above ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Checks the server URL: http(s) only; credentials in it become basic auth. */
export function parseServerUrl(server: unknown): { base: URL; label: string } {
  if (typeof server !== 'string' || server.trim() === '') {
    throw invalidArgument('--server is required: the Pyroscope URL, e.g. --server http://pyroscope:4040')
  }
  let url: URL
  try {
    url = new URL(server.trim())
  } catch {
    throw invalidArgument(`--server ${JSON.stringify(server)} is not a URL: give the Pyroscope address with its scheme, e.g. http://pyroscope:4040`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidArgument(`--server ${JSON.stringify(server)} must be an http:// or https:// URL (Pyroscope's HTTP API), not ${url.protocol}`)
  }
  if (url.search || url.hash) {
    throw invalidArgument(`--server ${JSON.stringify(server)} must not carry a query or fragment: give the server's base URL`)
  }
  const label = new URL(url.href)
  label.username = ''
  label.password = ''
  return { base: url, label: label.href.replace(/\/$/, '') }
}

export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  if (options === null || typeof options !== 'object') throw invalidArgument('startAgent() takes an options object: { server, service, pids | match | cgroup }')
  const { base, label } = parseServerUrl(options.server)

  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'User-Agent': 'pyflame-ts-agent' }
  let basicAuth = options.basicAuth
  if (base.username || base.password) {
    if (basicAuth !== undefined) throw invalidArgument('give basic auth either in the --server URL or with --basic-auth, not both')
    basicAuth = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
    base.username = ''
    base.password = ''
  }
  if (basicAuth !== undefined && options.bearerToken !== undefined) {
    throw invalidArgument('give either --basic-auth or --bearer-token, not both (Pyroscope behind a proxy takes one Authorization header)')
  }
  if (basicAuth !== undefined) {
    if (!basicAuth.includes(':')) throw invalidArgument('--basic-auth takes user:password')
    headers.Authorization = `Basic ${Buffer.from(basicAuth, 'utf8').toString('base64')}`
  }
  if (options.bearerToken !== undefined) {
    if (options.bearerToken === '' || /[\r\n]/.test(options.bearerToken)) throw invalidArgument('--bearer-token must be a non-empty single-line token')
    headers.Authorization = `Bearer ${options.bearerToken}`
  }
  if (options.tenantId !== undefined) {
    if (options.tenantId === '' || /[\r\n]/.test(options.tenantId)) throw invalidArgument('--tenant-id must be a non-empty single-line tenant id')
    headers['X-Scope-OrgID'] = options.tenantId
  }
  let ca: string[] | undefined
  if (options.caFile !== undefined) {
    let pem: string
    try {
      pem = fs.readFileSync(options.caFile, 'utf8')
    } catch (error) {
      throw invalidArgument(`cannot read --ca-file ${JSON.stringify(options.caFile)}: ${(error as Error).message}`)
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw invalidArgument(`--ca-file ${JSON.stringify(options.caFile)} holds no PEM certificate`)
    ca = [...tls.rootCertificates, pem]
  }
  const ingestUrl = new URL(base.href)
  ingestUrl.pathname = `${ingestUrl.pathname.replace(/\/+$/, '')}/ingest`

  const pids = (options.pids ?? []).map((pid) => parsePid(pid))
  const selectors = [pids.length > 0, options.match !== undefined, options.cgroup !== undefined].filter(Boolean).length
  if (selectors !== 1) {
    throw invalidArgument('say which processes to profile with exactly one of -p PID (repeatable), --match REGEX or --cgroup PATH')
  }
  let match: RegExp | undefined
  if (options.match !== undefined) {
    try {
      match = options.match instanceof RegExp ? options.match : new RegExp(options.match)
    } catch (error) {
      throw invalidArgument(`--match ${JSON.stringify(options.match)} is not a regular expression: ${(error as Error).message}`)
    }
  }
  if (options.cgroup !== undefined && (typeof options.cgroup !== 'string' || options.cgroup.trim() === '')) {
    throw invalidArgument('--cgroup takes a cgroup path (e.g. /system.slice/app.service) or a unit name (e.g. app.service)')
  }
  if (options.service !== undefined) validateServiceName(options.service)

  if (options.rate !== undefined && options.hz !== undefined) {
    throw invalidArgument('give either -r (seconds between samples) or --hz (samples per second), not both')
  }
  const interval = options.hz !== undefined ? parseHertz(options.hz) : parseInterval(options.rate ?? DEFAULT_INTERVAL, Infinity)
  const windowSeconds = positiveSeconds('--window', options.windowSeconds, 10)
  if (windowSeconds < interval) throw invalidArgument(`--window ${windowSeconds} is shorter than the interval between samples (${interval} s)`)

  const tags: [string, string][] = []
  for (const [key, value] of Object.entries(options.tags ?? {})) {
    validateLabelName(key)
    if ((AGENT_LABELS as readonly string[]).includes(key)) throw invalidArgument(`--tag ${key}=… would replace the label the agent sets itself (${AGENT_LABELS.join(', ')})`)
    tags.push([key, labelValue(String(value))])
  }

  const bufferWindows = options.bufferWindows ?? 1024
  if (!Number.isSafeInteger(bufferWindows) || bufferWindows < 1) throw invalidArgument(`--buffer must be a whole number of windows, at least 1, got ${JSON.stringify(options.bufferWindows)}`)

  return {
    ingestUrl,
    serverLabel: label,
    headers,
    ca,
    service: options.service,
    pids,
    match,
    cgroup: options.cgroup?.trim(),
    windowMs: windowSeconds * 1000,
    interval,
    tags,
    bufferWindows,
    threadLabels: options.threadLabels ?? false,
    perfEvents: options.perfEvents ?? true,
    scanMs: positiveSeconds('--scan-interval', options.scanSeconds, 2) * 1000,
    reportMs: options.reportSeconds === 0 ? 0 : positiveSeconds('--report-interval', options.reportSeconds, 60) * 1000,
    metricsFile: options.metricsFile,
    flushTimeoutMs: (options.flushTimeoutSeconds === 0 ? 0 : positiveSeconds('--flush-timeout', options.flushTimeoutSeconds, 10)) * 1000,
    requestTimeoutMs: positiveSeconds('--request-timeout', options.requestTimeoutSeconds, 15) * 1000,
    host: labelValue(options.host ?? os.hostname()),
    pythonVersion: options.pythonVersion,
    log: options.log ?? ((line) => process.stderr.write(line + '\n')),
  }
}
