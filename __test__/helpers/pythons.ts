// Finds the Python interpreters installed on this machine, and starts Python programs
// for tests (waiting for their `ready` line, always killable).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export type PythonKind =
  | 'pyenv-shared'
  | 'pyenv-static'
  | 'debian-static'
  | 'system-shared'
  | 'system'
  /** Debian unstable's release build, run chrooted by a launcher of scripts/pythons/fetch.sh. */
  | 'sid-release'
  /** Debian unstable's debug build (`python3.Xd`, unstripped, bigger structures). */
  | 'sid-debug'
  /** Debian unstable's non-PIE build (`ET_EXEC` at a fixed address). */
  | 'sid-nopie'
  /** Built from Debian stable's source package with `--disable-gil` by scripts/pythons/fetch.sh. */
  | 'source-free-threaded'

export interface PythonInstall {
  /** Short unique name for test titles, e.g. `pyenv-3.12.1` or `debian-3.11`. */
  label: string
  /** Full version as the interpreter reports it, e.g. `3.12.1`. */
  version: string
  /** Absolute path of the executable (not resolved: a symlink stays a symlink). */
  path: string
  kind: PythonKind
  /** Built with `--disable-gil` (3.13t and later). */
  freeThreaded?: boolean
}

function pyenvRoot(): string {
  return process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv')
}

function pyenvVersionNames(): string[] {
  const names = new Set<string>()
  try {
    const out = execFileSync('pyenv', ['versions', '--bare'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
    for (const line of out.split('\n')) if (line.trim() && !line.includes('/')) names.add(line.trim())
  } catch {
    // pyenv not on PATH: the versions folder alone is enough.
  }
  try {
    for (const name of fs.readdirSync(path.join(pyenvRoot(), 'versions'))) names.add(name)
  } catch {
    // no pyenv at all
  }
  return [...names]
}

/** Asks the interpreter itself for its version (never trusts a file name). */
function reportedVersion(executable: string): string | undefined {
  try {
    const out = execFileSync(executable, ['-c', 'import sys; sys.stdout.write("%d.%d.%d" % sys.version_info[:3])'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    })
    return /^\d+\.\d+\.\d+$/.test(out) ? out : undefined
  } catch {
    return undefined
  }
}

/** True when the executable links a `libpython*.so` (a shared build). */
function linksLibpython(executable: string): boolean {
  try {
    const out = execFileSync('ldd', [fs.realpathSync(executable)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
    return /libpython\d/.test(out)
  } catch {
    return false
  }
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

let cached: PythonInstall[] | undefined

/** Every CPython found: pyenv versions, then `/usr/bin/python3*`; absent ones are skipped. */
export function findPythons(): PythonInstall[] {
  if (cached) return cached
  const found: PythonInstall[] = []
  const seenRealPaths = new Set<string>()

  const add = (executable: string, kind: (shared: boolean) => PythonKind, labelPrefix: string) => {
    if (!isExecutableFile(executable)) return
    const real = fs.realpathSync(executable)
    if (seenRealPaths.has(real)) return
    const version = reportedVersion(executable)
    if (!version) return
    seenRealPaths.add(real)
    found.push({ label: `${labelPrefix}-${version}`, version, path: executable, kind: kind(linksLibpython(executable)) })
  }

  const pyenvNames = pyenvVersionNames().sort(compareVersionNames)
  for (const name of pyenvNames) {
    const bin = path.join(pyenvRoot(), 'versions', name, 'bin')
    const candidates = ['python', 'python3', 'python2'].map((n) => path.join(bin, n))
    const executable = candidates.find(isExecutableFile)
    if (executable) add(executable, (shared) => (shared ? 'pyenv-shared' : 'pyenv-static'), 'pyenv')
  }

  let systemNames: string[] = []
  try {
    systemNames = fs.readdirSync('/usr/bin').filter((n) => /^python3(\.\d+)?t?$/.test(n))
  } catch {
    systemNames = []
  }
  // The most specific name first (python3.11 before python3) so the label carries it.
  systemNames.sort((a, b) => b.length - a.length || a.localeCompare(b))
  for (const name of systemNames) {
    const isDebian = fs.existsSync('/etc/debian_version')
    add(path.join('/usr/bin', name), (shared) => (shared ? 'system-shared' : isDebian ? 'debian-static' : 'system'), isDebian ? 'debian' : 'system')
  }

  cached = found
  return found
}

function compareVersionNames(a: string, b: string): number {
  const pa = a.split(/[.\-]/).map((p) => Number.parseInt(p, 10))
  const pb = b.split(/[.\-]/).map((p) => Number.parseInt(p, 10))
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d !== 0) return d
  }
  return a.localeCompare(b)
}

/** Where scripts/pythons/fetch.sh puts its launchers (`PYFLAME_TS_CACHE` moves the cache). */
export function newestPythonsDir(): string {
  return path.join(process.env.PYFLAME_TS_CACHE ?? '/var/cache/pyflame-ts', 'pythons', 'bin')
}

/** The launchers scripts/pythons/fetch.sh writes, with the shape each one runs. */
export const NEWEST_PYTHONS: ReadonlyArray<{ name: string; kind: PythonKind; label: (version: string) => string }> = [
  { name: 'python3.14', kind: 'sid-release', label: (v) => `sid-${v}` },
  { name: 'python3.14d', kind: 'sid-debug', label: (v) => `sid-${v}-debug` },
  { name: 'python3.14-nopie', kind: 'sid-nopie', label: (v) => `sid-${v}-nopie` },
  { name: 'python3.15', kind: 'sid-release', label: (v) => `sid-${v}` },
  { name: 'python3.15d', kind: 'sid-debug', label: (v) => `sid-${v}-debug` },
  { name: 'python3.15-nopie', kind: 'sid-nopie', label: (v) => `sid-${v}-nopie` },
  { name: 'python3.13t', kind: 'source-free-threaded', label: (v) => `source-${v}t` },
]

/** Version and `Py_GIL_DISABLED` as the interpreter reports them. */
function reportedBuild(executable: string): { version: string; freeThreaded: boolean } | undefined {
  try {
    const out = execFileSync(
      executable,
      ['-c', 'import sys, sysconfig; sys.stdout.write("%d.%d.%d %d" % (sys.version_info[:3] + (int(bool(sysconfig.get_config_var("Py_GIL_DISABLED"))),)))'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 },
    )
    const m = /^(\d+\.\d+\.\d+) ([01])$/.exec(out)
    return m ? { version: m[1], freeThreaded: m[2] === '1' } : undefined
  } catch {
    return undefined
  }
}

let newestCached: { found: PythonInstall[]; missing: string[] } | undefined

/**
 * The newest interpreters of scripts/pythons/fetch.sh (3.14 and 3.15 in release, debug and
 * non-PIE shapes, free-threaded 3.13t). `missing` names the launchers absent or not runnable
 * here, so tests can say what they skip.
 */
export function findNewestPythons(): { found: PythonInstall[]; missing: string[] } {
  if (newestCached) return newestCached
  const found: PythonInstall[] = []
  const missing: string[] = []
  for (const entry of NEWEST_PYTHONS) {
    const executable = path.join(newestPythonsDir(), entry.name)
    const build = isExecutableFile(executable) ? reportedBuild(executable) : undefined
    if (!build) {
      missing.push(entry.name)
      continue
    }
    found.push({ label: entry.label(build.version), version: build.version, path: executable, kind: entry.kind, freeThreaded: build.freeThreaded })
  }
  newestCached = { found, missing }
  return newestCached
}

/** `findPythons()` and then the newest interpreters of scripts/pythons/fetch.sh. */
export function findAllPythons(): PythonInstall[] {
  return [...findPythons(), ...findNewestPythons().found]
}

/** `[major, minor]` of a version string. */
export function majorMinor(version: string): [number, number] {
  const [major, minor] = version.split('.').map((p) => Number.parseInt(p, 10))
  return [major, minor]
}

export interface SpawnedPython {
  pid: number
  child: ChildProcess
  /** Everything the program wrote to stdout so far (the ready line included). */
  stdout(): string
  /** SIGKILLs the program and waits for it to be gone; safe to call twice. */
  kill(): Promise<void>
}

export interface SpawnPythonOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Give up waiting for `ready` after this long (a safety net, not an assertion). */
  readyTimeoutMs?: number
  /** Prefix of the stdout line that means "ready"; `ready` by default. */
  readyLine?: string
}

/**
 * Starts `python script ...args`, resolves once the program printed its `ready` line.
 * `python` may also be any command whose argv[0] is given (e.g. a C host); `script` may be ''.
 */
export function spawnPython(python: string, script: string, args: string[] = [], options: SpawnPythonOptions = {}): Promise<SpawnedPython> {
  const argv = script ? [script, ...args] : args
  const child = spawn(python, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let exited = false
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('exit', () => (exited = true))
  const kill = async () => {
    if (!exited) {
      child.kill('SIGKILL')
      await gone
    }
  }
  const readyLine = options.readyLine ?? 'ready'
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill().then(() => reject(new Error(`${python} ${argv.join(' ')} did not print "${readyLine}" in time; stderr: ${err}`)))
    }, options.readyTimeoutMs ?? 30_000)
    let ready = false
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (!ready && out.split('\n').some((line) => line.startsWith(readyLine))) {
        ready = true
        clearTimeout(timer)
        resolve({ pid: child.pid!, child, stdout: () => out, kill })
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('exit', (code, signal) => {
      if (!ready) {
        clearTimeout(timer)
        reject(new Error(`${python} ${argv.join(' ')} exited (${code ?? signal}) before "${readyLine}"; stderr: ${err}`))
      }
    })
  })
}
