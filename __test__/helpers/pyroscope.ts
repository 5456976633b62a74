// A real Grafana Pyroscope server for the agent's tests: built (or reused) by
// scripts/pyroscope/build.sh, run by scripts/pyroscope/serve.sh on 127.0.0.1 with free ports
// and a temporary data folder, stopped and restarted on the same folder and ports.

import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT } from './cli'

export const PYROSCOPE_VERSION = 'v1.21.1'

/** The cached server binary, or undefined when build.sh has not been run on this machine. */
export function pyroscopeBinary(): string | undefined {
  const bin = path.join(process.env.PYFLAME_TS_CACHE ?? '/var/cache/pyflame-ts', 'pyroscope', PYROSCOPE_VERSION, 'pyroscope')
  return fs.existsSync(bin) ? bin : undefined
}

/** A port nothing listens on right now (the kernel's pick on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export class PyroscopeServer {
  private child: ChildProcess | undefined
  private log = ''

  private constructor(
    readonly binary: string,
    readonly dataDir: string,
    readonly ports: { http: number; grpc: number; memberlist: number },
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.ports.http}`
  }

  static async create(binary: string): Promise<PyroscopeServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-pyroscope-'))
    const ports = { http: await freePort(), grpc: await freePort(), memberlist: await freePort() }
    return new PyroscopeServer(binary, dataDir, ports)
  }

  /** Starts the server and waits for `/ready` (about 17 s; gives up after `timeoutMs`). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child) throw new Error('the server is already running')
    const child = spawn(path.join(ROOT, 'scripts', 'pyroscope', 'serve.sh'), [this.dataDir, String(this.ports.http), String(this.ports.grpc), String(this.ports.memberlist)], {
      env: { ...process.env, PYROSCOPE_BIN: this.binary },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    live.add(child)
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString('utf8')).slice(-20_000)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    let exited = false
    child.once('exit', () => {
      exited = true
      live.delete(child)
    })
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (exited) throw new Error(`Pyroscope exited while starting; its log ends:\n${this.log.slice(-3000)}`)
      if ((await this.get('/ready').catch(() => undefined))?.status === 200) return
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    await this.stop()
    throw new Error(`Pyroscope was not ready within ${timeoutMs / 1000} s; its log ends:\n${this.log.slice(-3000)}`)
  }

  /** SIGTERM (SIGKILL after 20 s), and waits for the process to be gone. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await gone
    clearTimeout(timer)
  }

  /** Stops the server (if running) and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }

  async get(pathAndQuery: string): Promise<{ status: number; body: string }> {
    const response = await fetch(this.url + pathAndQuery, { signal: AbortSignal.timeout(10_000) })
    return { status: response.status, body: await response.text() }
  }

  /**
   * The CPU flame graph of the series matching `selector` (e.g. `service_name="x",pid="1"`)
   * between two unix-ms times, as function name → total nanoseconds.
   */
  async functionTotals(selector: string, fromMs: number, untilMs: number): Promise<Map<string, number>> {
    const query = `process_cpu:cpu:nanoseconds:cpu:nanoseconds{${selector}}`
    const params = new URLSearchParams({ query, from: String(Math.floor(fromMs)), until: String(Math.ceil(untilMs)), format: 'json' })
    const { status, body } = await this.get(`/pyroscope/render?${params}`)
    if (status !== 200) throw new Error(`render answered ${status}: ${body.slice(0, 500)}`)
    const json = JSON.parse(body) as { flamebearer: { names: string[]; levels: number[][] } }
    const totals = new Map<string, number>()
    // Each level is a run of [x offset, total, self, name index] quadruples.
    for (const level of json.flamebearer.levels) {
      for (let i = 0; i + 3 < level.length; i += 4) {
        const name = json.flamebearer.names[level[i + 3]]
        totals.set(name, (totals.get(name) ?? 0) + level[i + 1])
      }
    }
    return totals
  }

  /** Label values the server knows for `name` (e.g. every `pid` of a service). */
  async labelValues(name: string, selector: string, fromMs: number, untilMs: number): Promise<string[]> {
    const response = await fetch(`${this.url}/querier.v1.QuerierService/LabelValues`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, matchers: [`{${selector}}`], start: String(Math.floor(fromMs)), end: String(Math.ceil(untilMs)) }),
      signal: AbortSignal.timeout(10_000),
    })
    const body = await response.text()
    if (response.status !== 200) throw new Error(`LabelValues answered ${response.status}: ${body.slice(0, 500)}`)
    return (JSON.parse(body) as { names?: string[] }).names ?? []
  }

  logTail(chars = 3000): string {
    return this.log.slice(-chars)
  }
}
