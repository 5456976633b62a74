// Clipanion's usage errors, said in one line that tells what to do: a mistyped command gets
// the real commands it is closest to (or the list of commands), a missing positional argument
// is named.

import { safeText } from './terminal-text'

/** What each command needs as positional arguments, when it needs any. */
const POSITIONALS: Record<string, string> = {
  diff: 'two profiles: pyflame-ts diff BEFORE AFTER (folded files, e.g. before.txt after.txt)',
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]
}

/** The commands closest to `typed` (at most 2 edits, or a prefix of it), nearest first. */
export function closestCommands(typed: string, commands: string[]): string[] {
  const scored = commands.map((command) => ({ command, d: command.startsWith(typed) && typed.length >= 2 ? 0 : distance(typed, command) }))
  return scored
    .filter((s) => s.d <= 2)
    .sort((a, b) => a.d - b.d)
    .map((s) => s.command)
}

/** One line for a usage error from clipanion, given the arguments and the real commands. */
export function explainUsageError(message: string, args: string[], commands: string[]): string {
  const first = message.trim().split('\n')[0].replace(/[.;:]+$/, '')
  const command = args.find((a) => !a.startsWith('-'))
  if (/^Command not found/.test(first)) {
    if (command === undefined) return `no command given: use one of ${commands.join(', ')}`
    const known = commands.includes(command)
    if (known) return `${first} for these options`
    const near = closestCommands(command, commands)
    const quoted = `"${safeText(command, 40)}"`
    return near.length > 0 ? `unknown command ${quoted}: did you mean ${near.join(' or ')}?` : `unknown command ${quoted}: the commands are ${commands.join(', ')}`
  }
  if (/^Not enough positional arguments/.test(first) && command !== undefined && POSITIONALS[command]) {
    return `${command} needs ${POSITIONALS[command]}`
  }
  return safeText(first, 200)
}
