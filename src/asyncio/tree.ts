// The text of `dump --async`: tasks as a tree of who awaits whom, like `python -m asyncio
// pstree`. Each task shows its coroutine stack, outermost first; the tasks it awaits hang
// below its innermost coroutine. Tasks that await each other in a circle cannot hang below
// anything: they are listed after the tree, with a note naming the circle.

import type { AsyncDumpResult, AsyncTaskInfo } from './dump'

/** Groups of tasks that await each other in a circle (each task awaits the next). */
export function findCycles(tasks: Pick<AsyncTaskInfo, 'id' | 'awaitedBy'>[]): string[][] {
  const ids = new Set(tasks.map((t) => t.id))
  // awaiter → awaited: follow the first awaiter of each task upwards.
  const parentOf = new Map<string, string>()
  for (const task of tasks) {
    const parent = task.awaitedBy.find((id) => ids.has(id))
    if (parent !== undefined) parentOf.set(task.id, parent)
  }
  const cycles: string[][] = []
  const done = new Set<string>()
  for (const task of tasks) {
    const path: string[] = []
    const onPath = new Map<string, number>()
    let current: string | undefined = task.id
    while (current !== undefined && !done.has(current) && !onPath.has(current)) {
      onPath.set(current, path.length)
      path.push(current)
      current = parentOf.get(current)
    }
    if (current !== undefined && onPath.has(current)) cycles.push(path.slice(onPath.get(current)!).reverse())
    for (const id of path) done.add(id)
  }
  return cycles
}

function taskState(task: AsyncTaskInfo, byId: Map<string, AsyncTaskInfo>): string {
  if (task.error) return `unreadable: ${task.error}`
  if (task.runningTid !== undefined) return `running on thread ${task.runningTid}`
  if (task.awaitsTask) return `waiting for task ${byId.get(task.awaitsTask)?.name ?? task.awaitsTask}`
  if (task.awaitsObject) return `waiting on ${task.awaitsObject}`
  return task.frames.length > 0 ? 'pending' : 'not started'
}

function frameText(frame: { name: string; filename: string; line: number }): string {
  return `${frame.name} ${frame.filename}:${frame.line}`
}

/** Escapes control characters so a hostile task name cannot rewrite the terminal. */
function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export function formatAsyncDump(result: AsyncDumpResult): string {
  let out = `Process ${result.pid}: ${safe(result.executable)}\nPython v${result.pythonVersion}\n`
  if (!result.asyncioLoaded) return out + '\nasyncio is not loaded in this process: no tasks.\n'
  if (result.tasks.length === 0) return out + '\nNo asyncio tasks.\n'
  const byId = new Map(result.tasks.map((t) => [t.id, t]))
  const children = new Map<string, AsyncTaskInfo[]>()
  for (const task of result.tasks) {
    for (const parent of task.awaitedBy) {
      if (!byId.has(parent)) continue
      const list = children.get(parent) ?? []
      list.push(task)
      children.set(parent, list)
    }
  }
  const lines: string[] = []
  const printed = new Set<string>()
  const emit = (task: AsyncTaskInfo, prefix: string, last: boolean, path: Set<string>) => {
    printed.add(task.id)
    lines.push(`${prefix}${last ? '└── ' : '├── '}(T) ${safe(task.name)} [${safe(taskState(task, byId))}]`)
    let indent = prefix + (last ? '    ' : '│   ')
    const kids = (children.get(task.id) ?? []).filter((k) => !path.has(k.id))
    for (const frame of task.frames) {
      lines.push(`${indent}└── ${safe(frameText(frame))}`)
      indent += '    '
    }
    const inner = new Set(path).add(task.id)
    kids.forEach((kid, i) => emit(kid, indent, i === kids.length - 1, inner))
  }
  const roots = result.tasks.filter((t) => !t.awaitedBy.some((id) => byId.has(id)))
  lines.push('')
  roots.forEach((root, i) => emit(root, '', i === roots.length - 1, new Set()))
  for (const cycle of result.cycles) {
    const names = cycle.map((id) => safe(byId.get(id)?.name ?? id))
    lines.push('', `Note: these tasks await each other in a cycle and can never finish: ${[...names, names[0]].join(' → ')}`)
    const first = byId.get(cycle[0])
    if (first && !printed.has(first.id)) emit(first, '', true, new Set())
  }
  return `${out}${lines.join('\n')}\n`
}
