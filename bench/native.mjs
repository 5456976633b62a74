// --native cost, side by side with py-spy --native on the same target in one run:
// 1. CPU per sample of each profiler: the slope between a short and a long recording (so
//    start-up, attaching and reading symbols are left out), profilers in turn, every round.
// 2. The target's slowdown at the same rate: its own throughput counter while a profiler
//    records, against the no-profiler windows right before and after (B P1 B P2 B P3 B ...,
//    the order rotated per repetition), so a change in machine load hits both sides alike.
//
//   node bench/native.mjs [--hz 100] [--seconds 5] [--rounds 3] [--slowdown-seconds 10] [--slowdown-reps 5] [--python PATH]
// Needs: npm run build, cargo build --release --example record, bench/.venv with py-spy
// (node bench/run.mjs sets it up, or: python3 -m venv bench/.venv && bench/.venv/bin/pip install py-spy).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const hz = Number(arg('hz', 100));
const seconds = Number(arg('seconds', 5));
const rounds = Number(arg('rounds', 3));
const slowdownSeconds = Number(arg('slowdown-seconds', 10));
const slowdownReps = Number(arg('slowdown-reps', 5));
const python = arg('python', path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3'));
const example = path.join(repo, 'target', 'release', 'examples', 'record');
const cli = path.join(repo, 'dist', 'cli', 'pyflame-ts.js');
const pyspy = path.join(repo, 'bench', '.venv', 'bin', 'py-spy');
for (const need of [example, cli, pyspy, python]) if (!existsSync(need)) throw new Error(`missing ${need}`);

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
// The CLI and the example refuse to pause their own parent's child: start the target detached
// from this process's child handling by going through setsid? Not needed: the profilers are
// separate processes, the target is this script's child, not theirs.

const SHORT = 1;
const runners = {
  'pyflame-ts core --native': async (secs) => {
    const r = await runMeasured(example, [pid, String(secs), String(1 / hz), '--native', '--threads']);
    return { samples: Number(/ticks (\d+)/.exec(r.err)?.[1] ?? NaN), cpu: r.cpu };
  },
  'pyflame-ts CLI --native': async (secs, out) => {
    const r = await runMeasured(process.execPath, [cli, 'record', '-p', pid, '--native', '--threads', '--hz', String(hz), '-s', String(secs), '-f', 'folded', '-o', out]);
    return { samples: sumFolded(readFileSync(out, 'utf8')), cpu: r.cpu };
  },
  'pyflame-ts core --blocking (no --native)': async (secs) => {
    const r = await runMeasured(example, [pid, String(secs), String(1 / hz), '--blocking', '--threads']);
    return { samples: Number(/ticks (\d+)/.exec(r.err)?.[1] ?? NaN), cpu: r.cpu };
  },
  'py-spy --native': async (secs, out) => {
    const r = await runMeasured(pyspy, ['record', '--native', '-r', String(hz), '-d', String(secs), '-f', 'raw', '-o', out, '-p', pid]);
    return { samples: existsSync(out) ? sumFolded(readFileSync(out, 'utf8')) : NaN, cpu: r.cpu };
  },
};
// Part 1, CPU per sample: a short and a long recording of each profiler in turn, every round.
const cpuResults = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
// Part 2, target slowdown: the target's own throughput while each --native profiler records,
// against the no-profiler windows just before and just after it (B P1 B P2 B P3 B ...), so a
// drift in the machine's load moves both sides of each ratio alike.
const slowdownNames = ['pyflame-ts core --native', 'pyflame-ts CLI --native', 'py-spy --native'];
const slowdown = Object.fromEntries(slowdownNames.map((k) => [k, []]));
const loads = [os.loadavg()];

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
  return { wall: (after.n - before.n) / wall, had: (after.n - before.n) / had };
}
// Measured window of a slowdown phase: past the profiler's start-up (attaching, reading
// symbols), ending before it stops.
const SKIP = 1.5;
const span = slowdownSeconds - SKIP - 1;
try {
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(runners)) {
      const out = path.join(dir, `${round}-${name.replace(/\W+/g, '_')}.txt`);
      const short = await run(SHORT, out);
      const long = await run(seconds, out);
      const perSample = (long.cpu - short.cpu) / (long.samples - short.samples);
      cpuResults[name].push({ samples: long.samples, perSample });
      process.stderr.write(`cpu round ${round} ${name}: ${long.samples} samples, ${long.cpu.toFixed(3)} s CPU, ${(1e6 * perSample).toFixed(0)} µs/sample (slope)\n`);
    }
  }
  loads.push(os.loadavg());
  for (let rep = 0; rep < slowdownReps; rep++) {
    let before = await throughputOver(SKIP, span);
    // A rotated order per repetition: no profiler always follows the same one.
    const order = slowdownNames.map((_, i) => slowdownNames[(i + rep) % slowdownNames.length]);
    for (const name of order) {
      const out = path.join(dir, `slow-${rep}-${name.replace(/\W+/g, '_')}.txt`);
      const [, during] = await Promise.all([runners[name](slowdownSeconds, out), throughputOver(SKIP, span)]);
      const after = await throughputOver(SKIP, span);
      const pct = (key) => 100 * (1 - during[key] / ((before[key] + after[key]) / 2));
      slowdown[name].push({ wall: pct('wall'), had: pct('had') });
      process.stderr.write(`slowdown rep ${rep} ${name}: ${during.wall.toFixed(2)} it/s between ${before.wall.toFixed(2)} and ${after.wall.toFixed(2)} without (${pct('wall').toFixed(1)} %); per second it had: ${during.had.toFixed(2)} between ${before.had.toFixed(2)} and ${after.had.toFixed(2)} (${pct('had').toFixed(1)} %)\n`);
      before = after;
    }
  }
  loads.push(os.loadavg());
} finally {
  process.kill(-target.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`# --native cost at ${hz} Hz, ${python} (${spawnSync(python, ['-V'], { encoding: 'utf8' }).stdout.trim()}), target bench/targets/native_zlib.py, ${new Date().toISOString()}`);
console.log(`load average (1, 5, 15 min): start ${fmtLoad(loads[0])}; after the CPU part ${fmtLoad(loads[1])}; end ${fmtLoad(loads[2])}; ${os.cpus().length} CPUs`);
console.log('');
console.log(`CPU per sample: ${rounds} rounds, median of slopes ${SHORT} s → ${seconds} s`);
console.log('| profiler | CPU per sample (µs) | per-round slopes | samples in the long run |');
console.log('|---|---:|---|---:|');
for (const [name, runs] of Object.entries(cpuResults)) {
  const slopes = runs.map((r) => 1e6 * r.perSample);
  console.log(`| ${name} | ${median(slopes).toFixed(0)} | ${slopes.map((x) => x.toFixed(0)).join(', ')} | ${median(runs.map((r) => r.samples))} |`);
}
const core = median(cpuResults['pyflame-ts core --native'].map((r) => r.perSample));
const spy = median(cpuResults['py-spy --native'].map((r) => r.perSample));
console.log(`py-spy --native ÷ pyflame-ts core --native, CPU per sample: ${(spy / core).toFixed(2)}×`);
console.log('');
console.log(`Target slowdown: ${slowdownReps} repetitions of ${slowdownSeconds} s recordings (throughput measured over ${span.toFixed(1)} s of each, from ${SKIP} s in), each against the no-profiler windows before and after it`);
console.log('| profiler | slowdown per second it had (median) | per repetition | wall-clock slowdown (median) | per repetition |');
console.log('|---|---:|---|---:|---|');
for (const [name, runs] of Object.entries(slowdown)) {
  const had = runs.map((r) => r.had);
  const wall = runs.map((r) => r.wall);
  console.log(`| ${name} | ${median(had).toFixed(1)} % | ${had.map((x) => x.toFixed(1)).join(', ')} | ${median(wall).toFixed(1)} % | ${wall.map((x) => x.toFixed(1)).join(', ')} |`);
}
