#!/usr/bin/env node
// Start-up cost: the CPU (user+sys) of the one-shot commands, side by side with a bare Node start
// and py-spy, measured interleaved in one run and reported as ratios. Not part of the test suite.
//
//   nice node bench/startup.mjs [--reps=N] [--before=DIR]
//
// --before=DIR adds rows for another build's dist/ (e.g. the commit before a start-up change,
// built with tsc into DIR/dist beside the same addon), to show a change's effect in the same run.
//
// Every command runs under bench/targets/rusage.py (wait4: the CPU of the command and the
// children it waited for, nothing of the harness). Node runs without NODE_OPTIONS and
// NODE_EXTRA_CA_CERTS: the latter makes Node parse the CA bundle at start (about 45 ms here), a
// cost of the environment that every Node command pays; the first row shows it when it is set.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { startTarget, sleep, runMeasured, repoDir, benchDir } from './lib/process.mjs';
import { installPeers } from './lib/setup.mjs';
import { newestPythonsDir } from './lib/profilers.mjs';
import { median } from './lib/stats.mjs';

const argv = process.argv.slice(2);
const reps = Number(argv.find((a) => a.startsWith('--reps='))?.split('=')[1] ?? 21);
const hostPython = '/usr/bin/python3';
const node = process.execPath;
const ts = path.join(repoDir, 'dist/cli/pyflame-ts.js');
const legacy = path.join(repoDir, 'dist/cli/pyflame.js');
const pySpy = path.join(benchDir, '.venv/bin/py-spy');
const before = argv.find((a) => a.startsWith('--before='))?.split('=')[1];
const log = (line) => process.stderr.write(`${line}\n`);

const cleanEnv = { ...process.env };
delete cleanEnv.NODE_OPTIONS;
delete cleanEnv.NODE_EXTRA_CA_CERTS;

installPeers(hostPython, log);
const pythons = [
  { label: '3.12', path: path.join(os.homedir(), '.pyenv/versions/3.12.1/bin/python3.12') },
  { label: '3.14', path: path.join(newestPythonsDir, 'python3.14') },
].filter((p) => existsSync(p.path));

const targets = [];
for (const python of pythons) {
  const t = startTarget(python.path, 'deep_idle.py', [50]);
  await t.ready;
  targets.push({ ...python, target: t });
}
await sleep(300);

/** Each row: a command, what its output must show (else the run is an error), and its baseline. */
const rows = [
  { id: 'node -e 0', cmd: node, args: ['-e', '0'] },
  ...(process.env.NODE_EXTRA_CA_CERTS ? [{ id: 'node -e 0, NODE_EXTRA_CA_CERTS set', cmd: node, args: ['-e', '0'], env: process.env }] : []),
  { id: 'pyflame-ts --version', cmd: node, args: [ts, '--version'], expect: /^\d+\.\d+\.\d+/ },
  { id: 'pyflame --version', cmd: node, args: [legacy, '--version'], expect: /pyflame/i },
  ...(before
    ? [
        { id: 'pyflame-ts --version (before)', cmd: node, args: [path.join(before, 'dist/cli/pyflame-ts.js'), '--version'], expect: /^\d+\.\d+\.\d+/ },
        { id: 'pyflame --version (before)', cmd: node, args: [path.join(before, 'dist/cli/pyflame.js'), '--version'], expect: /pyflame/i },
      ]
    : []),
  ...targets.flatMap(({ label, target }) => [
    { id: `pyflame-ts dump (${label})`, cmd: node, args: [ts, 'dump', '-p', target.pid], expect: /descend/, peer: `py-spy dump (${label})` },
    { id: `pyflame --dump (${label})`, cmd: node, args: [legacy, '-p', target.pid, '--dump'], expect: /descend/, peer: `py-spy dump (${label})` },
    { id: `pyflame-ts record -s 0.1 (${label})`, cmd: node, args: [ts, 'record', '-p', target.pid, '-s', '0.1', '-r', '0.01', '--threads'], expect: /descend/ },
    ...(before
      ? [
          { id: `pyflame-ts dump (${label}, before)`, cmd: node, args: [path.join(before, 'dist/cli/pyflame-ts.js'), 'dump', '-p', target.pid], expect: /descend/, peer: `py-spy dump (${label})` },
          { id: `pyflame --dump (${label}, before)`, cmd: node, args: [path.join(before, 'dist/cli/pyflame.js'), '-p', target.pid, '--dump'], expect: /descend/, peer: `py-spy dump (${label})` },
          { id: `pyflame-ts record -s 0.1 (${label}, before)`, cmd: node, args: [path.join(before, 'dist/cli/pyflame-ts.js'), 'record', '-p', target.pid, '-s', '0.1', '-r', '0.01', '--threads'], expect: /descend/ },
        ]
      : []),
    { id: `py-spy dump (${label})`, cmd: pySpy, args: ['dump', '--pid', target.pid], expect: /descend/ },
  ]),
];

const loadBefore = os.loadavg();
const cpu = Object.fromEntries(rows.map((r) => [r.id, []]));
const errors = [];
try {
  for (let rep = 0; rep < reps; rep++) {
    // a different order each repetition: a slow moment of the shared machine hits every row alike
    const order = rows.map((_, i) => rows[(i + rep) % rows.length]);
    for (const row of order) {
      const env = row.env ?? cleanEnv;
      const r = await runMeasured(row.cmd, row.args, { python: hostPython, env });
      if (r.status !== 0 || (row.expect && !row.expect.test(r.stdout))) {
        errors.push(`${row.id}: exit ${r.status} ${r.stderr.slice(-200)}`);
        continue;
      }
      cpu[row.id].push(r.cpu * 1e3);
    }
  }
} finally {
  for (const { target } of targets) target.kill();
}
const loadAfter = os.loadavg();

const base = median(cpu['node -e 0']);
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const lines = [
  `Start-up CPU (user+sys, median of ${reps} interleaved runs), ${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} cores,`,
  `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after; targets: 50 frames asleep.`,
  '',
  '| command | CPU ms (median) | min–max | × node -e 0 | × py-spy dump |',
  '|---|---:|---:|---:|---:|',
];
for (const row of rows) {
  const values = cpu[row.id];
  const m = median(values);
  const peer = row.peer ? median(cpu[row.peer]) : NaN;
  lines.push(`| \`${row.id}\` | ${m.toFixed(1)} | ${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)} | ${fmt(m / base)} | ${fmt(m / peer)} |`);
}
if (errors.length > 0) lines.push('', `${errors.length} failed runs (not counted):`, ...[...new Set(errors)].slice(0, 5).map((e) => `- ${e}`));
process.stdout.write(lines.join('\n') + '\n');
