// `pyflame-ts dump -p PID` without clipanion: building its CLI costs more CPU than the dump
// itself (bench/startup.mjs). Only the plain spellings of dump's options are read here: any
// other argument (help, an unknown, repeated or bundled option, a missing value, `--`) returns
// undefined and the command goes to clipanion, whose help and usage errors stay the only ones.
// __test__/startup-modules.spec.ts checks that both readers agree on every form read here.

import type { DumpCommandOptions } from '../commands/dump-run'

type Flag = 'json' | 'locals' | 'subprocesses' | 'async' | 'nonblocking' | 'native'

const FLAGS: Record<string, Flag> = {
  '--json': 'json',
  '-l': 'locals',
  '--locals': 'locals',
  '--subprocesses': 'subprocesses',
  '--async': 'async',
  '--nonblocking': 'nonblocking',
  '--native': 'native',
}
const VALUES: Record<string, 'pid' | 'pythonVersion'> = { '-p': 'pid', '--pid': 'pid', '--python-version': 'pythonVersion' }

/** dump's options when `args` (after `pyflame-ts`) spell them plainly, else undefined. */
export function plainDumpOptions(args: string[]): DumpCommandOptions | undefined {
  if (args[0] !== 'dump') return undefined
  const options: DumpCommandOptions = { pid: undefined, json: false, locals: false, subprocesses: false, async: false, nonblocking: false, native: false, pythonVersion: undefined }
  const seen = new Set<string>()
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1
    const name = equals > 0 ? arg.slice(0, equals) : arg
    if (Object.hasOwn(FLAGS, name) && equals < 0) {
      if (seen.has(FLAGS[name])) return undefined
      seen.add(FLAGS[name])
      options[FLAGS[name]] = true
    } else if (Object.hasOwn(VALUES, name)) {
      const value = equals > 0 ? arg.slice(equals + 1) : args[++i]
      if (value === undefined || value === '' || (equals < 0 && value.startsWith('-')) || seen.has(VALUES[name])) return undefined
      seen.add(VALUES[name])
      options[VALUES[name]] = value
    } else if (!arg.startsWith('-') && !seen.has('pid')) {
      // dump's positional PID (`pyflame-ts dump 1234`)
      seen.add('pid')
      options.pid = arg
    } else {
      return undefined
    }
  }
  return options
}
