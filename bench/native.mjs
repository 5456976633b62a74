// --native cost, side by side with py-spy --native on the same target in one run.
//
// 1. CPU per sample: each profiler's CPU time (children's rusage) for a short and a long
//    recording; the slope (CPU difference ÷ sample difference) leaves out start-up, attaching
//    and reading symbols. At 500 Hz, 2 s against 12 s differ by ~5,000 samples, whose CPU
//    (0.3–2 s) dwarfs the start-up's run-to-run noise (30–90 ms measured on this VM); at 100 Hz
//    and 1 s against 5 s the ~400 extra samples did not. Every repetition runs every profiler,
//    in an order rotated per repetition (short and long swapped every other one), and the
//    ratio py-spy ÷ pyflame-ts is taken within each repetition (paired), so a change of the
//    machine's load during the run moves both sides of a ratio alike.
// 2. Target slowdown at 100 Hz: the target's own throughput counter while a profiler records,
//    against the no-profiler windows right before and after it (B P1 B P2 B P3 B, order
//    rotated per repetition); the difference py-spy − pyflame-ts is again taken per repetition.
//    Throughput moves ±15 % between windows on a shared machine, more than any profiler moves
//    it, so the time the target was held stopped (neither running nor waiting for a CPU, from
//    its schedstat; it is CPU-bound) is reported as well: the pauses' direct cost, with little noise.
//
// Every figure is the median and the interquartile range (Q1–Q3) of the repetitions.
//
//   node bench/native.mjs [--hz 500] [--short 2] [--long 12] [--reps 7]
//                         [--profilers core,cli,blocking,py-spy] [--baseline PATH]
//                         [--slowdown-hz 100] [--slowdown-seconds 10] [--slowdown-reps 7]
//                         [--no-cpu] [--no-slowdown] [--python PATH] [--json FILE]
// --baseline PATH adds another build of examples/record (e.g. the previous commit's, copied
// aside) as profiler "baseline": the paired ratio baseline ÷ core then measures a change.
// Needs: npm run build, cargo build --release --example record, bench/.venv with py-spy
// (node bench/run.mjs sets it up, or: python3 -m venv bench/.venv && bench/.venv/bin/pip install py-spy).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quartiles } from './lib/stats.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const flag = (name) => process.argv.includes(`--${name}`);
const hz = Number(arg('hz', 500));
const shortSeconds = Number(arg('short', 2));
const longSeconds = Number(arg('long', 12));
const reps = Number(arg('reps', 7));
const slowdownHz = Number(arg('slowdown-hz', 100));
const slowdownSeconds = Number(arg('slowdown-seconds', 10));
const slowdownReps = Number(arg('slowdown-reps', 7));
const baseline = arg('baseline', null);
const jsonOut = arg('json', null);
const python = arg('python', path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3'));
const example = path.join(repo, 'target', 'release', 'examples', 'record');
const cli = path.join(repo, 'dist', 'cli', 'pyflame-ts.js');
const pyspy = path.join(repo, 'bench', '.venv', 'bin', 'py-spy');
for (const need of [example, cli, pyspy, python, ...(baseline ? [baseline] : [])]) if (!existsSync(need)) throw new Error(`missing ${need}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'pyflame-native-bench-'));
const counter = path.join(dir, 'counter');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const readCounter = () => {
  const [t, n, run, wait] = readFileSync(counter, 'utf8').trim().split(' ').map(Number);
  return { t, n, run, wait };
};

/** Runs a command under a Python wrapper that reports its children's CPU seconds. */
function runMeasured(cmd, args) {
  const wrapper = 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.PIPE); u=resource.getrusage(resource.RUSAGE_CHILDREN); sys.stderr.write(r.stderr.decode(errors="replace")); sys.stdout.write(r.stdout.decode(errors="replace")); print("CPU %f" % (u.ru_utime+u.ru_stime), file=sys.stderr)';
  return new Promise((resolve) => {
    const child = spawn('python3', ['-c', wrapper, cmd, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', () => resolve({ out, err, cpu: Number(/CPU ([\d.]+)/.exec(err)?.[1] ?? NaN) }));
  });
}

const sumFolded = (text) => text.split('\n').filter(Boolean).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

const target = spawn(python, [path.join(repo, 'bench', 'targets', 'native_zlib.py'), counter], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
await new Promise((resolve) => target.stdout.once('data', resolve));
await sleep(1000);
const pid = String(target.pid);

const coreRunner = (binary, mode) => async (secs, rate) => {
  const r = await runMeasured(binary, [pid, String(secs), String(1 / rate), mode, '--threads']);
  return { samples: Number(/ticks (\d+)/.exec(r.err)?.[1] ?? NaN), cpu: r.cpu };
};
const allRunners = {
  core: { label: 'pyflame-ts core --native', run: coreRunner(example, '--native') },
  cli: {
    label: 'pyflame-ts CLI --native',
    run: async (secs, rate, out) => {
      const r = await runMeasured(process.execPath, [cli, 'record', '-p', pid, '--native', '--threads', '--hz', String(rate), '-s', String(secs), '-f', 'folded', '-o', out]);
      return { samples: existsSync(out) ? sumFolded(readFileSync(out, 'utf8')) : NaN, cpu: r.cpu };
    },
  },
  blocking: { label: 'pyflame-ts core --blocking (no --native)', run: coreRunner(example, '--blocking') },
  'py-spy': {
    label: 'py-spy --native',
    run: async (secs, rate, out) => {
      const r = await runMeasured(pyspy, ['record', '--native', '-r', String(rate), '-d', String(secs), '-f', 'raw', '-o', out, '-p', pid]);
      return { samples: existsSync(out) ? sumFolded(readFileSync(out, 'utf8')) : NaN, cpu: r.cpu };
    },
  },
  ...(baseline ? { baseline: { label: `baseline build --native (${baseline})`, run: coreRunner(baseline, '--native') } } : {}),
};
const chosen = arg('profilers', ['core', 'cli', 'blocking', 'py-spy', ...(baseline ? ['baseline'] : [])].join(',')).split(',');
for (const name of chosen) if (!allRunners[name]) throw new Error(`unknown profiler ${name} (known: ${Object.keys(allRunners).join(', ')})`);
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);
const loads = { start: os.loadavg() };

// Part 1: CPU per sample.
const cpu = Object.fromEntries(chosen.map((k) => [k, []]));
if (!flag('no-cpu')) {
  for (let rep = 0; rep < reps; rep++) {
    const lengths = rep % 2 ? [longSeconds, shortSeconds] : [shortSeconds, longSeconds];
    const runs = Object.fromEntries(chosen.map((k) => [k, {}]));
    for (const name of rotate(chosen, rep)) {
      for (const secs of lengths) {
        const out = path.join(dir, `cpu-${rep}-${name}-${secs}.txt`);
        runs[name][secs === shortSeconds ? 'short' : 'long'] = await allRunners[name].run(secs, hz, out);
        rmSync(out, { force: true });
      }
    }
    for (const name of chosen) {
      const { short, long } = runs[name];
      const perSample = (long.cpu - short.cpu) / (long.samples - short.samples);
      cpu[name].push({ perSample, short, long, rate: long.samples / longSeconds });
      process.stderr.write(`cpu rep ${rep} ${allRunners[name].label}: ${short.samples}/${long.samples} samples, ${short.cpu.toFixed(3)}/${long.cpu.toFixed(3)} s CPU, ${(1e6 * perSample).toFixed(1)} µs/sample\n`);
    }
  }
  loads.afterCpu = os.loadavg();
}

/**
 * Throughput of the target from `skip` s after now to `span` s later: iterations per second of
 * wall time, and per second of the time it had (wall time less the time it waited for a CPU,
 * from its schedstat), which leaves out other jobs on a shared machine while the time it
 * spent paused by a profiler still counts.
 */
async function throughputOver(skip, span) {
  await sleep(skip * 1000);
  const before = readCounter();
  await sleep(span * 1000);
  const after = readCounter();
  const wall = after.t - before.t;
  const had = wall - (after.wait - before.wait) / 1e9;
  // The target is CPU-bound: time it neither ran nor waited for a CPU is time it was held
  // stopped (by a profiler's pause; a few µs per 0.1 s for its own counter file otherwise).
  const off = 1 - ((after.run - before.run) + (after.wait - before.wait)) / 1e9 / wall;
  return { wall: (after.n - before.n) / wall, had: (after.n - before.n) / had, off };
}
// Part 2: target slowdown. Measured window: past the profiler's start-up, ending before it stops.
const SKIP = 1.5;
const span = slowdownSeconds - SKIP - 1;
const slowdownNames = chosen.filter((k) => k !== 'blocking');
const slowdown = Object.fromEntries(slowdownNames.map((k) => [k, []]));
try {
  if (!flag('no-slowdown')) {
    for (let rep = 0; rep < slowdownReps; rep++) {
      let before = await throughputOver(SKIP, span);
      for (const name of rotate(slowdownNames, rep)) {
        const out = path.join(dir, `slow-${rep}-${name}.txt`);
        const [, during] = await Promise.all([allRunners[name].run(slowdownSeconds, slowdownHz, out), throughputOver(SKIP, span)]);
        rmSync(out, { force: true });
        const after = await throughputOver(SKIP, span);
        const pct = (key) => 100 * (1 - during[key] / ((before[key] + after[key]) / 2));
        const stopped = 100 * (during.off - (before.off + after.off) / 2);
        slowdown[name].push({ wall: pct('wall'), had: pct('had'), stopped });
        process.stderr.write(`slowdown rep ${rep} ${allRunners[name].label}: ${during.had.toFixed(2)} it/s-had between ${before.had.toFixed(2)} and ${after.had.toFixed(2)} without (${pct('had').toFixed(1)} %); wall ${pct('wall').toFixed(1)} %; held stopped ${stopped.toFixed(2)} % of the time\n`);
        before = after;
      }
    }
    loads.end = os.loadavg();
  }
} finally {
  process.kill(-target.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const fmtQ = (q, digits = 0, unit = '') => `${q.median.toFixed(digits)}${unit} (${q.q1.toFixed(digits)}–${q.q3.toFixed(digits)})`;
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(' ');
const pyV = spawnSync(python, ['-V'], { encoding: 'utf8' }).stdout.trim();
const pyspyV = spawnSync(pyspy, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`# --native cost, ${python} (${pyV}), target bench/targets/native_zlib.py, ${pyspyV}, ${new Date().toISOString()}`);
console.log(`load average (1, 5, 15 min): start ${fmtLoad(loads.start)}${loads.afterCpu ? `; after the CPU part ${fmtLoad(loads.afterCpu)}` : ''}${loads.end ? `; end ${fmtLoad(loads.end)}` : ''}; ${os.cpus().length} CPUs`);
const ratios = {};
if (!flag('no-cpu')) {
  console.log('');
  console.log(`CPU per sample at ${hz} Hz: ${reps} repetitions, slope ${shortSeconds} s → ${longSeconds} s; median (Q1–Q3)`);
  console.log('| profiler | CPU per sample (µs) | per repetition | samples/s kept in the long run |');
  console.log('|---|---:|---|---:|');
  for (const name of chosen) {
    const slopes = cpu[name].map((r) => 1e6 * r.perSample);
    console.log(`| ${allRunners[name].label} | ${fmtQ(quartiles(slopes), 1)} | ${slopes.map((x) => x.toFixed(0)).join(', ')} | ${quartiles(cpu[name].map((r) => r.rate)).median.toFixed(0)} |`);
  }
  const pairs = [['py-spy', 'core'], ['py-spy', 'cli'], ['baseline', 'core']].filter(([a, b]) => cpu[a]?.length && cpu[b]?.length);
  for (const [a, b] of pairs) {
    const per = cpu[a].map((r, i) => r.perSample / cpu[b][i].perSample);
    ratios[`${a}/${b}`] = per;
    console.log(`${allRunners[a].label} ÷ ${allRunners[b].label}, CPU per sample, paired per repetition: ${fmtQ(quartiles(per), 2, '×')}; per repetition ${per.map((x) => x.toFixed(2)).join(', ')}`);
  }
}
if (!flag('no-slowdown')) {
  console.log('');
  console.log(`Target slowdown at ${slowdownHz} Hz: ${slowdownReps} repetitions of ${slowdownSeconds} s recordings (throughput over ${span.toFixed(1)} s of each, from ${SKIP} s in), each against the no-profiler windows before and after it; median (Q1–Q3)`);
  console.log('"Held stopped": share of the time the target was neither running nor waiting for a CPU (schedstat), less the same in the windows without a profiler: the time its pauses took from it.');
  console.log('| profiler | held stopped | per repetition | slowdown per second it had | per repetition | wall-clock slowdown | per repetition |');
  console.log('|---|---:|---|---:|---|---:|---|');
  const cell = (xs, digits) => `${fmtQ(quartiles(xs), digits, ' %')} | ${xs.map((x) => x.toFixed(digits)).join(', ')}`;
  for (const name of slowdownNames) {
    const of = (key) => slowdown[name].map((r) => r[key]);
    console.log(`| ${allRunners[name].label} | ${cell(of('stopped'), 2)} | ${cell(of('had'), 1)} | ${cell(of('wall'), 1)} |`);
  }
  const pairs = [['core', 'py-spy'], ['cli', 'py-spy'], ['core', 'baseline']].filter(([a, b]) => slowdown[a]?.length && slowdown[b]?.length);
  for (const [a, b] of pairs) {
    const diff = (key) => slowdown[a].map((r, i) => r[key] - slowdown[b][i][key]);
    console.log(`${allRunners[a].label} − ${allRunners[b].label}, paired per repetition: held stopped ${fmtQ(quartiles(diff('stopped')), 2, ' pp')}; slowdown per second it had ${fmtQ(quartiles(diff('had')), 1, ' pp')}`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ python: pyV, pyspy: pyspyV, hz, shortSeconds, longSeconds, reps, slowdownHz, slowdownSeconds, slowdownReps, loads, cpu, ratios, slowdown }, null, 1));
