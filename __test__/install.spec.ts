// Install without a compiler: packs pyflame-ts and this machine's platform package, installs the
// tarballs into an empty folder offline with no cargo/rustc/cc/gcc on PATH, then profiles a
// Python process with `npx pyflame-ts record`. Needs `npm run build` first (addon + dist/).

import test from 'ava'
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { findPythons, spawnPython, type SpawnedPython } from './helpers/pythons'

const ROOT = path.resolve(__dirname, '..')
const COMPILERS = ['cargo', 'rustc', 'cc', 'gcc', 'c++', 'g++', 'clang']

interface PackedTarball {
  name: string
  path: string
  size: number
  unpackedSize: number
  files: string[]
}

interface Fixture {
  work: string
  target: string
  packs: PackedTarball[]
  dependencyTarballs: string[]
  env: NodeJS.ProcessEnv
}

let fixture: Fixture

test.before(() => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-install-'))
  const packDir = path.join(work, 'packs')
  const packs = JSON.parse(
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack.mjs'), '--out', packDir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as PackedTarball[]
  const target = packs[1].name.replace('@pyflame-ts/binding-', '')
  fixture = {
    work,
    target,
    packs,
    dependencyTarballs: packRuntimeDependencies(path.join(work, 'deps')),
    env: scrubbedEnv(work),
  }
})

test.after.always(() => {
  if (fixture) fs.rmSync(fixture.work, { recursive: true, force: true })
})

test.serial('the scrubbed PATH has node and npm but no compiler', (t) => {
  for (const tool of ['node', 'npm', 'npx']) t.is(run('sh', ['-c', `command -v ${tool}`]).status, 0, tool)
  for (const tool of COMPILERS) {
    const found = run('sh', ['-c', `command -v ${tool}`])
    t.not(found.status, 0, `${tool} is reachable: ${found.stdout}`)
  }
})

test.serial('the tarballs hold only compiled JS, the loader, the addon and docs', (t) => {
  const [main, platform] = fixture.packs
  for (const pack of fixture.packs) t.log(`${path.basename(pack.path)}: ${pack.size} B packed, ${pack.unpackedSize} B unpacked`)

  t.is(main.name, 'pyflame-ts')
  const stray = main.files.filter((file) => !/^(dist\/.+\.(js|d\.ts)|binding\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/.test(file))
  t.deepEqual(stray, [], 'no Rust sources, tests, maps or build outputs in the main package')
  t.true(main.files.includes('binding.js'))
  for (const [bin, file] of Object.entries(readJson(path.join(ROOT, 'package.json')).bin ?? {})) {
    t.true(main.files.includes(path.normalize(file)), `bin ${bin} -> ${file} is not in the package`)
  }

  t.is(platform.name, `@pyflame-ts/binding-${fixture.target}`)
  t.deepEqual(platform.files, ['LICENSE', 'README.md', 'package.json', `pyflame.${fixture.target}.node`])
})

test.serial('the glibc addon needs nothing newer than glibc 2.17', (t) => {
  if (!fixture.target.endsWith('-gnu')) return t.pass('musl addon: no glibc symbol versions')
  const addon = path.join(ROOT, `pyflame.${fixture.target}.node`)
  // Uses the real PATH: readelf is a build-machine tool, not something the user needs.
  const check = spawnSync('sh', [path.join(ROOT, 'scripts', 'check-glibc.sh'), '--max', '2.17', addon], { encoding: 'utf8' })
  t.log(`${path.basename(addon)} needs ${check.stdout.trim()}`)
  t.is(check.status, 0, `${check.stderr.trim()}: build it with \`npm run build\` (glibc 2.17 cross toolchain), not build:debug or a plain napi build`)
})

test.serial('installs offline without a compiler and `npx pyflame-ts record` profiles Python', async (t) => {
  const app = path.join(fixture.work, 'app')
  fs.mkdirSync(app)
  const tarballs = [...fixture.packs.map((pack) => pack.path), ...fixture.dependencyTarballs]
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], app)
  t.is(install.status, 0, install.stderr)

  const version = run('npx', ['pyflame-ts', '--version'], app)
  t.is(version.status, 0, version.stderr)
  t.is(version.stdout.trim(), readJson(path.join(ROOT, 'package.json')).version)

  const python = await startPython(fixture.work)
  try {
    const record = run('npx', ['pyflame-ts', 'record', '-p', String(python.pid), '-s', '1', '-o', 'out.folded'], app)
    t.is(record.status, 0, record.stderr)
    const folded = fs.readFileSync(path.join(app, 'out.folded'), 'utf8')
    const stacks = folded.split('\n').filter((line) => line.includes('install_probe_leaf'))
    t.true(stacks.length > 0, `no sample in install_probe_leaf:\n${folded}`)
    // Pyflame's order: root frame first, so the caller precedes the leaf on each line.
    for (const stack of stacks) t.regex(stack, /install_probe_root:\d+;.*install_probe_leaf:\d+ \d+$/)
  } finally {
    await python.kill()
  }
})

test.serial('without its platform package the addon fails to load with ERR_NATIVE_BINDING naming it', (t) => {
  const app = path.join(fixture.work, 'app-without-addon')
  fs.mkdirSync(app)
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', fixture.packs[0].path, ...fixture.dependencyTarballs], app)
  t.is(install.status, 0, install.stderr)

  const error = loadNativeIn(app)
  t.is(error.code, 'ERR_NATIVE_BINDING')
  t.true(error.message.includes(`npm install @pyflame-ts/binding-${fixture.target}@`), error.message)
  // Installed from a locally packed tarball: it names both tarballs, as pack:local names them.
  const names = fixture.packs.map((pack) => path.basename(pack.path))
  t.true(error.message.includes(`npm install ./${names[0]} ./${names[1]}`), `${error.message}\n${names.join(' ')}`)
})

test.serial('on macOS and Windows the addon refuses to load: pyflame-ts is Linux-only', (t) => {
  const app = path.join(fixture.work, 'app')
  for (const platform of ['darwin', 'win32']) {
    const error = loadNativeIn(app, platform)
    t.is(error.code, 'ERR_NATIVE_BINDING')
    t.true(error.message.startsWith('pyflame-ts is Linux-only: it reads /proc and uses ptrace'), error.message)
  }
})

/** Runs a tool with the scrubbed environment (no compiler on PATH, npm offline). */
function run(command: string, args: string[], cwd = fixture.work): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: fixture.env, encoding: 'utf8', timeout: 120_000 })
}

/** Uses the installed package's addon (as a library user would), optionally posing as another OS. */
function loadNativeIn(app: string, platform?: string): { code?: string; message: string } {
  const pose = platform ? `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });` : ''
  const script =
    `${pose} const { native } = require('pyflame-ts/dist/native.js');` +
    `try { native.coreVersion(); console.log(JSON.stringify({ message: 'loaded' })) }` +
    `catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
  const result = run('node', ['-e', script], app)
  if (result.status !== 0) throw new Error(`node -e failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as { code?: string; message: string }
}

/**
 * The environment of a host with Node but no toolchain: PATH is a folder of symlinks to node,
 * npm, npx and sh only; npm works offline from an empty cache, so every package it installs
 * comes from the tarballs given to it.
 */
function scrubbedEnv(work: string): NodeJS.ProcessEnv {
  const bin = path.join(work, 'bin')
  fs.mkdirSync(bin)
  const tools: Record<string, string> = { node: process.execPath, sh: '/bin/sh' }
  for (const tool of ['npm', 'npx']) tools[tool] = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim()
  for (const [tool, target] of Object.entries(tools)) fs.symlinkSync(target, path.join(bin, tool))
  return {
    HOME: os.homedir(),
    PATH: bin,
    LANG: 'C.UTF-8',
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  }
}

/** Packs pyflame-ts's runtime dependencies (the installed versions, transitively) from node_modules. */
function packRuntimeDependencies(out: string): string[] {
  fs.mkdirSync(out, { recursive: true })
  const dirs = new Set<string>()
  const queue = [ROOT]
  while (queue.length > 0) {
    const dir = queue.shift()!
    for (const name of Object.keys(readJson(path.join(dir, 'package.json')).dependencies ?? {})) {
      const depDir = resolvePackageDir(name, dir)
      if (!dirs.has(depDir)) {
        dirs.add(depDir)
        queue.push(depDir)
      }
    }
  }
  if (dirs.size === 0) return []
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out, ...dirs], {
      cwd: out,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { filename: string }[]
  return packed.map((pack) => path.join(out, pack.filename))
}

/** Node's lookup: `node_modules/<name>` in `from` or the nearest folder above it. */
function resolvePackageDir(name: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name)
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate
    if (path.dirname(dir) === dir) throw new Error(`dependency ${name} of ${from} is not installed: run npm ci`)
  }
}

function readJson(file: string): { version: string; bin?: Record<string, string>; dependencies?: Record<string, string> } {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

/** A Python with a known call chain, started and ready to be sampled (the newest shared-libpython build when there is one). */
function startPython(work: string): Promise<SpawnedPython> {
  const pythons = findPythons()
  const python = [...pythons].reverse().find((install) => install.kind === 'pyenv-shared') ?? pythons[0]
  if (!python) throw new Error('no Python interpreter found (pyenv or /usr/bin/python3)')
  const program = path.join(work, 'install_probe.py')
  fs.writeFileSync(
    program,
    [
      'import sys',
      'def install_probe_leaf():',
      '    total = 0',
      '    for i in range(20000):',
      '        total += i * i',
      '    return total',
      'def install_probe_root():',
      '    while True:',
      '        install_probe_leaf()',
      'sys.stdout.write("ready\\n")',
      'sys.stdout.flush()',
      'install_probe_root()',
      '',
    ].join('\n'),
  )
  return spawnPython(python.path, program)
}
