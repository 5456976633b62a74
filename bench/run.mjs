#!/usr/bin/env node
// `npm run bench`: pyflame-ts vs py-spy and austin, measured in the same run, interleaved.
// Not part of the test suite. Options:
//   --quick            short runs to check the harness (1 repetition, fewer targets)
//   --only=a,b         figures to run: cost, rate, rate310, slowdown, accuracy, accuracy314,
//                      accuracy315, aliasing, dump, longrun
//   --aliasing-targets=K  only these targets of figure 3b (periodic, sleeping, aperiodic)
//   --cost-targets=L   only the cost targets whose label contains one of L (e.g. "50 frames")
//   --pythons=a,b      cost targets of these Pythons only (e.g. 3.15)
//   --reps=N           repetitions (default 3)
//   --skip-build       do not rebuild the Rust example binary
//   --publish          also write bench/cpu-per-sample.svg and the results section of BENCHMARKS.md
import { mkdirSync, writeFileSync, readFileSync, existsSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, repoDir } from './lib/process.mjs';
import { installPeers, buildOurs, describeMachine, pythonInfo } from './lib/setup.mjs';
import { profilers, newestPythonsDir } from './lib/profilers.mjs';
import { fullReport, goals } from './lib/report.mjs';
import { barChartSvg } from './lib/chart.mjs';
import { measureCost } from './figures/cost.mjs';
import { measureRate } from './figures/rate.mjs';
import { measureSlowdown } from './figures/slowdown.mjs';
import { measureAccuracy } from './figures/accuracy.mjs';
import { measureAliasing } from './figures/aliasing.mjs';
import { measureDump } from './figures/dump.mjs';
import { measureLongRun } from './figures/longrun.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const only = option('only')?.split(',');
const pyenv = path.join(os.homedir(), '.pyenv', 'versions');

const config = {
  reps: Number(option('reps') ?? (quick ? 1 : 3)),
  durations: quick ? [1, 2] : [1, 3],
  rateDurations: [1, 3],
  costHz: 1000,
  costTargets: [
    { python: '3.12', depth: 1, label: '1 frame' },
    { python: '3.12', depth: 10, label: '10 frames' },
    { python: '3.12', depth: 50, label: '50 frames' },
    { python: '3.12', depth: 100, label: '100 frames' },
    { python: '3.12', depth: 10, threads: 16, label: '16 threads × 10 frames' },
    { python: '3.10', depth: 50, label: '50 frames' },
    // scripts/pythons/fetch.sh's Debian unstable builds, when present
    { python: '3.14', depth: 50, label: '50 frames' },
    { python: '3.15', depth: 50, label: '50 frames' },
  ].filter((t) => (!quick || t.depth === 50) && (!option('pythons') || option('pythons').split(',').includes(t.python)) && (!option('cost-targets') || option('cost-targets').split(',').some((l) => t.label === l && t.python === '3.12'))),
  maxHz: 100_000,
  // py-spy takes duration × rate samples however long that takes: ask it a rate it can nearly reach
  maxHzPerProfiler: { 'py-spy': 2500 },
  rateTarget: { python: '3.12', depth: 50 },
  // the same back-to-back measurement on the ≤ 3.10 frame-object walker
  rateTargetFrameObjects: { python: '3.10', depth: 50 },
  slowdownHz: [100, 1000],
  // ~3 s of work: long enough that a shared machine's speed drifts matter less than the profiler
  workloadIterations: quick ? 20000 : 240000,
  attachWaitMs: 1500,
  accuracyHz: 1000,
  accuracySeconds: quick ? 2 : 5,
  aliasingHz: [100, 1000],
  aliasingTargets: option('aliasing-targets')?.split(','),
  // 1,000 and 4,000 samples: binomial error of a 60 % share 1.5 and 0.8 pp
  aliasingSeconds: quick ? { 100: 3, 1000: 1 } : { 100: 10, 1000: 4 },
  dumpReps: quick ? 2 : 5,
  longRunHz: 2000,
  longRunSeconds: quick ? 5 : 30,
};

const both = (id) => [{ id, blocking: false }, { id, blocking: true }];
const modes = {
  cost: [{ id: 'pyflame-core', blocking: false }, { id: 'pyflame-core --periodic', blocking: false }, { id: 'pyflame-ts', blocking: false }, ...both('py-spy'), { id: 'austin', blocking: false }, { id: 'cpython-sampler', blocking: false }, { id: 'timer-floor', blocking: false }],
  rate: [{ id: 'pyflame-core', blocking: false }, { id: 'pyflame-ts', blocking: false }, { id: 'py-spy', blocking: false }, { id: 'austin', blocking: false }],
  slowdown: [...both('pyflame-ts'), ...both('py-spy'), { id: 'austin', blocking: false }],
  accuracy: [{ id: 'pyflame-ts', blocking: false }, { id: 'pyflame-ts', blocking: true }, ...both('py-spy'), { id: 'austin', blocking: false }, { id: 'cpython-sampler', blocking: false }],
  aliasing: [{ id: 'pyflame-ts', blocking: false }, { id: 'pyflame-ts', blocking: true }, { id: 'pyflame-ts --periodic', blocking: false }, ...both('py-spy'), { id: 'austin', blocking: false }],
  longRun: [{ id: 'pyflame-core', blocking: false }, { id: 'pyflame-ts', blocking: false }, { id: 'py-spy', blocking: false }, { id: 'austin', blocking: false }],
};

const figures = [
  ['cost', measureCost],
  ['rate', measureRate],
  ['rate310', (ctx) => measureRate(ctx, ctx.config.rateTargetFrameObjects)],
  ['slowdown', measureSlowdown],
  ['accuracy', measureAccuracy],
  ['aliasing', measureAliasing],
  ['accuracy314', (ctx) => measureAccuracy(ctx, '3.14')],
  ['accuracy315', (ctx) => measureAccuracy(ctx, '3.15')],
  ['dump', measureDump],
  ['longRun', measureLongRun],
].filter(([name]) => !only || only.includes(name) || only.includes(name.toLowerCase()));

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const resultsDir = path.join(benchDir, 'results');
mkdirSync(resultsDir, { recursive: true });
const logLines = [];
const log = (line) => {
  const text = `[${new Date().toISOString().slice(11, 19)}] ${line}`;
  logLines.push(text);
  console.log(text);
};

async function main() {
  const pythons = {
    '3.12': await pythonInfo(path.join(pyenv, '3.12.1', 'bin', 'python')),
    '3.10': await pythonInfo(path.join(pyenv, '3.10.13', 'bin', 'python')),
  };
  for (const minor of ['3.14', '3.15']) {
    const launcher = path.join(newestPythonsDir, `python${minor}`);
    if (existsSync(launcher)) pythons[minor] = await pythonInfo(launcher);
    else log(`python${minor}: not in ${newestPythonsDir} (run scripts/pythons/fetch.sh); its rows are skipped`);
  }
  const hostPython = pythons['3.12'].path;
  installPeers(hostPython, log);
  buildOurs(log, { skipBuild: flag('skip-build') });
  const machine = await describeMachine(pythons);
  log(`load average before: ${machine.loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  const ctx = { config, modes, pythons, hostPython, profilers, log };
  const results = { machine, config, modes, figures: {} };
  for (const [name, measure] of figures) {
    results.figures[name] = await measure(ctx);
    save(results); // keep what is done if a later figure fails
  }
  machine.loadAfter = os.loadavg();
  log(`load average after: ${machine.loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
  const { markdown, svg } = save(results);
  console.log(`\n${markdown}`);
  for (const g of goals(results)) log(`goal: ${g.goal}: ${g.measured} ${g.met === null ? '' : g.met ? 'MET' : 'MISSED'} ${g.margin}`);
  if (flag('publish')) publish(markdown, svg);
}

function chartOf(results) {
  const cost = results.figures.cost;
  if (!cost) return null;
  const profiled = cost.rows.filter((r) => !r.baseline);
  const series = [...new Set(profiled.map((r) => r.mode))];
  const groups = [...new Set(profiled.map((r) => `${r.python}|${r.target}`))].map((key) => {
    const [python, target] = key.split('|');
    const rows = profiled.filter((r) => r.python === python && r.target === target);
    return {
      label: `${target} (${python.split('.').slice(0, 2).join('.')})`,
      bars: rows.map((r) => ({ series: r.mode, value: r.usPerSample.median, min: r.usPerSample.min, max: r.usPerSample.max })),
    };
  });
  return barChartSvg({ title: `Profiler CPU per sample at ${cost.hz} Hz (lower is better)`, unit: 'µs per sample', groups, series });
}

function save(results) {
  const markdown = fullReport(results);
  const svg = chartOf(results);
  writeFileSync(path.join(resultsDir, `${stamp}.json`), JSON.stringify(results, null, 1));
  writeFileSync(path.join(resultsDir, `${stamp}.md`), markdown);
  writeFileSync(path.join(resultsDir, `${stamp}.log`), logLines.join('\n') + '\n');
  if (svg) writeFileSync(path.join(resultsDir, `${stamp}-cpu-per-sample.svg`), svg);
  return { markdown, svg };
}

/** Replaces the generated part of BENCHMARKS.md (between the markers) and the committed chart. */
function publish(markdown, svg) {
  if (svg) writeFileSync(path.join(benchDir, 'cpu-per-sample.svg'), svg);
  const file = path.join(repoDir, 'BENCHMARKS.md');
  const start = '<!-- results:start (written by npm run bench -- --publish) -->';
  const end = '<!-- results:end -->';
  const render = path.join(benchDir, 'RENDER_RESULTS.md');
  const renderPart = existsSync(render) ? `\n### 4. Rendering (from bench/RENDER_RESULTS.md)\n\n${readFileSync(render, 'utf8').replace(/^# .*\n/, '').replace(/^## /gm, '#### ')}\n` : '';
  const generated = `${start}\n${markdown}${renderPart}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`;
  const next = current.includes(start) ? current.replace(new RegExp(`${escape(start)}[\\s\\S]*${escape(end)}`), generated) : `${current}\n${generated}\n`;
  writeFileSync(file, next);
  log(`wrote ${path.relative(repoDir, file)} and bench/cpu-per-sample.svg`);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

main().catch((error) => {
  console.error(`bench: ${error.message} (${error.code ?? 'ERR_BENCH'})`);
  process.exit(1);
});
