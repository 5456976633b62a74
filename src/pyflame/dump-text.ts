// Pyflame's `-d` text: each thread as `<id>:` (`<id>*:` for the one holding the GIL), then its
// frames innermost first as `path:function:line`, threads separated by an empty line.

import type { DumpResult } from '../dump'

export function dumpText(result: DumpResult): string {
  return result.threads
    .map((thread) => {
      const id = thread.tid > 0 ? String(thread.tid) : thread.pythonThreadId
      let text = `${id}${thread.holdsGil ? '*' : ''}:\n`
      if (thread.error) text += `(failed) ${thread.error}\n`
      for (const frame of thread.frames) text += `${frame.filename}:${frame.name}:${frame.line}\n`
      return text
    })
    .join('\n')
}
