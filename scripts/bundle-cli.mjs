#!/usr/bin/env node
// Bundles the command-line programs (run after tsc by `npm run build:ts`; replaces tsc's files
// of the same names in dist/cli/).
//
// Start-up is part of the product, and Node spends 0.5–1.5 ms of CPU per CommonJS file it
// resolves, reads and wraps (clipanion alone is 21 files): bench/startup.mjs measures it.
// Each program below becomes one file. `pyflame-ts` is split, and a process loads the entry
// and at most one of the others:
//   dist/cli/pyflame-ts.js        the entry: `--version` and reading a plain `dump -p PID` (no clipanion)
//   dist/cli/dump-main.js         that dump: the addon, the reader, the error lines
//   dist/cli/build-cli-record.js  `record`, through clipanion, with record's code only
//                                 (src/cli/command-modules.ts cut to record)
//   dist/cli/build-cli.js         any other command line (the long-running commands, help, a
//                                 typo): every command
// Code inside a bundle that a command loads with `import()` or `require()` (writers, the report,
// the asyncio readers, ...) is parsed with the bundle but runs only when used; packages other
// than clipanion still load from node_modules, and only when used.
//
// A module copied into two bundles would exist twice in a process loading both (two
// PyflameError classes, and `instanceof` fails), so the entry may hold only stateless modules
// (ENTRY_ONLY); the build fails otherwise. dist/cli/bundles.json lists the sources in each
// file, for __test__/startup-modules.spec.ts (not packed: the package ships .js and .d.ts).

import * as esbuild from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outDir = path.join(root, 'dist', 'cli')

/** The commands of `pyflame-ts`, read from their map (one `name: () => import('../commands/file')` a line). */
const COMMAND_MAP = 'src/cli/command-modules.ts'
const COMMANDS = [...fs.readFileSync(path.join(root, COMMAND_MAP), 'utf8').matchAll(/^\s+(\w+): \(\) => import\('(\.\.\/commands\/[\w-]+)'\),$/gm)].map((m) => ({ name: m[1], module: m[2] }))
/**
 * Commands with a clipanion bundle of their own: the one-shot ones whose start-up is measured.
 * (Each such bundle holds clipanion again: the long-running commands share build-cli.js, and
 * `dump` mostly takes the fast path.)
 */
const OWN_BUNDLE = ['record']
const ownBundle = COMMANDS.filter((command) => OWN_BUNDLE.includes(command.name))
if (ownBundle.length !== OWN_BUNDLE.length) throw new Error(`read ${COMMANDS.length} commands from ${COMMAND_MAP}: keep it one \`name: () => import('../commands/file'),\` a line`)

/**
 * Each bundle: its source, the modules it leaves as files of their own (`./name.js` in
 * dist/cli/), and modules it replaces by generated text.
 */
const BUNDLES = [
  {
    source: 'src/cli/pyflame-ts.ts',
    separate: ['src/cli/dump-main.ts'],
    // Its `./build-cli` picks a bundle at run time: the command's own when the first argument
    // names a command that has one, else the one with every command.
    replace: {
      'src/cli/build-cli.ts': [
        `const ONE = new Set(${JSON.stringify(OWN_BUNDLE)})`,
        'exports.runCommands = (args, suggested) => {',
        '  const file = ONE.has(args[0]) ? `./build-cli-${args[0]}.js` : "./build-cli.js"',
        '  return require(file).runCommands(args, suggested)',
        '}',
      ].join('\n'),
    },
  },
  { source: 'src/cli/dump-main.ts', out: 'dump-main' },
  { source: 'src/cli/build-cli.ts', out: 'build-cli' },
  ...ownBundle.map((command) => ({
    source: 'src/cli/build-cli.ts',
    out: `build-cli-${command.name}`,
    replace: { [COMMAND_MAP]: `export const COMMANDS = { ${command.name}: () => import('${command.module}') }` },
  })),
  { source: 'src/cli/pyflame.ts' },
]
/** What the entry of `pyflame-ts` may hold: modules without state, harmless to have twice. */
const ENTRY_ONLY = ['src/cli/pyflame-ts.ts', 'src/cli/fast-dump.ts', 'src/version.ts', 'generated:src/cli/build-cli.ts']
/** Packages bundled (the CLI parser runs on every command but a plain dump); others load from node_modules. */
const BUNDLED_PACKAGES = new Set(['clipanion', 'typanion'])
/** Files at the package root that sources require as `../name`; kept as files, found from dist/cli/. */
const ROOT_FILES = new Set(['binding.js', 'package.json'])

function resolver({ separate = [], replace = {} }) {
  return {
    name: 'pyflame-cli-files',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = path.resolve(args.resolveDir, args.path)
        if (path.dirname(file) === root && ROOT_FILES.has(path.basename(file))) {
          return { path: path.relative(outDir, file), external: true }
        }
        const source = path.relative(root, file).replace(/(\.ts)?$/, '.ts')
        if (separate.includes(source)) return { path: `./${path.basename(source, '.ts')}.js`, external: true }
        if (Object.hasOwn(replace, source)) return { path: source, namespace: 'generated' }
        return undefined
      })
      build.onLoad({ filter: /.*/, namespace: 'generated' }, (args) => ({
        contents: replace[args.path],
        loader: 'ts',
        resolveDir: path.join(root, path.dirname(args.path)),
      }))
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]
        return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true }
      })
    },
  }
}

const contents = {}
for (const bundle of BUNDLES) {
  const outfile = path.join(outDir, `${bundle.out ?? path.basename(bundle.source, '.ts')}.js`)
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [bundle.source],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // `import()` as `require` in a promise: Node's `import()` of a CommonJS file starts its ES
    // module loader and lexes the file for its exports (about 10 ms here).
    supported: { 'dynamic-import': false },
    metafile: true,
    plugins: [resolver(bundle)],
    logLevel: 'warning',
    legalComments: 'none',
  })
  const inputs = Object.keys(result.metafile.inputs).sort()
  contents[path.relative(root, outfile)] = inputs
  if (bundle.separate) {
    const extra = inputs.filter((input) => !ENTRY_ONLY.includes(input))
    if (extra.length > 0) throw new Error(`${bundle.source} would bundle ${extra.join(', ')}: load it from a separate bundle (see ENTRY_ONLY)`)
  }
}
fs.writeFileSync(path.join(outDir, 'bundles.json'), JSON.stringify(contents, null, 2) + '\n')
