// Preloaded with `node -r` by startup-modules.spec.ts: at exit, writes every module the process
// loaded (paths relative to the repository, then Node's own modules as `node:NAME`) to the file
// named by PYFLAME_TS_MODULES_OUT.
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..', '..')
process.on('exit', () => {
  const loaded = Object.keys(require.cache).map((file) => path.relative(root, file))
  const builtin = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`)
  fs.writeFileSync(process.env.PYFLAME_TS_MODULES_OUT, [...loaded, ...builtin].join('\n') + '\n')
})
