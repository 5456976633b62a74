// `pyflame-ts agent` against a real Grafana Pyroscope server on 127.0.0.1: a gunicorn app
// whose workers are recycled under load is profiled continuously, every worker's hot
// function is read back from the server under its labels, the server is stopped and
// restarted mid-run and the windows recorded meanwhile arrive afterwards. Also: a full
// buffer drops (and counts) the oldest windows, cgroup selection, and one-line errors for a
// bad URL and for a server's 4xx.

import test, { type ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { PYFLAME_TS, pyflameTs, ROOT } from './helpers/cli'
import { freePort, pyroscopeBinary, PyroscopeServer } from './helpers/pyroscope'
import { spawnPython, type SpawnedPython } from './helpers/pythons'

const PROGRAMS = path.join(ROOT, '__test__', 'programs')
const CACHE = process.env.PYFLAME_TS_CACHE ?? '/var/cache/pyflame-ts'
const PYTHON = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3')
/** The venv scripts/ci/gunicorn.sh makes (CI runs it before the tests). */
const GUNICORN_VENV = path.join(CACHE, 'venvs', 'gunicorn-23.0.0-py3.12.1')
const haveGunicorn = fs.existsSync(path.join(GUNICORN_VENV, '.installed'))
const haveServer = pyroscopeBinary() !== undefined
const havePython = fs.existsSync(PYTHON)

interface RunningAgent {
  child: ChildProcess
  stderr(): string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM, then the exit (SIGKILL after 60 s as a safety net). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function startAgentCli(t: ExecutionContext, args: string[]): RunningAgent {
  const child = spawn(process.execPath, [PYFLAME_TS, 'agent', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stdout!.resume()
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const safety = setTimeout(() => child.kill('SIGKILL'), 200_000)
  void exit.then(() => clearTimeout(safety))
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  return {
    child,
    stderr: () => stderr,
    exit,
    stop: () => {
      child.kill('SIGTERM')
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000)
      return exit.finally(() => clearTimeout(kill))
    },
  }
}

interface Metrics {
  event: string
  sent: number
  queued: number
  dropped: number
  retried: number
  rejected: number
  windows: number
  emptyWindows: number
  processes: number
  processesSeen: number
  cpuPercent: number
  targets: { pid: number; service: string; pythonVersion: string }[]
}

function lastMetrics(file: string): Metrics | undefined {
  if (!fs.existsSync(file)) return undefined
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean)
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as Metrics) : undefined
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function tempFile(t: ExecutionContext, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-agent-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, name)
}

async function spinners(t: ExecutionContext, count: number, token: string): Promise<SpawnedPython[]> {
  const started: SpawnedPython[] = []
  t.teardown(async () => {
    for (const p of started) await p.kill()
  })
  for (let i = 0; i < count; i++) started.push(await spawnPython(PYTHON, path.join(PROGRAMS, 'agent_spinner.py'), [token]))
  return started
}

let shared: Promise<PyroscopeServer> | undefined
/** One server for the file's tests, started on first use. */
function server(): Promise<PyroscopeServer> {
  shared ??= (async () => {
    const s = await PyroscopeServer.create(pyroscopeBinary()!)
    await s.start()
    return s
  })()
  return shared
}
test.after.always(async () => {
  if (shared) await (await shared.catch(() => undefined))?.destroy()
})

test.serial('agent: a --server that is not an http(s) URL is a one-line ERR_INVALID_ARGUMENT', async (t) => {
  for (const bad of ['not a url', 'ftp://127.0.0.1:4040', 'http://127.0.0.1:4040/?x=1']) {
    const result = await pyflameTs(['agent', '--server', bad, '--service', 'x', '-p', String(process.pid)], { killAfterMs: 30_000 })
    t.is(result.code, 1, bad)
    const lines = result.stderr.trim().split('\n')
    t.is(lines.length, 1, result.stderr)
    t.regex(lines[0], /^pyflame-ts: --server .* \(ERR_INVALID_ARGUMENT\)$/)
  }
  const none = await pyflameTs(['agent', '--service', 'x', '-p', String(process.pid)], { killAfterMs: 30_000 })
  t.is(none.code, 1)
  t.regex(none.stderr, /--server is required.*\(ERR_INVALID_ARGUMENT\)/)
  const both = await pyflameTs(['agent', '--server', 'http://127.0.0.1:1', '-p', String(process.pid), '--match', 'x'], { killAfterMs: 30_000 })
  t.is(both.code, 1)
  t.regex(both.stderr, /exactly one of -p PID.*\(ERR_INVALID_ARGUMENT\)/)
})

test.serial('agent: a PID given with -p that is not Python is a one-line ERR_NOT_PYTHON after a few attempts', async (t) => {
  const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' })
  t.teardown(() => {
    sleeper.kill('SIGKILL')
  })
  const result = await pyflameTs(['agent', '--server', 'http://127.0.0.1:1', '--service', 'x', '-p', String(sleeper.pid), '--scan-interval', '0.2'], { killAfterMs: 60_000 })
  t.is(result.code, 1, result.stderr)
  const last = result.stderr.trim().split('\n').pop()!
  t.regex(last, /^pyflame-ts: .*\(ERR_NOT_PYTHON\)$/)
})

if (havePython) {
  test.serial('agent: a server refusing with 403 stops the agent with ERR_SERVER_REJECTED and its message escaped', async (t) => {
    const [spinner] = await spinners(t, 1, 'reject-403')
    const requests: string[] = []
    const fake = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${req.headers['x-scope-orgid'] ?? ''}`)
      req.resume()
      req.on('end', () => {
        res.writeHead(403, { 'Content-Type': 'text/plain' })
        res.end('tenant \x1b[31mdenied\x1b[0m\nby policy')
      })
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    t.teardown(() => fake.close())
    const port = (fake.address() as { port: number }).port
    const agent = startAgentCli(t, ['--server', `http://127.0.0.1:${port}`, '--service', 'rejected', '-p', String(spinner.pid), '--window', '0.5', '--bearer-token', 's3cret', '--tenant-id', 'team-a'])
    const { code } = await agent.exit
    t.is(code, 1)
    const last = agent.stderr().trim().split('\n').pop()!
    t.regex(last, /^pyflame-ts: http:\/\/127\.0\.0\.1:\d+ answered 403 to \/ingest: .* check --basic-auth, --bearer-token or --tenant-id \(ERR_SERVER_REJECTED\)$/)
    t.true(last.includes('\\u001b[31mdenied'), last)
    t.false(agent.stderr().includes('\x1b'), 'no raw control character reaches the terminal')
    t.true(requests.length >= 1)
    t.regex(requests[0], /^POST \/ingest\?name=rejected%7B.*pid%3D\d+.* Bearer s3cret team-a$/)
  })

  test.serial('agent: while the server is unreachable, windows beyond --buffer are dropped oldest first and counted', async (t) => {
    const token = `drop-${process.pid}-${Date.now()}`
    const procs = await spinners(t, 2, token)
    const metrics = tempFile(t, 'metrics.jsonl')
    const agent = startAgentCli(t, [
      '--server', `http://127.0.0.1:${await freePort()}`, '--match', token, '--service', 'nowhere',
      '--window', '0.5', '--scan-interval', '0.2', '--buffer', '3', '--flush-timeout', '0.5', '--report-interval', '1', '--metrics-file', metrics,
    ])
    await waitFor('both processes and a few windows', 30_000, () => {
      const m = lastMetrics(metrics)
      return m && m.processes === 2 && m.windows >= 12 ? m : undefined
    })
    const { code } = await agent.stop()
    t.is(code, 0, agent.stderr())
    const final = lastMetrics(metrics)!
    t.is(final.event, 'final')
    t.deepEqual(final.targets.map((p) => p.pid).sort(), procs.map((p) => p.pid).sort())
    t.is(final.sent, 0)
    t.true(final.queued <= 3, JSON.stringify(final))
    t.true(final.dropped >= final.windows - 3 - 1, JSON.stringify(final))
    t.is(final.sent + final.dropped + final.queued, final.windows, 'every window is sent, waiting or counted as dropped')
    t.true(final.retried > 0)
    t.regex(agent.stderr(), /cannot reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .*\(ERR_SERVER_UNREACHABLE\)/)
    t.is(agent.stderr().match(/ERR_SERVER_UNREACHABLE/g)!.length, 1, 'the outage is reported once, not per retry')
  })

  const cgroupRoot = '/sys/fs/cgroup/pids'
  const canMakeCgroup = (() => {
    try {
      const probe = fs.mkdtempSync(path.join(cgroupRoot, 'pyflame-probe-'))
      fs.rmdirSync(probe)
      return true
    } catch {
      return false
    }
  })()
  const cgroupTest = canMakeCgroup ? test.serial : test.skip
  cgroupTest('agent: --cgroup profiles the processes of a cgroup and names the service after it', async (t) => {
    const name = `pyflame-agent-${process.pid}.service`
    const dir = path.join(cgroupRoot, name)
    fs.mkdirSync(dir)
    const [inside, outside] = await spinners(t, 2, `cgroup-${process.pid}`)
    t.teardown(async () => {
      await inside.kill()
      await outside.kill()
      await waitFor('an empty cgroup', 10_000, () => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '' || undefined).catch(() => {})
      fs.rmdirSync(dir)
    })
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(inside.pid))
    const metrics = tempFile(t, 'metrics.jsonl')
    const agent = startAgentCli(t, ['--server', `http://127.0.0.1:${await freePort()}`, '--cgroup', name, '--window', '1', '--scan-interval', '0.2', '--report-interval', '0.5', '--flush-timeout', '0.2', '--metrics-file', metrics])
    const seen = await waitFor('the process in the cgroup', 30_000, () => {
      const m = lastMetrics(metrics)
      return m && m.processes >= 1 && m.windows >= 1 ? m : undefined
    })
    t.deepEqual(
      seen.targets.map((p) => [p.pid, p.service, p.pythonVersion]),
      [[inside.pid, `pyflame-agent-${process.pid}`, '3.12.1']],
    )
    t.is((await agent.stop()).code, 0)
  })
}

if (haveServer && havePython) {
  test.serial('agent: a 404 from the real Pyroscope (wrong base URL) is a one-line ERR_SERVER_REJECTED', async (t) => {
    t.timeout(180_000)
    const s = await server()
    const [spinner] = await spinners(t, 1, 'reject-404')
    const agent = startAgentCli(t, ['--server', `${s.url}/no/such/prefix`, '--service', 'lost', '-p', String(spinner.pid), '--window', '0.5'])
    const { code } = await agent.exit
    t.is(code, 1)
    const last = agent.stderr().trim().split('\n').pop()!
    t.regex(last, /^pyflame-ts: http:\/\/127\.0\.0\.1:\d+\/no\/such\/prefix answered 404 to \/no\/such\/prefix\/ingest: ".*"; check that --server is the Pyroscope base URL .*\(ERR_SERVER_REJECTED\)$/)
  })
}

if (haveServer && haveGunicorn) {
  test.serial('agent: recycled gunicorn workers are all profiled under their labels; windows recorded while the server was down arrive after its restart', async (t) => {
    t.timeout(300_000)
    const s = await server()
    const startedAt = Date.now()
    const port = await freePort()
    const gunicorn = spawn(
      path.join(GUNICORN_VENV, 'bin', 'python'),
      ['-m', 'gunicorn', '--chdir', PROGRAMS, '-w', '3', '--max-requests', '200', '--graceful-timeout', '2', '-b', `127.0.0.1:${port}`, 'agent_wsgi:app'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let gunicornLog = ''
    gunicorn.stderr!.setEncoding('utf8').on('data', (d: string) => (gunicornLog = (gunicornLog + d).slice(-5000)))
    const served = new Map<number, number>()
    t.teardown(async () => {
      if (gunicorn.exitCode === null && gunicorn.signalCode === null) {
        const gone = new Promise((resolve) => gunicorn.once('exit', resolve))
        gunicorn.kill('SIGTERM')
        const timer = setTimeout(() => gunicorn.kill('SIGKILL'), 10_000)
        await gone
        clearTimeout(timer)
      }
      for (const pid of served.keys()) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    })
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (d: string) => (body += d))
          res.on('end', () => (res.statusCode === 200 ? resolve(Number(body.trim())) : reject(new Error(`status ${res.statusCode}`))))
        })
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', reject)
      })
    await waitFor(`gunicorn on port ${port} (${gunicornLog})`, 60_000, () => get().then(() => true, () => undefined))

    // A bounded loopback load: two clients, at most 20 000 requests, until told to stop.
    let loading = true
    let requests = 0
    const client = async () => {
      while (loading && requests < 20_000) {
        requests += 1
        try {
          const pid = await get()
          served.set(pid, (served.get(pid) ?? 0) + 1)
        } catch {
          await sleep(20) // a worker being recycled
        }
      }
    }
    const clients = [client(), client()]

    const common = ['--server', s.url, '-p', String(gunicorn.pid), '--window', '2', '--scan-interval', '0.5', '--report-interval', '1', '--tag', 'suite=agent']
    const metricsA = tempFile(t, 'a.jsonl')
    const metricsB = tempFile(t, 'b.jsonl')
    const service = `shop-${process.pid}`
    const agentA = startAgentCli(t, [...common, '--service', service, '--metrics-file', metricsA])
    // The same processes with room for 3 windows only: it must lose some, and count them.
    const agentB = startAgentCli(t, [...common, '--service', `${service}-small`, '--buffer', '3', '--metrics-file', metricsB])

    await sleep(12_000)
    await waitFor('windows sent before the outage', 60_000, () => ((lastMetrics(metricsA)?.sent ?? 0) >= 6 ? true : undefined))
    const firstSent = lastMetrics(metricsA)?.sent ?? 0
    t.true(firstSent > 0, `windows were sent before the outage: ${agentA.stderr()}`)
    const downAt = Date.now()
    await s.stop()
    await sleep(6_000)
    await s.start()
    const upAt = Date.now()
    await waitFor('agent A to send what waited', 60_000, () => {
      const m = lastMetrics(metricsA)
      return m && m.queued === 0 && m.sent > firstSent + 10 ? m : undefined
    })
    await sleep(3_000)
    loading = false
    await Promise.all(clients)
    const [exitA, exitB] = await Promise.all([agentA.stop(), agentB.stop()])
    t.is(exitA.code, 0, agentA.stderr())
    t.is(exitB.code, 0, agentB.stderr())

    // None lost within the buffer; beyond it, every window is accounted for.
    const a = lastMetrics(metricsA)!
    t.is(a.event, 'final')
    t.is(a.dropped, 0, agentA.stderr())
    t.is(a.rejected, 0, agentA.stderr())
    t.is(a.queued, 0)
    t.is(a.sent, a.windows, JSON.stringify(a))
    t.true(a.retried > 0, 'the outage made pushes fail and retry')
    t.regex(agentA.stderr(), /ERR_SERVER_UNREACHABLE/)
    t.regex(agentA.stderr(), /takes profiles again/)
    const b = lastMetrics(metricsB)!
    t.true(b.dropped > 0, JSON.stringify(b))
    t.is(b.sent + b.dropped + b.queued, b.windows)

    // Workers were recycled, and each one that served a fair share is on the server under its pid.
    const workers = [...served.entries()].filter(([, n]) => n >= 20).map(([pid]) => pid)
    t.true(served.size > 3, `gunicorn recycled its workers (${served.size} distinct PIDs served)`)
    t.true(a.processesSeen >= served.size, `the agent followed every worker (${a.processesSeen} seen)`)
    const from = startedAt - 60_000
    const until = Date.now() + 60_000
    const pids = await s.labelValues('pid', `service_name="${service}"`, from, until)
    for (const pid of workers) {
      t.true(pids.includes(String(pid)), `pid ${pid} is a label value (${pids.join(', ')})`)
      const totals = await s.functionTotals(`service_name="${service}",pid="${pid}"`, from, until)
      t.true((totals.get('hot_spin') ?? 0) > 0, `worker ${pid}'s hot_spin is on the server (${[...totals.keys()].slice(0, 20).join(', ')})`)
    }
    const labelled = await s.functionTotals(`service_name="${service}",python_version="3.12.1",suite="agent",host="${os.hostname().replace(/[,{}=\s]/g, '_')}"`, from, until)
    t.true((labelled.get('hot_spin') ?? 0) > 0, 'python_version, host and --tag labels select the profiles')

    // Windows recorded while the server was down landed at their own time, not at their arrival.
    t.log(`${served.size} worker PIDs served ${requests} requests; ${workers.length} checked on the server; A: ${a.windows} windows, ${a.sent} sent, ${a.retried} retries; B (--buffer 3): ${b.windows} windows, ${b.sent} sent, ${b.dropped} dropped; outage ${((upAt - downAt) / 1000).toFixed(1)} s`)
    const outage = await s.functionTotals(`service_name="${service}"`, downAt + 2_500, upAt - 2_500)
    t.true((outage.get('hot_spin') ?? 0) > 0, `the outage (${((upAt - downAt) / 1000).toFixed(0)} s) has samples: ${[...outage.keys()].slice(0, 10).join(', ')}`)
  })
}
