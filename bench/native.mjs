// --native cost, side by side with py-spy --native on the same target in one run:
// CPU per sample of each profiler (the slope between a short and a long recording, so start-up,
// attaching and reading symbols are left out) and the target's slowdown (its own throughput
// counter) during the long recording, at the same rate. Phases alternate (baseline, pyflame-ts core, pyflame-ts CLI, py-spy,
// baseline, ...) so that a change in machine load hits every profiler alike.
//
//   node bench/native.mjs [--hz 100] [--seconds 5] [--rounds 3] [--python PATH]
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
const python = arg('python', path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3'));
const example = path.join(repo, 'target', 'release', 'examples', 'record');
const cli = path.join(repo, 'dist', 'cli', 'pyflame-ts.js');
const pyspy = path.join(repo, 'bench', '.venv', 'bin', 'py-spy');
for (const need of [example, cli, pyspy, python]) if (!existsSync(need)) throw new Error(`missing ${need}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'pyflame-native-bench-'));
const counter = path.join(dir, 'counter');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const readCounter = () => {
  const [t, n] = readFileSync(counter, 'utf8').trim().split(' ').map(Number);
  return { t, n };
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
// Each phase: a short recording, then the long one whose window measures the target.
const phases = {
  baseline: async () => (await sleep(seconds * 1000), { samples: 0, cpu: 0, perSample: 0 }),
  ...Object.fromEntries(
    Object.entries(runners).map(([name, run]) => [
      name,
      async (out) => {
        const short = await run(SHORT, out);
        return { short, long: await run(seconds, out) };
      },
    ]),
  ),
};

const results = Object.fromEntries(Object.keys(phases).map((k) => [k, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(phases)) {
      const out = path.join(dir, `${round}-${name.replace(/\W+/g, '_')}.txt`);
      let res;
      let before;
      if (name === 'baseline') {
        before = readCounter();
        res = await run();
      } else {
        // the short run first; the counter window covers the long run only
        const short = await runners[name](SHORT, out);
        before = readCounter();
        const long = await runners[name](seconds, out);
        res = { samples: long.samples, cpu: long.cpu, perSample: (long.cpu - short.cpu) / (long.samples - short.samples) };
      }
      const after = readCounter();
      const throughput = (after.n - before.n) / (after.t - before.t);
      results[name].push({ ...res, throughput });
      process.stderr.write(`round ${round} ${name}: ${res.samples} samples, ${res.cpu.toFixed(3)} s CPU, ${(1e6 * res.perSample).toFixed(0)} µs/sample (slope), target ${throughput.toFixed(2)} it/s\n`);
    }
  }
} finally {
  process.kill(-target.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results.baseline.map((r) => r.throughput));
console.log(`# --native cost at ${hz} Hz, ${seconds} s per phase, ${rounds} rounds, ${python} (${spawnSync(python, ['-V'], { encoding: 'utf8' }).stdout.trim()}), target bench/targets/native_zlib.py`);
console.log(`| profiler | CPU per sample (µs, median of slopes ${SHORT} s → ${seconds} s) | samples in the long run | target slowdown (median) |`);
console.log('|---|---:|---:|---:|');
for (const [name, runs] of Object.entries(results)) {
  if (name === 'baseline') continue;
  const perSample = median(runs.map((r) => 1e6 * r.perSample));
  const slowdown = 100 * (1 - median(runs.map((r) => r.throughput)) / base);
  console.log(`| ${name} | ${perSample.toFixed(0)} | ${median(runs.map((r) => r.samples))} | ${slowdown.toFixed(1)} % |`);
}
console.log(`baseline target throughput: ${base.toFixed(2)} iterations/s`);
