#!/usr/bin/env node
// Sampling rates side by side (issue 19 item 4, issue 14 item 7): pyflame-ts `record`, its Rust
// core alone, py-spy and, on 3.15, CPython 3.15's own sampler (`python3.15 -m profiling.sampling
// attach`, run inside the Debian root by the same launcher as the target), each asked 1 kHz,
// 10 kHz and 100 kHz on a 50-frame known-ratio program, on 3.12, 3.14 and 3.15, interleaved in one
// run (each repetition runs every profiler once per condition, in a rotated order).
//
// Per profiler, Python and rate, from a short and a long recording (1 s and 4 s by default), each
// on a fresh bench/targets/accuracy.py DEPTH target:
//   - CPU per sample: ΔCPU / Δsamples between the two recordings (user+sys of the profiler and
//     its children, from wait4 through bench/targets/rusage.py): the start-up cost cancels out;
//   - rate kept: Δsamples / Δwall; samples of the long recording against rate × seconds asked
//     (missed %), and its wall time against the seconds asked;
//   - accuracy: the largest error, in percentage points, of the shares of alpha/beta/gamma
//     against the split the program measures itself (process_time of each call).
// py-spy takes duration × rate samples however long that takes; a py-spy run still going at
// CAP × the seconds asked (+ 1 s) is stopped with SIGINT (it writes what it has) and marked so.
//
// usage: nice node bench/rates.mjs [--pythons=3.12,3.14,3.15] [--rates=1000,10000,100000]
//          [--seconds=1,4] [--reps=2] [--depth=50] [--profilers=pyflame-ts,pyflame-core,py-spy,cpython-sampler]
//          [--cap=2] [--json=FILE]
// Needs `npm run build`, `cargo build --release --example record -p pyflame-core` and bench/.venv
// (py-spy; `npm run bench` installs it). Prints Markdown tables; --json writes every raw run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, targetsDir, startTarget, sleep, capture } from './lib/process.mjs';
import { profilers, newestPythonsDir, exampleBinary } from './lib/profilers.mjs';
import { rotate } from './lib/runner.mjs';
import { median } from './lib/stats.mjs';
import { FUNCTIONS, sharesFromStacks, readTruth } from './figures/accuracy.mjs';

const option = (name, fallback) => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const list = (name, fallback) => option(name, fallback).split(',').filter(Boolean);
const pythonKeys = list('pythons', '3.12,3.14,3.15');
const rates = list('rates', '1000,10000,100000').map(Number);
const [shortSeconds, longSeconds] = list('seconds', '1,4').map(Number);
const reps = Number(option('reps', '2'));
const depth = Number(option('depth', '50'));
const cap = Number(option('cap', '2'));
const profilerIds = list('profilers', 'pyflame-ts,pyflame-core,py-spy,cpython-sampler');

const pythonPaths = {
  '3.12': path.join(os.homedir(), '.pyenv', 'versions', '3.12.1', 'bin', 'python'),
  '3.14': path.join(newestPythonsDir, 'python3.14'),
  '3.15': path.join(newestPythonsDir, 'python3.15'),
};
const hostPython = pythonPaths['3.12'];
const pySpy = path.join(benchDir, '.venv', 'bin', 'py-spy');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pyflame-bench-rates-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Runs a profiler under rusage.py; SIGINT to the profiler itself (not rusage.py) at `stopAfterMs`. */
function runMeasured(cmd, args, stopAfterMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(hostPython, [path.join(targetsDir, 'rusage.py'), cmd, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let usage = '';
    let interrupted = false;
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.stdio[3].on('data', (c) => (usage += c));
    const timer = setTimeout(() => {
      // rusage.py's only child is the profiler (fork + exec keeps its pid)
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const pid of kids) process.kill(Number(pid), 'SIGINT');
      interrupted = kids.length > 0;
    }, stopAfterMs);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      if (!usage) return reject(new Error(`no usage from ${cmd}: ${stderr.slice(-300)}`));
      const u = JSON.parse(usage);
      resolve({ ...u, cpu: u.user + u.sys, stdout, stderr, interrupted });
    });
  });
}

/** One recording of `seconds` at `hz` by profiler `id` of a fresh target: CPU, wall, samples, accuracy. */
async function recordOnce(id, python, hz, seconds) {
  const out = path.join(scratch, `${id}-${hz}-${seconds}.txt`);
  const opts = { pid: 0, seconds, hz, blocking: false, threads: 0, out };
  const target = startTarget(python, 'accuracy.py', [depth]);
  try {
    await target.ready;
    await sleep(300);
    opts.pid = target.pid;
    const { cmd, args } = profilers[id].command(opts);
    // py-spy stretches its recording; the others end on time (a margin for start-up).
    const stopAfterMs = (seconds * cap + 1) * 1000 + (id === 'cpython-sampler' ? 2000 : 0);
    target.child.kill('SIGUSR1'); // the truth starts counting with the profiler
    const r = await runMeasured(cmd, args, stopAfterMs);
    const truth = await readTruth(target);
    if (r.status !== 0 && !r.interrupted) throw new Error(`${id} exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`);
    const reported = sharesFromStacks(profilers[id].stacks(r, opts));
    const ticks = profilers[id].ticks(r, opts);
    const errors = FUNCTIONS.map((f) => Math.abs(reported.shares[f] - truth[f]));
    const behind = /([\d.]+)s behind in sampling/.exec(r.stdout + r.stderr)?.[1];
    const reportedMissed = /missed (\d+) samples/.exec(r.stdout + r.stderr)?.[1];
    return {
      seconds, hz, cpu: r.cpu, user: r.user, sys: r.sys, wall: r.wall, ticks, interrupted: r.interrupted,
      behindSeconds: behind === undefined ? undefined : Number(behind),
      reportedMissed: reportedMissed === undefined ? undefined : Number(reportedMissed),
      maxErrorPp: Math.max(...errors), truth, shares: reported.shares,
    };
  } finally {
    target.kill();
    rmSync(out, { force: true });
  }
}

async function main() {
  if (!existsSync(pySpy)) throw new Error('bench/.venv has no py-spy: run `npm run bench -- --quick --only=dump` once, or pip install py-spy there');
  if (profilerIds.includes('pyflame-core') && !existsSync(exampleBinary)) throw new Error('run cargo build --release --example record -p pyflame-core');
  const pythons = {};
  for (const key of pythonKeys) {
    if (!existsSync(pythonPaths[key])) {
      log(`python${key}: ${pythonPaths[key]} is absent, its rows are left out`);
      continue;
    }
    pythons[key] = await capture(pythonPaths[key], ['-c', 'import platform; print(platform.python_version())']);
  }
  const versions = { 'py-spy': await capture(pySpy, ['--version']), node: process.version };
  const loadBefore = os.loadavg();
  log(`load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')}; ${JSON.stringify(pythons)}`);
  const conditions = [];
  for (const key of Object.keys(pythons)) {
    for (const hz of rates) {
      const ids = profilerIds.filter((id) => !profilers[id].onlyPython || profilers[id].onlyPython === key);
      conditions.push({ key, hz, ids });
    }
  }
  const runs = {}; // `${key}|${hz}|${id}` → [{ short, long, load }]
  const loads = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const { key, hz, ids } of conditions) {
      for (const id of rotate(ids, rep)) {
        const name = `${key}|${hz}|${id}`;
        try {
          const short = await recordOnce(id, pythonPaths[key], hz, shortSeconds);
          const long = await recordOnce(id, pythonPaths[key], hz, longSeconds);
          const load = os.loadavg()[0];
          loads.push(load);
          (runs[name] ??= []).push({ short, long, load });
          const us = ((long.cpu - short.cpu) / (long.ticks - short.ticks)) * 1e6;
          log(`rep ${rep + 1} ${key} ${hz} Hz ${id}: ${short.ticks}/${long.ticks} samples, wall ${short.wall.toFixed(2)}/${long.wall.toFixed(2)} s, ` +
            `CPU ${(short.cpu * 1e3).toFixed(0)}/${(long.cpu * 1e3).toFixed(0)} ms → ${us.toFixed(1)} µs/sample, error ${long.maxErrorPp.toFixed(2)} pp` +
            `${long.interrupted ? ' (stopped by SIGINT)' : ''}${long.behindSeconds !== undefined ? `, ${long.behindSeconds} s behind` : ''}, load ${load.toFixed(1)}`);
        } catch (error) {
          log(`rep ${rep + 1} ${key} ${hz} Hz ${id}: ${error.message.split('\n')[0]}`);
          (runs[name] ??= []).push({ error: error.message.split('\n')[0] });
        }
      }
    }
  }
  const loadAfter = os.loadavg();
  log(`load average after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
  const jsonPath = option('json');
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), pythons, versions, depth, rates, seconds: [shortSeconds, longSeconds], reps, loadBefore, loadAfter, runs }, null, 1));
  console.log(table(pythons, conditions, runs, { loadBefore, loadAfter, loads, versions }));
}

const label = {
  'pyflame-ts': 'pyflame-ts `record`',
  'pyflame-core': 'pyflame-ts core (Rust example)',
  'py-spy': 'py-spy --nonblocking',
  'cpython-sampler': "CPython 3.15's sampler",
};
const fix = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const spread = (xs, digits = 1) => {
  const ok = xs.filter(Number.isFinite);
  if (ok.length === 0) return '–';
  if (ok.length === 1) return fix(ok[0], digits);
  return `${fix(median(ok), digits)} (${fix(Math.min(...ok), digits)}–${fix(Math.max(...ok), digits)})`;
};

function table(pythons, conditions, runs, { loadBefore, loadAfter, loads, versions }) {
  const lines = [
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${depth}-frame bench/targets/accuracy.py; ${shortSeconds} s and ${longSeconds} s recordings; ${reps} repetitions; ` +
      `load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after (during: ${fix(Math.min(...loads))}–${fix(Math.max(...loads))}); ` +
      `Pythons ${Object.entries(pythons).map(([k, v]) => v || k).join(', ')}; ${versions['py-spy']}; Node ${versions.node}.`,
    '',
    `| Python | asked | profiler | µs CPU / sample | cores | kept Hz | samples of ${longSeconds} s (missed %) | wall of the ${longSeconds} s run, s | max error, pp |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { key, hz, ids } of conditions) {
    for (const id of ids) {
      const ok = (runs[`${key}|${hz}|${id}`] ?? []).filter((r) => !r.error);
      if (ok.length === 0) {
        const why = (runs[`${key}|${hz}|${id}`] ?? []).find((r) => r.error)?.error ?? 'not run';
        lines.push(`| ${pythons[key] || key} | ${hz / 1000} kHz | ${label[id]} | ${why} | | | | | |`);
        continue;
      }
      const us = ok.map(({ short, long }) => ((long.cpu - short.cpu) / (long.ticks - short.ticks)) * 1e6);
      // py-spy samples for as long as its samples take: its rate and cores are per second of wall
      // time; the others sample for the seconds asked (start-up apart).
      const stretches = profilers[id].stopsBySampleCount;
      const span = ({ short, long }) => (stretches ? long.wall - short.wall : longSeconds - shortSeconds);
      const cores = ok.map((r) => (r.long.cpu - r.short.cpu) / span(r));
      const kept = ok.map((r) => (stretches ? (r.long.ticks - r.short.ticks) / span(r) : r.long.ticks / longSeconds));
      const asked = hz * longSeconds;
      const taken = ok.map(({ long }) => long.ticks);
      const missed = taken.map((t) => Math.max(0, 100 * (1 - t / asked)));
      const walls = ok.map(({ long }) => long.wall);
      const notes = [];
      if (ok.some(({ long }) => long.interrupted)) notes.push(`stopped by SIGINT at ${cap}× the time asked`);
      const behind = ok.map(({ long }) => long.behindSeconds).filter((b) => b !== undefined);
      if (behind.length) notes.push(`reported ${fix(Math.max(...behind))} s behind`);
      lines.push(
        `| ${pythons[key] || key} | ${hz / 1000} kHz | ${label[id]} | ${spread(us)} | ${spread(cores, 2)} | ${spread(kept, 0)} | ` +
          `${fix(median(taken), 0)} (${fix(median(missed))} %) | ${spread(walls, 2)}${notes.length ? ` (${notes.join('; ')})` : ''} | ${spread(ok.map(({ long }) => long.maxErrorPp), 2)} |`,
      );
    }
  }
  return lines.join('\n');
}

main().catch((error) => {
  console.error(`bench/rates: ${error.message}`);
  process.exit(1);
});
