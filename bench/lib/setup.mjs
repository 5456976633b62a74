// Puts the peers into bench/.venv, builds the Rust example, and records machine and versions.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { benchDir, repoDir, capture } from './process.mjs';
import { exampleBinary } from './profilers.mjs';

const venv = path.join(benchDir, '.venv');
const venvBin = (name) => path.join(venv, 'bin', name);

function run(cmd, args, log) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw Object.assign(new Error(`${cmd} failed: ${(r.stderr || r.stdout).slice(-1000)}`), { code: 'ERR_BENCH_SETUP' });
  return r.stdout;
}

/** `austin --version` runs: austin-dist 4.0.0's binary needs glibc 2.38, so older systems get 3.7.0 (manylinux2010). */
function austinRuns() {
  return spawnSync(venvBin('austin'), ['--version'], { encoding: 'utf8' }).status === 0;
}

export function installPeers(hostPython, log) {
  if (!existsSync(venvBin('pip'))) run(hostPython, ['-m', 'venv', venv], log);
  if (!existsSync(venvBin('py-spy')) || !existsSync(venvBin('austin'))) {
    run(venvBin('pip'), ['install', '--quiet', 'py-spy', 'austin-dist'], log);
  }
  if (!austinRuns()) {
    log('austin from the newest austin-dist does not run here (glibc too old): installing austin-dist 3.7.0');
    run(venvBin('pip'), ['install', '--quiet', 'austin-dist==3.7.0'], log);
    if (!austinRuns()) throw Object.assign(new Error('austin does not run on this machine'), { code: 'ERR_BENCH_SETUP' });
  }
}

export function buildOurs(log, { skipBuild }) {
  if (!existsSync(path.join(repoDir, 'dist/cli/pyflame-ts.js'))) {
    throw Object.assign(new Error('dist/ is missing: run `npm run build` first'), { code: 'ERR_BENCH_SETUP' });
  }
  if (!skipBuild) {
    try {
      run('cargo', ['build', '--release', '--example', 'record', '--example', 'timer_floor', '-p', 'pyflame-core'], log);
    } catch (error) {
      if (!existsSync(exampleBinary)) throw error;
      log(`cargo build failed, using the existing ${exampleBinary}: ${error.message.split('\n')[0]}`);
    }
  }
}

export async function describeMachine(pythons) {
  const cpus = os.cpus();
  const pkg = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8'));
  const gitHead = await capture('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoDir });
  const gitDirty = await capture('git', ['status', '--porcelain', '--untracked-files=no', 'crates', 'src'], { cwd: repoDir });
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    loadBefore: os.loadavg(),
    node: process.version,
    pythons: Object.fromEntries(Object.entries(pythons).map(([k, v]) => [k, v.version])),
    versions: {
      'pyflame-ts': `${pkg.version} (git ${gitHead}${gitDirty ? ', core/src modified in the work tree' : ''})`,
      'py-spy': (await capture(venvBin('py-spy'), ['--version'])).replace(/^py-spy\s*/, ''),
      austin: (await capture(venvBin('austin'), ['--version'])).replace(/^austin\s*/, ''),
    },
  };
}

export async function pythonInfo(pythonPath) {
  const version = await capture(pythonPath, ['-c', 'import platform; print(platform.python_version())']);
  if (!/^\d+\.\d+/.test(version)) throw Object.assign(new Error(`${pythonPath} does not run`), { code: 'ERR_BENCH_SETUP' });
  return { path: pythonPath, version };
}
