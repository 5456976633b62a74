// Pyflame's `--abi`: a Python version written without the dot (`27`, `36`, `311`). The list
// of readable ABIs comes from the native core, so `-v`, `--abi` and the core never disagree.

import { native } from '../native'
import { LegacyFailure } from './failure'

/** The ABIs this build reads, in Pyflame's spelling: `['27', '36', ..., '313']`. */
export function supportedAbis(): string[] {
  return native.supportedPythonVersions().map((version) => version.replace('.', ''))
}

/** Turns `--abi` text into the `X.Y` version the core takes; an ABI it cannot read fails. */
export function parseAbi(text: string): string {
  const abis = supportedAbis()
  const spelled = text.trim().replace(/^(\d)\.(\d+)$/, '$1$2')
  if (abis.includes(spelled)) return `${spelled[0]}.${spelled.slice(1)}`
  throw new LegacyFailure(
    `Unknown or unsupported ABI version: ${text}`,
    `This pyflame reads the ABIs ${abis.join(', ')}: give the Python version without its dot (e.g. --abi 311 for Python 3.11), or leave --abi out to detect it.`,
    'ERR_INVALID_ARGUMENT',
  )
}
