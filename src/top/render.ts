// Lays out one `top` screen as plain lines: a summary header, then the function table.
// The same text serves the live terminal view and the plain snapshots printed to a pipe.

import type { FunctionStats } from './function-stats'
import { sortRows, type SortColumn } from './sort'

export interface ScreenInfo {
  pid: number
  /** Seconds between samples. */
  interval: number
  sortBy: SortColumn
  /** Terminal size; rows limits the table, columns truncates lines (undefined: no limit). */
  rows?: number
  columns?: number
  /** Show the key help line (only useful on a terminal). */
  keyHelp: boolean
}

const HEADERS: Array<[SortColumn | null, string, number]> = [
  ['own', '%Own', 7],
  ['total', '%Total', 8],
  ['ownTime', 'OwnTime', 9],
  ['totalTime', 'TotalTime', 10],
]

function percent(count: number, ticks: number): string {
  return ticks > 0 ? `${((100 * count) / ticks).toFixed(1)}%` : '0.0%'
}

function seconds(count: number, interval: number): string {
  return `${(count * interval).toFixed(2)}s`
}

/** ` (MainThread, worker-a, ...)`: the first few thread names, control characters replaced. */
function threadList(names: string[]): string {
  if (names.length === 0) return ''
  const shown = names.slice(0, MAX_THREAD_NAMES).map((n) => n.replace(/[\u0000-\u001f\u007f]/g, '?'))
  return ` (${shown.join(', ')}${names.length > MAX_THREAD_NAMES ? ', ...' : ''})`
}

const MAX_THREAD_NAMES = 5

export function renderScreen(stats: FunctionStats, info: ScreenInfo): string[] {
  const w = stats.lastWindow
  const gil = w.ticks > 0 ? (100 * (w.ticks - w.gilIdleTicks)) / w.ticks : 0
  const lines: string[] = []
  lines.push(
    `pyflame-ts top: process ${info.pid}${stats.pythonVersion ? ` (Python v${stats.pythonVersion})` : ''}, ` +
      `sampling every ${info.interval * 1000 >= 1 ? `${+(info.interval * 1000).toFixed(3)}ms` : `${info.interval}s`}`,
  )
  lines.push(
    `Samples: ${stats.totalTicks} total, ${w.ticks} last refresh | GIL: ${gil.toFixed(1)}% | Threads: ${w.threads}${threadList(w.threadNames)}` +
      `${w.processes > 1 ? ` | Processes: ${w.processes}` : ''}${w.errors > 0 ? ` | Errors: ${w.errors}` : ''}`,
  )
  if (info.keyHelp) lines.push('Sort: 1/o %Own  2/t %Total  3/O OwnTime  4/T TotalTime  q quit')
  lines.push('')
  lines.push(
    HEADERS.map(([column, title, width]) => (column === info.sortBy ? `${title}*` : title).padStart(width)).join('') + '  Function (filename:line)',
  )
  const room = info.rows !== undefined ? Math.max(0, info.rows - lines.length) : Infinity
  for (const row of sortRows(stats.all(), info.sortBy).slice(0, room)) {
    lines.push(
      percent(row.ownWindow, w.ticks).padStart(7) +
        percent(row.totalWindow, w.ticks).padStart(8) +
        seconds(row.ownAll, info.interval).padStart(9) +
        seconds(row.totalAll, info.interval).padStart(10) +
        `  ${functionLabel(row.name, row.filename, row.line, info.columns === undefined ? Infinity : info.columns - NUMBERS_WIDTH)}`,
    )
  }
  return info.columns !== undefined ? lines.map((line) => truncate(line, info.columns!)) : lines
}

/** Width of the four number columns and the gap before the function. */
const NUMBERS_WIDTH = 7 + 8 + 9 + 10 + 2

/** `name (filename:line)`, shortening the filename from the left (`…/pkg/mod.py`) to fit `room`. */
export function functionLabel(name: string, filename: string, line: number, room: number): string {
  const full = `${name} (${filename}:${line})`
  if ([...full].length <= room) return full
  const fileRoom = room - [...`${name} (:${line})`].length
  if (fileRoom < 8) return full
  const chars = [...filename]
  return `${name} (…${chars.slice(chars.length - (fileRoom - 1)).join('')}:${line})`
}

function truncate(line: string, columns: number): string {
  const chars = [...line]
  return chars.length <= columns ? line : chars.slice(0, Math.max(0, columns - 1)).join('') + '…'
}
