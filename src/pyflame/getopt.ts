// Pyflame read its command line with GNU getopt_long, so scripts rely on its conventions:
// bundled short flags (`-xn`), attached values (`-s10`, `--seconds=10`), a value taken from
// the next argument even when it starts with `-` (`-p -1`), unique prefixes of long options
// (`--thread`), operands anywhere (they are moved after the options), `--` ending options.
// Pyflame's `-t` is special: everything after it is the command to run.

export interface OptionSpec {
  /** The name the front switches on. */
  name: string
  short?: string
  long?: string
  takesValue: boolean
  /** Everything after this option is the command to run (Pyflame's `-t`). */
  endsOptions?: boolean
}

export type Token =
  | { kind: 'option'; name: string; value?: string; spelled: string }
  | { kind: 'operand'; value: string }
  /** The arguments after an `endsOptions` option. */
  | { kind: 'command'; argv: string[] }
  /** What getopt would have complained about, in its words. */
  | { kind: 'error'; message: string }

export function getopt(args: readonly string[], specs: readonly OptionSpec[]): Token[] {
  const tokens: Token[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') {
      for (const rest of args.slice(i + 1)) tokens.push({ kind: 'operand', value: rest })
      break
    }
    if (arg.startsWith('--')) {
      const [text, attached] = splitOnce(arg.slice(2), '=')
      const spec = findLong(text, specs)
      if (typeof spec === 'string') {
        tokens.push({ kind: 'error', message: spec.replace('%s', `--${text}`) })
        continue
      }
      const spelled = `--${spec.long}`
      if (!spec.takesValue) {
        if (attached !== undefined) tokens.push({ kind: 'error', message: `option '${spelled}' doesn't allow an argument` })
        else tokens.push({ kind: 'option', name: spec.name, spelled })
      } else if (attached !== undefined) {
        tokens.push({ kind: 'option', name: spec.name, value: attached, spelled })
      } else if (i + 1 < args.length) {
        tokens.push({ kind: 'option', name: spec.name, value: args[++i], spelled })
      } else {
        tokens.push({ kind: 'error', message: `option '${spelled}' requires an argument` })
      }
      if (spec.endsOptions) {
        tokens.push({ kind: 'command', argv: args.slice(i + 1) })
        break
      }
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      let ended = false
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]
        const spec = specs.find((s) => s.short === letter)
        if (!spec) {
          tokens.push({ kind: 'error', message: `invalid option -- '${letter}'` })
          continue
        }
        const spelled = `-${letter}`
        if (spec.takesValue) {
          if (j + 1 < arg.length) tokens.push({ kind: 'option', name: spec.name, value: arg.slice(j + 1), spelled })
          else if (i + 1 < args.length) tokens.push({ kind: 'option', name: spec.name, value: args[++i], spelled })
          else tokens.push({ kind: 'error', message: `option requires an argument -- '${letter}'` })
          break
        }
        tokens.push({ kind: 'option', name: spec.name, spelled })
        if (spec.endsOptions) {
          if (j + 1 < arg.length) tokens.push({ kind: 'error', message: `'${spelled}' must come last among the options, before the command (got '${arg}')` })
          ended = true
          break
        }
      }
      if (ended) {
        tokens.push({ kind: 'command', argv: args.slice(i + 1) })
        break
      }
      continue
    }
    tokens.push({ kind: 'operand', value: arg })
  }
  return tokens
}

/** The spec a long option names, exactly or by a unique prefix; else getopt's complaint (`%s` = the option). */
function findLong(text: string, specs: readonly OptionSpec[]): OptionSpec | string {
  const exact = specs.find((s) => s.long === text)
  if (exact) return exact
  const candidates = text.length > 0 ? specs.filter((s) => s.long?.startsWith(text)) : []
  if (candidates.length === 1) return candidates[0]
  if (candidates.length > 1) return `option '%s' is ambiguous; possibilities: ${candidates.map((s) => `'--${s.long}'`).join(' ')}`
  return `unrecognized option '%s'`
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}
