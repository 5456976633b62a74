// Spawning targets and profilers, and measuring a profiler's own CPU and memory.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const benchDir = path.resolve(here, '..');
export const repoDir = path.resolve(benchDir, '..');
export const targetsDir = path.join(benchDir, 'targets');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a Python target and resolves once it printed "ready" (its stacks are in place). */
export function startTarget(python, script, args = [], { stdinPipe = false } = {}) {
  const child = spawn(python, [path.join(targetsDir, script), ...args.map(String)], {
    stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`target ${script} exited early (${code})`)));
  });
  const rest = [];
  child.stdout.on('data', (chunk) => rest.push(chunk));
  return {
    child,
    pid: child.pid,
    ready,
    /** stdout written after "ready" */
    output: () => Buffer.concat(rest.map((c) => Buffer.from(c))).toString(),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Runs a command under bench/targets/rusage.py: resolves with its user/sys CPU seconds, max RSS,
 * wall time, exit status, stdout and stderr. `onStart(pid)` gets the command's pid (for RSS polling).
 */
export function runMeasured(command, args, { python, timeoutMs = 120_000, onStart, cwd = repoDir, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(targetsDir, 'rusage.py'), command, ...args.map(String)], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true, // own process group: a timeout kills the profiler too, not only the wrapper
    });
    const stdout = [];
    const stderr = [];
    let usage = '';
    child.stdout.on('data', (c) => stdout.push(c));
    child.stderr.on('data', (c) => stderr.push(c));
    child.stdio[3].on('data', (c) => (usage += c));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    if (onStart) setTimeout(() => onStart(child.pid), 0);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString();
      const err = Buffer.concat(stderr).toString();
      if (!usage) return reject(new Error(`no usage from ${command}: ${err.slice(-500)}`));
      const u = JSON.parse(usage);
      resolve({ ...u, cpu: u.user + u.sys, stdout: out, stderr: err });
    });
  });
}

/** Resident set size in KiB of pid and its descendants, from /proc (0 when gone). */
export function rssTreeKb(pid) {
  let total = 0;
  const seen = new Set();
  const visit = (p) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+)/.exec(status);
      if (m) total += Number(m[1]);
      for (const tid of safeList(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) children.split(/\s+/).map(Number).forEach(visit);
      }
    } catch {
      /* process ended */
    }
  };
  visit(pid);
  return total;
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs a short command and returns its trimmed stdout+stderr ('' on failure). */
export function capture(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (text += c));
    child.once('error', () => resolve(''));
    child.once('close', () => resolve(text.trim()));
  });
}
