// Figure 5: one-shot stack dump, end-to-end wall time (process start to exit) on a 50-frame target.
import path from 'node:path';
import { startTarget, sleep, runMeasured, repoDir, benchDir } from '../lib/process.mjs';
import { rotate } from '../lib/runner.mjs';
import { summarize } from '../lib/stats.mjs';

const TOOLS = [
  { id: 'pyflame-ts dump', ours: true, cmd: () => process.execPath, args: (pid) => [path.join(repoDir, 'dist/cli/pyflame-ts.js'), 'dump', '-p', pid] },
  { id: 'py-spy dump', ours: false, cmd: () => path.join(benchDir, '.venv/bin/py-spy'), args: (pid) => ['dump', '--pid', pid] },
  { id: 'austin -w', ours: false, cmd: () => path.join(benchDir, '.venv/bin/austin'), args: (pid) => ['-w', pid] },
];

export async function measureDump(ctx) {
  const reps = ctx.config.dumpReps;
  const python = ctx.pythons['3.12'];
  const t = startTarget(python.path, 'deep_busy.py', [50]);
  await t.ready;
  await sleep(300);
  ctx.log(`dump: Python ${python.version}, 50 frames`);
  const walls = Object.fromEntries(TOOLS.map((x) => [x.id, []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const tool of rotate(TOOLS, rep)) {
        try {
          const r = await runMeasured(tool.cmd(), tool.args(t.pid), { python: ctx.hostPython });
          if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.slice(-300)}`);
          if (!/descend/.test(r.stdout + r.stderr)) throw new Error('no stack in the output');
          walls[tool.id].push(r.wall);
        } catch (error) {
          ctx.log(`  ${tool.id}: ${error.message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    t.kill();
  }
  const rows = TOOLS.map((tool) => ({ tool: tool.id, ours: tool.ours, wallMs: summarize(walls[tool.id].map((w) => w * 1e3)) }));
  for (const row of rows) ctx.log(`  ${row.tool}: ${row.wallMs.median.toFixed(1)} ms`);
  return { python: python.version, rows };
}
