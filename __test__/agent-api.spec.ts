// The agent's Node API (`startAgent`) against a local HTTP server that records what it is
// sent: the request Pyroscope gets (path, query, headers, a gzipped pprof of what the
// processes ran), windows sent late after a refusal carry the time they were recorded, and
// the label and discovery rules the CLI relies on.

import test from 'ava'
import * as fs from 'node:fs'
import { execFileSync, spawn } from 'node:child_process'
import * as http from 'node:http'
import * as https from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Profile as PprofProfile } from 'pprof-format'
import { startAgent } from '../src'
import { cgroupMatches, containerIdOf, ProcessFinder } from '../src/agent/discovery'
import { ingestName, labelValue, serviceFromCgroup, serviceFromCommandLine } from '../src/agent/labels'
import { ROOT } from './helpers/cli'
import { spawnPython, type SpawnedPython } from './helpers/pythons'

const PYTHON = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3')

/** Polls until `probe` holds (the machine may be loaded: phases wait for states, not for times). */
async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

interface Received {
  at: number
  url: URL
  headers: http.IncomingHttpHeaders
  body: Buffer
}

test('labels: service names from command lines and cgroups, values the ingest name can carry', (t) => {
  t.is(serviceFromCommandLine(['/usr/bin/python3.12', '-u', '/srv/shop/app.py', '--port', '80']), 'app')
  t.is(serviceFromCommandLine(['python3', '-X', 'dev', '-m', 'celery', 'worker']), 'celery')
  t.is(serviceFromCommandLine(['/srv/venv/bin/gunicorn', '-w', '4', 'shop.wsgi']), 'gunicorn')
  t.is(serviceFromCommandLine(['gunicorn: worker [shop.wsgi]']), 'gunicorn')
  t.is(serviceFromCommandLine(['python', '/srv/tool/__main__.py']), 'tool')
  t.is(serviceFromCgroup('/system.slice/shop.service'), 'shop')
  t.is(serviceFromCgroup('docker-0123.scope'), 'docker-0123')
  t.is(labelValue('a,b}c=d e\u001bf'), 'a_b_c_d_e_f')
  t.is(ingestName('shop', [['pid', '1'], ['env', 'prod']]), 'shop{pid=1,env=prod}')
  t.true(cgroupMatches('/system.slice/shop.service', '/system.slice/shop.service'))
  t.true(cgroupMatches('/system.slice/shop.service', '/system.slice/shop.service/worker'))
  t.false(cgroupMatches('/system.slice/shop.service', '/system.slice/shop.service2'))
  t.true(cgroupMatches('shop.service', '/system.slice/shop.service'))
  t.false(cgroupMatches('shop.service', '/system.slice/shop.services'))
  const id = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8)
  t.is(containerIdOf([`/system.slice/docker-${id}.scope`]), id.slice(0, 12))
  t.is(containerIdOf([`/kubepods/burstable/pod1/${id}`]), id.slice(0, 12))
  t.is(containerIdOf(['/user.slice']), undefined)
})

test('startAgent: invalid options throw at once with a stable code', (t) => {
  t.throws(() => startAgent({ server: 'gopher://x', pids: [1] }), { code: 'ERR_INVALID_ARGUMENT' } as never)
  t.throws(() => startAgent({ server: 'http://127.0.0.1:1', pids: [1], tags: { pid: '2' } }), { code: 'ERR_INVALID_ARGUMENT', message: /would replace/ } as never)
  t.throws(() => startAgent({ server: 'http://127.0.0.1:1', pids: [1], tags: { 'bad key': 'x' } }), { code: 'ERR_INVALID_ARGUMENT' } as never)
  t.throws(() => startAgent({ server: 'http://127.0.0.1:1', pids: [1], basicAuth: 'a:b', bearerToken: 't' }), { code: 'ERR_INVALID_ARGUMENT' } as never)
  t.throws(() => startAgent({ server: 'http://127.0.0.1:1', pids: [4_000_000] }), { code: 'ERR_NO_PROCESS' } as never)
})

if (fs.existsSync(PYTHON)) {
  test('ProcessFinder: a PID tree is followed without re-reading known processes; one reaped, or exited and forgotten, leaves it', async (t) => {
    // The parent forks two sleepers and reaps only the second: the first stays a zombie when killed.
    const code = [
      'import os, time',
      'a = os.fork()',
      'if a == 0:\n    time.sleep(120)\n    os._exit(0)',
      'b = os.fork()',
      'if b == 0:\n    time.sleep(120)\n    os._exit(0)',
      'print(a, b, flush=True)',
      'os.waitpid(b, 0)',
      'time.sleep(120)',
    ].join('\n')
    const parent = spawn(PYTHON, ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    const [a, b] = await new Promise<number[]>((resolve) => parent.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(line.trim().split(' ').map(Number))))
    t.teardown(() => {
      for (const pid of [a, b, parent.pid!]) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
      }
    })
    const finder = new ProcessFinder({ pids: [parent.pid!], match: undefined, cgroup: undefined })
    const first = finder.find()
    t.deepEqual([...first.keys()].sort(), [parent.pid!, a, b].sort())
    t.is(first.get(a)!.service, serviceFromCommandLine([PYTHON, '-c', code]))
    // Known processes keep what was read of them (the same objects, not read again).
    t.is(finder.find().get(a), first.get(a))
    process.kill(b, 'SIGKILL')
    await until('the reaped child to leave the tree', () => !finder.find().has(b))
    process.kill(a, 'SIGKILL')
    await until('the killed child to be a zombie', () => / Z /.test(fs.readFileSync(`/proc/${a}/stat`, 'utf8').replace(/^.*\)/, ')')))
    // The agent forgets a process it saw exit: read afresh, a zombie has no command line.
    finder.forget(a)
    t.deepEqual([...finder.find().keys()], [parent.pid!])
  })
}

if (fs.existsSync(PYTHON)) {
  test('startAgent: windows are gzipped pprof posted to /ingest with labels and auth, and late windows keep the time they were recorded', async (t) => {
    const started: SpawnedPython[] = []
    t.teardown(async () => {
      for (const p of started) await p.kill()
    })
    for (let i = 0; i < 2; i++) started.push(await spawnPython(PYTHON, path.join(ROOT, '__test__', 'programs', 'agent_spinner.py'), [`api-${process.pid}`]))

    // The server refuses everything for its first 3 s (503, and 422 as Pyroscope answers while its
    // ingester ring settles after a restart), then takes it.
    const received: Received[] = []
    let refusing = true
    let refused = 0
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (refusing) {
          refused += 1
          res.writeHead(refused % 2 ? 503 : 422).end('not ready')
          return
        }
        received.push({ at: Date.now(), url: new URL(req.url!, 'http://x'), headers: req.headers, body: Buffer.concat(chunks) })
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => server.close())
    const port = (server.address() as { port: number }).port

    const logged: string[] = []
    const agent = startAgent({
      server: `http://user:p%40ss@127.0.0.1:${port}/prefix/`,
      match: `agent_spinner\\.py api-${process.pid}`,
      windowSeconds: 0.5,
      scanSeconds: 0.2,
      hz: 200,
      tags: { env: 'test' },
      tenantId: 'team-a',
      reportSeconds: 0,
      log: (line) => logged.push(line),
    })
    const startedAt = Date.now()
    await until('8 windows of both processes while the server refuses', () => agent.stats().windows >= 8 && agent.stats().processes === 2)
    refusing = false
    const reopenedAt = Date.now()
    await until('the waiting windows to be sent', () => agent.stats().queued === 0 && agent.stats().sent >= 8)
    const final = await agent.stop()

    t.true(refused >= 2)
    t.is(final.rejected, 0)
    t.is(final.dropped, 0)
    t.is(final.queued, 0)
    t.is(final.sent, final.windows)
    t.is(final.sent, received.length)
    t.deepEqual(final.targets.map((p) => p.pid).sort(), started.map((p) => p.pid).sort())
    t.true(logged.some((l) => /answered 503 .*\(ERR_SERVER_UNREACHABLE\)/.test(l)), logged.join('\n'))

    const pids = new Set<string>()
    for (const r of received) {
      t.is(r.url.pathname, '/prefix/ingest')
      t.is(r.url.searchParams.get('format'), 'pprof')
      t.is(r.url.searchParams.get('spyName'), 'pyflame-ts')
      t.is(r.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`)
      t.is(r.headers['x-scope-orgid'], 'team-a')
      const name = r.url.searchParams.get('name')!
      const match = /^agent_spinner\{host=[^,]+,pid=(\d+),python_version=3\.12\.1,env=test\}$/.exec(name)
      t.truthy(match, name)
      pids.add(match![1])
      const from = Number(r.url.searchParams.get('from'))
      const until = Number(r.url.searchParams.get('until'))
      t.true(until > from, `${from}..${until}`)
      t.true(from >= startedAt - 1000 && until <= r.at + 50, 'recorded before it was sent')
      const pprof = PprofProfile.decode(gunzipSync(r.body))
      const names = new Set(pprof.function.map((f) => pprof.stringTable.strings[Number(f.name)]))
      t.true(names.has('spin_forever'), [...names].join(', '))
      t.deepEqual(
        pprof.sampleType.map((v) => `${pprof.stringTable.strings[Number(v.type)]}/${pprof.stringTable.strings[Number(v.unit)]}`),
        ['samples/count', 'cpu/nanoseconds'],
      )
      t.true(pprof.sample.every((s) => s.label.length === 0), 'no per-sample labels without threadLabels')
    }
    t.deepEqual([...pids].sort(), started.map((p) => String(p.pid)).sort())
    // Windows recorded while the server refused arrived after it reopened, stamped with their own time.
    const late = received.filter((r) => Number(r.url.searchParams.get('until')) <= reopenedAt)
    t.true(late.length >= 8, `${late.length} windows recorded during the refusal`)
    t.true(late.every((r) => r.at >= reopenedAt))
  })
}

if (fs.existsSync(PYTHON)) {
  test('startAgent: threadLabels labels each sample with its thread name', async (t) => {
    const spinner = await spawnPython(PYTHON, path.join(ROOT, '__test__', 'programs', 'agent_spinner.py'), [`threads-${process.pid}`])
    t.teardown(() => spinner.kill())
    const bodies: Buffer[] = []
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks))
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => server.close())
    const agent = startAgent({
      server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      service: 'threads',
      pids: [spinner.pid],
      windowSeconds: 0.5,
      threadLabels: true,
      reportSeconds: 0,
      log: () => {},
    })
    await until('two windows sent', () => agent.stats().sent >= 2)
    const final = await agent.stop()
    t.true(final.sent >= 2)
    const comm = fs.readFileSync(`/proc/${spinner.pid}/comm`, 'utf8').trim()
    for (const body of bodies) {
      const pprof = PprofProfile.decode(gunzipSync(body))
      const labels = pprof.sample.flatMap((s) => s.label.map((l) => `${pprof.stringTable.strings[Number(l.key)]}=${pprof.stringTable.strings[Number(l.str)]}`))
      t.true(labels.length > 0)
      t.deepEqual([...new Set(labels)], [`thread_name=${comm}`])
    }
  })
}

if (fs.existsSync(PYTHON)) {
  test('startAgent: a full buffer keeps the newest windows: the oldest are dropped and counted', async (t) => {
    const spinner = await spawnPython(PYTHON, path.join(ROOT, '__test__', 'programs', 'agent_spinner.py'), [`buffer-${process.pid}`])
    t.teardown(() => spinner.kill())
    let refusing = true
    let firstRefusedFrom = Infinity
    const received: { at: number; fromMs: number; untilMs: number }[] = []
    const server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x')
        if (refusing) {
          firstRefusedFrom = Math.min(firstRefusedFrom, Number(url.searchParams.get('from')))
          return void res.writeHead(503).end()
        }
        received.push({ at: Date.now(), fromMs: Number(url.searchParams.get('from')), untilMs: Number(url.searchParams.get('until')) })
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => server.close())
    const agent = startAgent({
      server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      service: 'buffer',
      pids: [spinner.pid],
      windowSeconds: 0.25,
      bufferWindows: 2,
      reportSeconds: 0,
      log: () => {},
    })
    await until('10 windows while the server refuses', () => agent.stats().windows >= 10)
    const refusedUntil = Date.now()
    refusing = false
    await until('a window sent', () => agent.stats().sent >= 1)
    const final = await agent.stop()
    t.true(final.dropped >= 10 - 3, JSON.stringify(final))
    t.is(final.sent + final.dropped + final.queued, final.windows)
    t.is(final.sent, received.length)
    // What was recorded during the refusal and still arrived: at most the buffer (and the one
    // being pushed), and the newest ones, not the first.
    const fromRefusal = received.filter((r) => r.untilMs <= refusedUntil)
    t.true(fromRefusal.length <= 3, JSON.stringify(fromRefusal))
    t.true(received.length >= 1)
    // The first window (the one the refused pushes started with) is not among those that arrived.
    t.true(Number.isFinite(firstRefusedFrom))
    t.true(received.every((r) => r.fromMs > firstRefusedFrom), `first refused window from ${firstRefusedFrom}; received from ${received.map((r) => r.fromMs).join(', ')}`)
  })
}

const haveOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (fs.existsSync(PYTHON) && haveOpenssl) {
  test('startAgent: https with a private CA (caFile) is trusted; without it the certificate error is reported and retried', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-agent-tls-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
    const spinner = await spawnPython(PYTHON, path.join(ROOT, '__test__', 'programs', 'agent_spinner.py'), [`tls-${process.pid}`])
    t.teardown(() => spinner.kill())
    let accepted = 0
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      req.resume()
      req.on('end', () => {
        accepted += 1
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => server.close())
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`

    const untrusted: string[] = []
    const refused = startAgent({ server: url, service: 'tls', pids: [spinner.pid], windowSeconds: 0.3, reportSeconds: 0, flushTimeoutSeconds: 0.2, log: (l) => untrusted.push(l) })
    await until('a push to fail', () => untrusted.length > 0)
    const refusedStats = await refused.stop()
    t.is(refusedStats.sent, 0)
    t.is(accepted, 0)
    t.true(untrusted.some((l) => /cannot reach https:\/\/127\.0\.0\.1:\d+: self-signed certificate.*\(ERR_SERVER_UNREACHABLE\)/.test(l)), untrusted.join('\n'))

    const trusted = startAgent({ server: url, service: 'tls', pids: [spinner.pid], windowSeconds: 0.3, caFile: cert, reportSeconds: 0, log: () => {} })
    await until('two windows sent', () => trusted.stats().sent >= 2)
    const stats = await trusted.stop()
    t.true(stats.sent >= 2)
    t.is(stats.sent, accepted)
  })
}

if (fs.existsSync(PYTHON)) {
  /** The agent's (this process's) open perf events: one per logged thread of a target. */
  const perfEventFds = (): number =>
    fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[perf_event]'
      } catch {
        return false
      }
    }).length

  for (const perfEvents of [true, false]) {
    test.serial(`startAgent: perfEvents ${perfEvents} ${perfEvents ? 'logs a quiet worker’s switches, or says why it cannot' : 'opens no perf event and says nothing about them'}`, async (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-perf-'))
      t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
      // Sleeps 30 ms, works 10 ms: a worker that switches a few dozen times a second.
      const worker = await spawnPython(PYTHON, path.join(ROOT, '__test__', 'programs', 'agent_duty_cycle.py'), [path.join(dir, 'truth')])
      t.teardown(() => worker.kill())
      const server = http.createServer((req, res) => {
        req.resume()
        req.on('end', () => res.writeHead(200).end())
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      t.teardown(() => server.close())
      const logged: string[] = []
      const before = perfEventFds()
      const agent = startAgent({
        server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        service: 'perf',
        pids: [worker.pid],
        windowSeconds: 0.5,
        reportSeconds: 0,
        perfEvents,
        log: (line) => logged.push(line),
      })
      await until('two windows sent', () => agent.stats().sent >= 2)
      const opened = perfEventFds() - before
      await agent.stop()
      const notice = logged.filter((l) => /quiet threads are checked through \/proc\/PID\/task\/TID\/schedstat/.test(l))
      if (!perfEvents) {
        t.is(opened, 0, 'no perf event with perfEvents false')
        t.deepEqual(notice, [])
      } else if (opened > 0) {
        t.deepEqual(notice, [], logged.join('\n'))
      } else {
        // Refused here (no CAP_PERFMON, seccomp): the user is told once, with what to do.
        t.is(notice.length, 1, logged.join('\n'))
        t.regex(notice[0], /CAP_PERFMON/)
        t.log(notice[0])
      }
      t.log(`${opened} perf events opened`)
    })
  }
}
