// The live terminal for `top`: alternate screen, hidden cursor, raw keys — and putting all of
// it back exactly once, whatever ends the command (q, Ctrl-C, SIGTERM, an error, exit).

const ENTER_ALT_SCREEN = '\x1b[?1049h'
const LEAVE_ALT_SCREEN = '\x1b[?1049l'
const HIDE_CURSOR = '\x1b[?25l'
export const SHOW_CURSOR = '\x1b[?25h'
const HOME_AND_CLEAR = '\x1b[H\x1b[2J'

export class LiveTerminal {
  private active = false
  private readonly onExit = () => this.restore()

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly stdout: NodeJS.WriteStream,
  ) {}

  get rows(): number {
    return this.stdout.rows || 24
  }

  get columns(): number {
    return this.stdout.columns || 80
  }

  /** Switches to the alternate screen; keys go to `onKey` one at a time. */
  enter(onKey: (key: string) => void, onResize: () => void): void {
    this.active = true
    process.once('exit', this.onExit)
    this.stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR)
    if (this.stdin.isTTY) this.stdin.setRawMode(true)
    this.stdin.setEncoding('utf8')
    this.stdin.on('data', (chunk: string) => {
      for (const key of chunk) onKey(key)
    })
    this.stdin.resume()
    this.stdout.on('resize', onResize)
  }

  draw(lines: string[]): void {
    if (!this.active) return
    this.stdout.write(HOME_AND_CLEAR + lines.join('\r\n'))
  }

  /** Leaves the alternate screen, shows the cursor, ends raw mode; safe to call twice. */
  restore(): void {
    if (!this.active) return
    this.active = false
    process.removeListener('exit', this.onExit)
    if (this.stdin.isTTY) this.stdin.setRawMode(false)
    this.stdin.pause()
    this.stdin.removeAllListeners('data')
    this.stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR)
  }
}
