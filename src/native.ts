// The only door to the native addon. The generated loader (`binding.js`) is rewritten on
// every build, so the checks that give users an actionable message live here instead.

import { PyflameError } from './errors'

type NativeBinding = typeof import('../binding')

/** Platform packages published for pyflame-ts (`npm/<key>`), as `napi.targets` in package.json. */
export const SUPPORTED_TARGETS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl'] as const

const PLATFORM_PACKAGE_SCOPE = '@pyflame-ts/binding'

/** `linux-<arch>-<gnu|musl>`: the suffix napi-rs gives the platform package of this machine. */
export function currentTarget(): string {
  // glibc reports its version in the process report; musl (Alpine) reports none.
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  const libc = report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
  return `${process.platform}-${process.arch}-${libc}`
}

function loadNative(): NativeBinding {
  if (process.platform !== 'linux') {
    throw new PyflameError(
      'ERR_NATIVE_BINDING',
      `pyflame-ts is Linux-only: it reads /proc and uses ptrace (this is ${process.platform}). ` +
        'Run it on the Linux host, VM or container where the Python process runs.',
    )
  }
  try {
    // From dist/native.js (and src/native.ts under tsx) this is the package root's loader.
    return require('../binding.js') as NativeBinding
  } catch (cause) {
    throw bindingLoadError(cause)
  }
}

function bindingLoadError(cause: unknown): PyflameError {
  const target = currentTarget()
  const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
  const supported = (SUPPORTED_TARGETS as readonly string[]).includes(target)
  const version = ownVersion()
  const advice = supported
    ? `Install the prebuilt addon: \`npm install ${PLATFORM_PACKAGE_SCOPE}-${target}@${version}\` ` +
      '(npm installs it with pyflame-ts from the registry unless optional dependencies were omitted: reinstall without --omit=optional). ' +
      `A pyflame-ts tarball packed locally (npm run pack:local) needs its platform tarball beside it: ` +
      `\`npm install ./pyflame-ts-${version}.tgz ./pyflame-ts-binding-${target}-${version}.tgz\`.`
    : `No prebuilt addon exists for ${target} (there are: ${SUPPORTED_TARGETS.join(', ')}); ` +
      'build one from a source checkout with `npm run build`.'
  return new PyflameError('ERR_NATIVE_BINDING', `could not load the native addon for ${target}. ${advice} (${reason})`, {
    cause,
  })
}

/** This package's version (for the exact platform package to install). */
function ownVersion(): string {
  try {
    return (require('../package.json') as { version: string }).version
  } catch {
    return 'latest'
  }
}

let loaded: NativeBinding | undefined

/**
 * The addon, loaded on first use rather than at import: `--help` and `--version` then work
 * anywhere, and a load failure surfaces inside a command, where the CLI prints it as one line.
 */
export const native: NativeBinding = new Proxy({} as NativeBinding, {
  get: (_target, key) => Reflect.get((loaded ??= loadNative()), key),
  has: (_target, key) => Reflect.has((loaded ??= loadNative()), key),
})
