#!/usr/bin/env node
// Where a start-up's CPU goes: marks of process.cpuUsage() (user+sys since the process began)
// inside a Node process that runs the built bundles of dist/cli/ phase by phase, as
// dist/cli/pyflame-ts.js would. Median of N runs per phase. Not part of the test suite.
//
//   nice node bench/startup-phases.mjs [--reps=N]
//
// Complements bench/startup.mjs (whole processes, ratios): this says which phase costs the
// difference to `node -e 0`. Node runs without NODE_OPTIONS and NODE_EXTRA_CA_CERTS (see there).
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startTarget, sleep, repoDir } from './lib/process.mjs';
import { median } from './lib/stats.mjs';

const reps = Number(process.argv.slice(2).find((a) => a.startsWith('--reps='))?.split('=')[1] ?? 15);
const python = path.join(os.homedir(), '.pyenv/versions/3.12.1/bin/python3.12');
if (!existsSync(path.join(repoDir, 'dist/cli/build-cli-record.js'))) throw new Error('no dist/cli bundles: npm run build:ts');
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;

// Each child prints one JSON line of [phase, CPU ms at its end] on stderr.
const prelude = `
const marks = []; let last = 0
const mark = (name) => { const u = process.cpuUsage(); const now = (u.user + u.system) / 1000; marks.push([name, now - last]); last = now }
mark('Node start-up, to the first line of the program')
process.on('exit', () => { mark('exit'); require('fs').writeSync(2, JSON.stringify(marks) + '\\n') })
const dist = ${JSON.stringify(path.join(repoDir, 'dist/cli'))}
`;
const programs = {
  'node -e 0': '',
  'pyflame-ts dump -p PID (the plain-dump path)': `
const { runPlainDump } = require(dist + '/dump-main.js'); mark('load dump-main.js (dump, errors, options: one file)')
require(dist + '/../../binding.js'); mark('load the addon (binding.js, dlopen of the .node)')
runPlainDump({ pid: process.argv[1], json: false, locals: false, subprocesses: false, async: false, nonblocking: false, native: false, pythonVersion: undefined })
  .then(() => mark('the dump in Rust, formatted and written to fd 1'))`,
  'pyflame-ts record -p PID -s 0.1 -r 0.01 --threads': `
const { buildCli } = require(dist + '/build-cli-record.js'); mark('load build-cli-record.js (clipanion, its process.stdin/stdout/tty, record code)')
buildCli('record').then((cli) => {
  mark('build the CLI (register record)')
  const context = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
  const command = cli.process(['record', '-p', process.argv[1], '-s', '0.1', '-r', '0.01', '--threads'], context); mark("clipanion's parse of the command line")
  return cli.run(command, context)
}).then(() => mark('record: attach, 10 samples in Rust, folded written (incl. loading the addon)'))`,
};

const target = startTarget(python, 'deep_idle.py', [50]);
await target.ready;
await sleep(300);
const loadBefore = os.loadavg();
const phases = Object.fromEntries(Object.keys(programs).map((p) => [p, new Map()]));
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, body] of Object.entries(programs)) {
      const run = spawnSync(process.execPath, ['-e', prelude + body, String(target.pid)], { env, encoding: 'utf8', cwd: repoDir });
      const line = run.stderr.trim().split('\n').pop();
      if (run.status !== 0 || !line?.startsWith('[')) throw new Error(`${name}: exit ${run.status} ${run.stderr.slice(-300)}`);
      for (const [phase, ms] of JSON.parse(line)) {
        if (!phases[name].has(phase)) phases[name].set(phase, []);
        phases[name].get(phase).push(ms);
      }
    }
  }
} finally {
  target.kill();
}
const loadAfter = os.loadavg();
const lines = [
  `Start-up phases (CPU ms, user+sys, median of ${reps} runs each), ${new Date().toISOString()}, Node ${process.version},`,
  `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after; target: Python 3.12, 50 frames asleep.`,
  '',
];
for (const [name, map] of Object.entries(phases)) {
  const total = [...map.values()].reduce((sum, values) => sum + median(values), 0);
  lines.push(`| \`${name}\` | CPU ms |`, '|---|---:|');
  for (const [phase, values] of map) if (phase !== 'exit' || median(values) >= 0.05) lines.push(`| ${phase} | ${median(values).toFixed(1)} |`);
  lines.push(`| total (sum of medians) | ${total.toFixed(1)} |`, '');
}
process.stdout.write(lines.join('\n'));
