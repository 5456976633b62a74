#!/usr/bin/env node
// Packs what `npm publish` would publish for this machine: the root package `pyflame-ts` and the
// platform package holding this machine's addon (`npm/<target>` + `pyflame.<target>.node`).
// The platform package is staged in a temporary folder, so nothing is copied into the checkout.
// Prints a JSON array with each tarball's path, size and file list.
//
//   node scripts/pack.mjs [--out DIR] [--target linux-x64-gnu]

import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function option(name, fallback) {
  const index = process.argv.indexOf(name)
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}

/** Same rule as the generated loader: glibc reports its version in the process report, musl does not. */
function hostTarget() {
  const libc = process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'
  return `${process.platform}-${process.arch}-${libc}`
}

function fail(message) {
  process.stderr.write(`pack: ${message}\n`)
  process.exit(1)
}

/** `npm pack` of one folder into `out`; scripts off, so packing never builds or publishes anything. */
function npmPack(folder, out) {
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
    cwd: folder,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [result] = JSON.parse(json)
  return {
    name: result.name,
    path: path.join(out, result.filename),
    size: result.size,
    unpackedSize: result.unpackedSize,
    files: result.files.map((file) => file.path).sort(),
  }
}

// Compiled files in dist/ whose TypeScript source in src/ is gone (the command-line bundles of
// scripts/bundle-cli.mjs, listed in dist/cli/bundles.json, are made from several sources).
function staleDistFiles(dist, src) {
  const bundlesFile = path.join(dist, 'cli', 'bundles.json')
  const bundles = fs.existsSync(bundlesFile) ? Object.keys(JSON.parse(fs.readFileSync(bundlesFile, 'utf8'))) : []
  return fs
    .readdirSync(dist, { recursive: true })
    .filter((file) => /\.(d\.ts|js)$/.test(file))
    .filter((file) => !bundles.includes(`dist/${file}`))
    .filter((file) => !fs.existsSync(path.join(src, file.replace(/\.(d\.ts|js)$/, '.ts'))))
    .map((file) => `dist/${file}`)
}

const out = path.resolve(option('--out', path.join(root, 'artifacts', 'packs')))
const target = option('--target', hostTarget())
const packageDir = path.join(root, 'npm', target)
const addon = path.join(root, `pyflame.${target}.node`)

if (!fs.existsSync(path.join(packageDir, 'package.json'))) fail(`no platform package npm/${target}: pyflame-ts ships none for this machine`)
if (!fs.existsSync(addon)) fail(`${path.basename(addon)} is missing: run \`npm run build\` first`)
if (!fs.existsSync(path.join(root, 'dist', 'cli', 'pyflame-ts.js'))) fail('dist/ is missing: run `npm run build` first')

// tsc never deletes outputs of removed sources, and `files` would ship them.
const stale = staleDistFiles(path.join(root, 'dist'), path.join(root, 'src'))
if (stale.length > 0) fail(`dist/ has files with no source in src/ (${stale.join(', ')}): rm -rf dist && npm run build:ts`)

fs.mkdirSync(out, { recursive: true })
const staging = fs.mkdtempSync(path.join(os.tmpdir(), `pyflame-pack-${target}-`))
try {
  for (const file of ['package.json', 'README.md']) fs.copyFileSync(path.join(packageDir, file), path.join(staging, file))
  fs.copyFileSync(path.join(root, 'LICENSE'), path.join(staging, 'LICENSE'))
  fs.copyFileSync(addon, path.join(staging, path.basename(addon)))
  const packs = [npmPack(root, out), npmPack(staging, out)]
  process.stdout.write(JSON.stringify(packs, null, 2) + '\n')
} finally {
  fs.rmSync(staging, { recursive: true, force: true })
}
