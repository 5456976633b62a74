// Reading folded stacks (`a;b;c 12`) as Pyflame, py-spy, flamegraph.pl and austin write them.

export { parseCount, CountColumn, groupThousands, scaledToDecimal } from './count'
export type { ParsedCount } from './count'
export { parseFoldedLine, looksDifferential, parseLineAt } from './parse-line'
export { readFolded, FoldedSyntaxError } from './reader'
export type { FoldedSink, ReadFoldedOptions, ReadFoldedSummary } from './reader'
export { lineChunks, batchLines, linesSource, fileSource } from './line-reader'
export type { NamedSource } from './line-reader'
export { parsePythonLabel, displayLabel, annotationOf, isRunLabel } from './labels'
export type { PythonLabel } from './labels'
