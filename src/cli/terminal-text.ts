// Text from input (file contents, file names, arguments) quoted in a message printed to a
// terminal: control characters are shown escaped, never sent (a folded file holding
// `ESC [2J` or an OSC title sequence must not clear or retitle the user's terminal), and long
// quotes are cut.

/** C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is shown. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** `text` with control characters escaped (`\x1b`, `\u202e`), cut to `max` characters with `…`. */
export function safeText(text: string, max = Infinity): string {
  let escaped = text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
  // Line breaks inside a one-line message are escaped too.
  escaped = escaped.replace(/\n/g, '\\n').replace(/\t/g, '\\t')
  return escaped.length > max ? escaped.slice(0, max - 1) + '\u2026' : escaped
}

/** A whole message for the terminal: controls escaped, line breaks kept only between lines of our own. */
export function safeMessage(message: string): string {
  return message
    .split('\n')
    .map((line) => safeText(line))
    .join('\n')
}

/** Whether to write colour: a terminal on stdout, and NO_COLOR (https://no-color.org) unset or empty. */
export function colorsWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return stream.isTTY === true
}
