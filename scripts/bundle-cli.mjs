#!/usr/bin/env node
// Bundles the command-line programs (run after tsc by `npm run build:ts`; replaces tsc's files
// of the same names in dist/cli/).
//
// Start-up is part of the product, and Node spends about a millisecond of CPU per CommonJS file
// it resolves, reads and wraps (clipanion alone is 15 files): bench/startup.mjs measures it.
// Each program below becomes one file. `pyflame-ts` is split in three, and a process loads
// the entry and at most one of the other two:
//   dist/cli/pyflame-ts.js  the entry: `--version` and reading a plain `dump -p PID` (no clipanion)
//   dist/cli/dump-main.js   that dump: the addon, the reader, the error lines
//   dist/cli/build-cli.js   every other command line, through clipanion
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

/** Each bundle: its source, and the modules it leaves as files of their own (`./name` in dist/cli/). */
const BUNDLES = [
  { source: 'src/cli/pyflame-ts.ts', separate: ['src/cli/dump-main.ts', 'src/cli/build-cli.ts'] },
  { source: 'src/cli/dump-main.ts', separate: [] },
  { source: 'src/cli/build-cli.ts', separate: [] },
  { source: 'src/cli/pyflame.ts', separate: [] },
]
/** What the entry of `pyflame-ts` may hold: modules without state, harmless to have twice. */
const ENTRY_ONLY = ['src/cli/pyflame-ts.ts', 'src/cli/fast-dump.ts', 'src/version.ts']
/** Packages bundled (the CLI parser runs on every command but a plain dump); others load from node_modules. */
const BUNDLED_PACKAGES = new Set(['clipanion', 'typanion'])
/** Files at the package root that sources require as `../name`; kept as files, found from dist/cli/. */
const ROOT_FILES = new Set(['binding.js', 'package.json'])

function resolver(separate) {
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
        return undefined
      })
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]
        return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true }
      })
    },
  }
}

const contents = {}
for (const bundle of BUNDLES) {
  const outfile = path.join(outDir, `${path.basename(bundle.source, '.ts')}.js`)
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
    plugins: [resolver(bundle.separate)],
    logLevel: 'warning',
    legalComments: 'none',
  })
  const inputs = Object.keys(result.metafile.inputs).sort()
  contents[path.relative(root, outfile)] = inputs
  if (bundle.separate.length > 0) {
    const extra = inputs.filter((input) => !ENTRY_ONLY.includes(input))
    if (extra.length > 0) throw new Error(`${bundle.source} would bundle ${extra.join(', ')}: load it from a separate bundle (see ENTRY_ONLY)`)
  }
}
fs.writeFileSync(path.join(outDir, 'bundles.json'), JSON.stringify(contents, null, 2) + '\n')
