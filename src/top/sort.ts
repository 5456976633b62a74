// The columns `top` can sort by, and the keys that pick them (py-spy's 1-4, plus letters).

import type { FunctionRow } from './function-stats'

export type SortColumn = 'own' | 'total' | 'ownTime' | 'totalTime'

export const SORT_KEYS: Record<string, SortColumn> = {
  '1': 'own',
  o: 'own',
  '2': 'total',
  t: 'total',
  '3': 'ownTime',
  O: 'ownTime',
  '4': 'totalTime',
  T: 'totalTime',
}

function measure(row: FunctionRow, column: SortColumn): number {
  switch (column) {
    case 'own':
      return row.ownWindow
    case 'total':
      return row.totalWindow
    case 'ownTime':
      return row.ownAll
    case 'totalTime':
      return row.totalAll
  }
}

/** Rows in display order: the chosen column descending, ties by total then name. */
export function sortRows(rows: FunctionRow[], column: SortColumn): FunctionRow[] {
  return rows
    .filter((row) => row.totalAll > 0)
    .sort(
      (a, b) =>
        measure(b, column) - measure(a, column) ||
        b.totalWindow - a.totalWindow ||
        b.ownAll - a.ownAll ||
        a.name.localeCompare(b.name) ||
        a.filename.localeCompare(b.filename),
    )
}
