// Buffered, back-pressured output: text is gathered into ~256 KiB chunks, encoded once and
// handed to a stream (waiting for 'drain' when it is full) or, as text, to a callback or a
// plain writer, so memory stays bounded whatever the number of frames.

export type Output = NodeJS.WritableStream | { write(chunk: string): unknown } | ((chunk: string) => void)

const CHUNK = 256 * 1024

export class ChunkedWriter {
  private text = ''
  bytes = 0

  constructor(private readonly output: Output) {}

  write(text: string): void | Promise<void> {
    this.text += text
    if (this.text.length >= CHUNK) return this.flush()
  }

  async flush(): Promise<void> {
    if (this.text.length === 0) return
    const text = this.text
    this.text = ''
    const output = this.output
    if (typeof output === 'function' || !('once' in output)) {
      this.bytes += Buffer.byteLength(text)
      if (typeof output === 'function') output(text)
      else output.write(text)
      return
    }
    // A stream gets bytes: the text is encoded once, and its size is the buffer's.
    const bytes = Buffer.from(text)
    this.bytes += bytes.length
    const stream = output as NodeJS.WritableStream
    if (stream.write(bytes) === false) await new Promise<void>((resolve) => stream.once('drain', () => resolve()))
  }
}
