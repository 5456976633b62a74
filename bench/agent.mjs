#!/usr/bin/env node
// The agent's own cost on a host: `pyflame-ts agent` profiling a gunicorn app with N workers
// at 100 Hz under a light loopback load, pushing to a real Pyroscope on 127.0.0.1, with one
// server restart in the middle. Reports the agent's CPU (user+system from /proc, start-up
// excluded) in percent of one core, its RSS, and the windows recorded, sent and lost.
// Not part of the test suite (timing goals are measured here, never asserted in tests).
//
//   node bench/agent.mjs [--seconds=600] [--workers=20] [--outage=30] [--hz=100] [--gap=50]
//                        [--baseline=OTHER/dist/cli/pyflame-ts.js] [--baseline-args='--no-perf-events']
//                        [--cpu-prof=DIR]
//
// --baseline runs a second agent (another build) beside the first, on the same workers, load
// and server over the same seconds, so the two CPU figures are a paired comparison.
// --baseline-args adds agent options to the second agent only (this build unless --baseline
// names another): the cost of an option, paired the same way.
// --cpu-prof writes the Node side's CPU profile (node --cpu-prof) of each agent into DIR/this
// (and DIR/baseline).
//
// Needs scripts/pyroscope/build.sh and scripts/ci/gunicorn.sh to have run, and `npm run build`.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const seconds = option('seconds', 600);
const workers = option('workers', 20);
const outage = option('outage', 30);
const hz = option('hz', 100);
const warmup = Math.min(60, seconds / 5);
const textOption = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const baselineCli = textOption('baseline');
const baselineArgs = (textOption('baseline-args') ?? '').split(' ').filter(Boolean);
const cpuProfDir = textOption('cpu-prof');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}
/** The sampler thread's own CPU (the rest of the process is Node: discovery, pprof, HTTP). */
function samplerThreadCpuSeconds(pid) {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    if (fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'pyflame-fleet') {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    }
  }
  return NaN;
}
/** The main (JS) thread's own CPU; the rest of Node is V8's and libuv's helper threads. */
function mainThreadCpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
async function ready(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`${url} not ready`);
}

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

const bin = execFileSync(path.join(root, 'scripts/pyroscope/build.sh'), { encoding: 'utf8' }).trim();
const venvPython = execFileSync(path.join(root, 'scripts/ci/gunicorn.sh'), { encoding: 'utf8' }).trim();
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-agent-bench-'));
const ports = [await freePort(), await freePort(), await freePort()];
let server;
async function startServer() {
  server = spawn(path.join(root, 'scripts/pyroscope/serve.sh'), [data, ...ports.map(String)], { env: { ...process.env, PYROSCOPE_BIN: bin }, stdio: 'ignore' });
  children.push(server);
  await ready(`http://127.0.0.1:${ports[0]}/ready`, 120_000);
}
async function stopServer() {
  const gone = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await gone;
}

await startServer();
const appPort = await freePort();
const gunicorn = spawn(venvPython, ['-m', 'gunicorn', '--chdir', path.join(root, '__test__/programs'), '-w', String(workers), '-b', `127.0.0.1:${appPort}`, 'agent_wsgi:app'], { stdio: 'ignore' });
children.push(gunicorn);
while (!(await get(appPort))) await sleep(200);

// A light load: one client, --gap ms between requests (default 50; each burns 15 ms in a
// worker). --gap=0 sends none: idle workers, the agent's floor.
const gap = option('gap', 50);
let loading = gap > 0;
const load = (async () => {
  while (loading) {
    await get(appPort);
    await sleep(gap);
  }
})();

/** One agent under measurement: `cli` is the pyflame-ts.js to run. */
function startAgent(name, cli, nodeArgs = [], agentArgs = []) {
  const metrics = path.join(data, `metrics-${name}.jsonl`);
  const args = [...nodeArgs, cli, 'agent', '--server', `http://127.0.0.1:${ports[0]}`, '--service', `bench-${name}`, '-p', String(gunicorn.pid), '--hz', String(hz), '--report-interval', '30', '--metrics-file', metrics, ...agentArgs];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  const agent = { name, proc, pid: proc.pid, metrics, log: '', peakRss: 0 };
  proc.stderr.setEncoding('utf8').on('data', (d) => (agent.log += d));
  return agent;
}
// With --baseline, both agents are profiled alike, so the pair stays comparable.
const profiling = (name) => (cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProfDir, name)] : []);
const thisCli = path.join(root, 'dist/cli/pyflame-ts.js');
const agents = [startAgent('this', thisCli, profiling('this'))];
if (baselineCli || baselineArgs.length) agents.push(startAgent('baseline', baselineCli ? path.resolve(baselineCli) : thisCli, profiling('baseline'), baselineArgs));

const rssTimer = setInterval(() => agents.forEach((a) => (a.peakRss = Math.max(a.peakRss, rssBytes(a.pid)))), 1000);
await sleep(warmup * 1000);
for (const a of agents) [a.cpu0, a.sampler0, a.main0] = [cpuSeconds(a.pid), samplerThreadCpuSeconds(a.pid), mainThreadCpuSeconds(a.pid)];
const loadavgStart = os.loadavg().map((l) => Number(l.toFixed(2)));
const t0 = Date.now();
const half = (seconds - warmup - outage) / 2;
await sleep(half * 1000);
const downAt = Date.now();
await stopServer();
await sleep(outage * 1000);
await startServer();
const downSecs = (Date.now() - downAt) / 1000;
await sleep(Math.max(0, seconds * 1000 - (Date.now() - t0) - warmup * 1000));
for (const a of agents) [a.cpu1, a.sampler1, a.main1, a.rssEnd] = [cpuSeconds(a.pid), samplerThreadCpuSeconds(a.pid), mainThreadCpuSeconds(a.pid), rssBytes(a.pid)];
const elapsed = (Date.now() - t0) / 1000;
const loadavg = os.loadavg().map((l) => Number(l.toFixed(2)));
clearInterval(rssTimer);
loading = false;
await load;
for (const a of agents) {
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGTERM');
  await exited;
  const lines = fs.readFileSync(a.metrics, 'utf8').trim().split('\n');
  a.final = JSON.parse(lines[lines.length - 1]);
}
gunicorn.kill('SIGTERM');
await stopServer();
fs.rmSync(data, { recursive: true, force: true });

const percent = (secs) => Number(((100 * secs) / elapsed).toFixed(3));
const figures = (a) => ({
  agentCpuPercentOfOneCore: percent(a.cpu1 - a.cpu0),
  samplerThreadCpuPercentOfOneCore: percent(a.sampler1 - a.sampler0),
  nodeCpuPercentOfOneCore: percent(a.cpu1 - a.cpu0 - (a.sampler1 - a.sampler0)),
  nodeMainThreadCpuPercentOfOneCore: percent(a.main1 - a.main0),
  agentRssMbEnd: Number((a.rssEnd / 1048576).toFixed(1)),
  agentRssMbPeak: Number((a.peakRss / 1048576).toFixed(1)),
  processesProfiled: a.final.processesSeen,
  ticks: a.final.ticks,
  lateTicks: a.final.lateTicks,
  windows: a.final.windows,
  sent: a.final.sent,
  dropped: a.final.dropped,
  rejected: a.final.rejected,
  retried: a.final.retried,
  lostAcrossRestart: a.final.windows - a.final.sent,
});
const result = {
  date: new Date().toISOString(),
  workers,
  hz,
  measuredSeconds: Number(elapsed.toFixed(0)),
  warmupSeconds: warmup,
  serverDownSeconds: Number(downSecs.toFixed(1)),
  ...figures(agents[0]),
  ...(agents[1] ? { baselineArgs: baselineArgs.join(' '), baseline: figures(agents[1]), ratioToBaseline: Number(((agents[0].cpu1 - agents[0].cpu0) / (agents[1].cpu1 - agents[1].cpu0)).toFixed(3)) } : {}),
  loadavgStart,
  loadavg,
};
console.log(JSON.stringify(result, null, 2));
for (const a of agents) if (a.final.windows !== a.final.sent) console.error(`${a.name}:\n${a.log.slice(-3000)}`);
