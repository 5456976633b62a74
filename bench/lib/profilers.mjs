// The profilers compared: how to run each one against a pid and how to read back its sample count
// and its stacks. Every profiler's stacks are parsed into [{ functions: [...root→leaf], count }].
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoDir, benchDir } from './process.mjs';

const venvBin = path.join(benchDir, '.venv', 'bin');
export const exampleBinary = path.join(repoDir, 'target', 'release', 'examples', 'record');
export const timerFloorBinary = path.join(repoDir, 'target', 'release', 'examples', 'timer_floor');
const cli = path.join(repoDir, 'dist', 'cli', 'pyflame-ts.js');
/** The launchers of scripts/pythons/fetch.sh (3.14, 3.15 run chrooted; 3.13t). */
export const newestPythonsDir = path.join(process.env.PYFLAME_TS_CACHE ?? '/var/cache/pyflame-ts', 'pythons', 'bin');

// folded "path:function:line;..." (pyflame-ts, austin) → function names
const colonFrames = (stack) =>
  stack.split(';').map((frame) => {
    const parts = frame.split(':');
    return parts.length >= 3 ? parts[parts.length - 2] : frame;
  });

function parseFolded(text, framesOf, skipPrefix = 0) {
  const stacks = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const count = Number(line.slice(space + 1));
    const stack = line.slice(0, space);
    if (!Number.isFinite(count)) continue;
    stacks.push({ functions: stack === '(idle)' ? ['(idle)'] : framesOf(stack).slice(skipPrefix), count });
  }
  return stacks;
}

const sumCounts = (stacks) => stacks.reduce((s, x) => s + x.count, 0);

/**
 * Each profiler: `command(opts)` → { cmd, args, outFile? }; `ticks(result, opts)` → sampling ticks
 * taken (one tick reads every sampled thread once); `stacks(result, opts)` → parsed stacks.
 * opts: { pid, seconds (null: until the target exits), hz, blocking, threads (target thread count
 * incl. main, or 0), out }.
 */
export const profilers = {
  'pyflame-ts': {
    label: 'pyflame-ts (CLI)',
    ours: true,
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads, out }) => ({
      cmd: process.execPath,
      args: [cli, 'record', '-p', pid, '-s', seconds ?? 'unlimited', '--hz', hz, '-f', 'folded', '-o', out,
        ...(threads ? ['--threads'] : []), ...(blocking ? ['--blocking'] : [])],
    }),
    stacks: (_r, { out }) => parseFolded(readFileSync(out, 'utf8'), colonFrames),
    // --threads writes every thread's stack per tick (idle threads kept)
    ticks(r, opts) {
      return sumCounts(this.stacks(r, opts)) / (opts.threads || 1);
    },
  },
  // The same CLI with the exact periodic timer of before the randomized one (`--periodic`).
  'pyflame-ts --periodic': {
    label: 'pyflame-ts (CLI), exact periodic sampling',
    ours: true,
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads, out }) => ({
      cmd: process.execPath,
      args: [cli, 'record', '-p', pid, '-s', seconds ?? 'unlimited', '--hz', hz, '-f', 'folded', '-o', out, '--periodic',
        ...(threads ? ['--threads'] : []), ...(blocking ? ['--blocking'] : [])],
    }),
    stacks: (_r, { out }) => parseFolded(readFileSync(out, 'utf8'), colonFrames),
    ticks(r, opts) {
      return sumCounts(this.stacks(r, opts)) / (opts.threads || 1);
    },
  },
  'pyflame-core': {
    label: 'pyflame-ts core (Rust example, no Node)',
    ours: true,
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads }) => ({
      cmd: exampleBinary,
      args: [pid, seconds, 1 / hz, ...(threads ? ['--threads'] : []), ...(blocking ? ['--blocking'] : [])],
    }),
    stacks: (r) => parseFolded(r.stdout, colonFrames),
    ticks: (r) => Number(/ticks (\d+)/.exec(r.stderr)?.[1] ?? NaN),
  },
  // The core with the exact periodic timer: the randomized timer's cost is the difference.
  'pyflame-core --periodic': {
    label: 'pyflame-ts core, exact periodic sampling',
    ours: true,
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads }) => ({
      cmd: exampleBinary,
      args: [pid, seconds, 1 / hz, '--periodic', ...(threads ? ['--threads'] : []), ...(blocking ? ['--blocking'] : [])],
    }),
    stacks: (r) => parseFolded(r.stdout, colonFrames),
    ticks: (r) => Number(/ticks (\d+)/.exec(r.stderr)?.[1] ?? NaN),
  },
  // Not a profiler: the sampler's timer alone, reading nothing. What waking up at the rate costs
  // this machine's kernel, paid by every profiler that sleeps between samples.
  'timer-floor': {
    label: 'timer only (no reads)',
    ours: false,
    baseline: true,
    blockingModes: [false],
    command: ({ seconds, hz }) => ({ cmd: timerFloorBinary, args: [seconds, 1 / hz] }),
    stacks: () => [],
    ticks: (r) => Number(/ticks (\d+)/.exec(r.stderr)?.[1] ?? NaN),
  },
  'py-spy': {
    label: 'py-spy',
    ours: false,
    // takes duration × rate samples, however long that takes
    stopsBySampleCount: true,
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads, out }) => ({
      cmd: path.join(venvBin, 'py-spy'),
      args: ['record', '-p', pid, ...(seconds == null ? [] : ['-d', Math.max(1, Math.round(seconds))]),
        '-r', Math.round(hz), '-f', 'raw', '-o', out,
        ...(threads ? ['--idle'] : []), ...(blocking ? [] : ['--nonblocking'])],
    }),
    // "func (file:line)" frames
    stacks: (_r, { out }) =>
      parseFolded(readFileSync(out, 'utf8'), (stack) => stack.split(';').map((f) => f.replace(/ \(.*\)$/, ''))),
    // "Samples: N" counts thread stacks; with --idle every thread is written each tick
    ticks: (r, { threads }) => Number(/Samples: (\d+)/.exec(r.stdout + r.stderr)?.[1] ?? NaN) / (threads || 1),
  },
  // CPython 3.15's own sampler, run inside the Debian unstable root by its launcher (C locale:
  // the root has no other); it reads 3.15 targets only.
  'cpython-sampler': {
    label: "CPython 3.15's profiling.sampling",
    ours: false,
    onlyPython: '3.15',
    blockingModes: [false, true],
    command: ({ pid, seconds, hz, blocking, threads, out }) => ({
      cmd: 'env',
      args: ['-u', 'LANG', 'LC_ALL=C', path.join(newestPythonsDir, 'python3.15'), '-m', 'profiling.sampling', 'attach',
        ...(seconds == null ? [] : ['-d', seconds]), '-r', Math.round(hz), ...(threads ? ['-a'] : []), ...(blocking ? ['--blocking'] : []),
        '--collapsed', '-o', out, pid],
    }),
    // "tid:N;file:function:line;... count"
    stacks: (_r, { out }) => parseFolded(readFileSync(out, 'utf8'), colonFrames, 1),
    // "Captured N samples": one per thread per tick with -a
    ticks: (r, { threads }) => Number(/Captured (\d+) samples/.exec(r.stdout + r.stderr)?.[1] ?? NaN) / (threads || 1),
  },
  austin: {
    label: 'austin',
    ours: false,
    blockingModes: [false],
    command: ({ pid, seconds, hz, out }) => ({
      cmd: path.join(venvBin, 'austin'),
      args: ['-p', pid, ...(seconds == null ? [] : ['-x', Math.max(1, Math.round(seconds))]), '-i', `${Math.max(1, Math.round(1e6 / hz))}us`, '-P', '-o', out],
    }),
    // "P<pid>;T<iid>:<tid>;file:qualname:line;... <µs>": one line per thread per tick
    stacks: (_r, { out }) =>
      parseFolded(readFileSync(out, 'utf8'), (stack) => colonFrames(stack).map((f) => f.replace(/^.*\./, '')), 2).map(
        (s) => ({ ...s, count: 1 }),
      ),
    ticks(_r, { out, threads }) {
      const m = /# errors: \d+\/(\d+)/.exec(readFileSync(out, 'utf8'));
      return Number(m?.[1] ?? NaN) / (threads || 1);
    },
  },
};

/** Display name of a profiler in a mode: "py-spy --nonblocking", "pyflame-ts --blocking"... */
export function modeName(id, blocking) {
  if (id === 'py-spy') return blocking ? 'py-spy (default, blocking)' : 'py-spy --nonblocking';
  if (id === 'austin') return 'austin';
  if (id === 'cpython-sampler') return blocking ? 'CPython 3.15 sampler --blocking' : 'CPython 3.15 sampler';
  return blocking ? `${id} --blocking` : id;
}
