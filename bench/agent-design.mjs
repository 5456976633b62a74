#!/usr/bin/env node
// Why the agent samples every process on one thread: the CPU of one FleetRecording for N
// idle Python processes against N Recordings (one sampler thread each, what a Sampler per
// worker would do), at the same rate, interleaved in one run. Prints the CPU of each in
// percent of one core (the Node process's own user+system, start-up excluded).
//
//   node bench/agent-design.mjs [--processes=20] [--seconds=30] [--reps=2] [--hz=100]
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(path.join(root, 'binding.js'));
const option = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const count = option('processes', 20);
const seconds = option('seconds', 30);
const reps = option('reps', 2);
const interval = 1 / option('hz', 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const python = path.join(os.homedir(), '.pyenv/versions/3.12.1/bin/python3');

const targets = [];
for (let i = 0; i < count; i++) {
  const child = spawn(python, [path.join(root, '__test__/programs/sleeper.py')], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  targets.push(child);
}
process.on('exit', () => targets.forEach((t) => t.kill('SIGKILL')));

async function measure(start) {
  const stop = await start();
  await sleep(2000); // attach and warm caches
  const before = process.cpuUsage();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(before);
  await stop();
  return (100 * (used.user + used.system)) / 1e6 / seconds;
}

const fleet = async () => {
  const recording = new native.FleetRecording({ interval });
  const done = recording.run();
  await Promise.all(targets.map((t) => recording.attach(t.pid)));
  return async () => {
    recording.stop();
    await done;
  };
};
const separate = async () => {
  const recordings = targets.map((t) => new native.Recording({ pid: t.pid, interval }));
  const done = recordings.map((r) => r.run());
  return async () => {
    recordings.forEach((r) => r.stop());
    await Promise.all(done);
  };
};

const results = { fleet: [], separate: [] };
for (let rep = 0; rep < reps; rep++) {
  const order = rep % 2 === 0 ? ['fleet', 'separate'] : ['separate', 'fleet'];
  for (const name of order) results[name].push(await measure(name === 'fleet' ? fleet : separate));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      processes: count,
      hz: 1 / interval,
      seconds,
      cpuPercentOneThread: results.fleet.map((x) => Number(x.toFixed(2))),
      cpuPercentThreadPerProcess: results.separate.map((x) => Number(x.toFixed(2))),
      ratio: Number((median(results.separate) / median(results.fleet)).toFixed(2)),
      loadavg: os.loadavg().map((l) => Number(l.toFixed(1))),
    },
    null,
    2,
  ),
);
process.exit(0);
