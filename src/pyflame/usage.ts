// The `pyflame` front's usage and version texts, shaped like Pyflame 1.6's so scripts and
// people that read them keep working.

import { packageVersion } from '../version'

export const USAGE_LINES = 'Usage: pyflame [options] [-p] PID\n       pyflame [options] -t command arg1 arg2...\n'

export const HELP = `${USAGE_LINES}
Common Options:
  --threads                Sample every thread, not only the one holding the GIL
  -d, --dump               Print the stack of every thread once (implies --threads)
  -h, --help               Show this help
  -n, --no-line-numbers    Write path:function, without the line number
  -o, --output=PATH        Write the profile to PATH instead of stdout
  -p, --pid=PID            The process to sample
  -r, --rate=RATE          Seconds between samples (default 0.01)
  -s, --seconds=SECS       How long to sample, in seconds (default 1; 0 = one sample)
  -t, --trace              Run the command that follows and sample it until it exits
  -v, --version            Show the version and the Python ABIs this build reads
  -x, --exclude-idle       Leave out the (idle) samples

Advanced Options:
  --abi                    Read the target as this Python ABI, e.g. 311 (see -v for the list)
  --flamechart             Write each sample with its timestamp, for flame charts

This is the Pyflame-compatible front of pyflame-ts; \`pyflame-ts record --help\` shows the
modern front (flame graph SVG, speedscope, Chrome trace, pprof, subprocesses).
`

/** Pyflame's build string: `pyflame <version> <os> <cpu>`. */
export function buildString(): string {
  return `pyflame ${packageVersion()} ${process.platform} ${machineName(process.arch)}`
}

/** Pyflame's `-v` line: the build string and the ABIs it reads, e.g. `(ABI list: 27 36 311)`. */
export function versionLine(abis: readonly string[]): string {
  return `${buildString()} (ABI list: ${abis.join(' ')})`
}

/** uname's machine name for Node's arch (Pyflame printed the former). */
function machineName(arch: string): string {
  const names: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l' }
  return names[arch] ?? arch
}
