// Reading folded stacks (`a;b;c 12`) as Pyflame, py-spy, flamegraph.pl and austin write them:
// the sources here, the parsing and merging in the native core (crates/pyflame-core/src/folded).

export { groupThousands, scaledToDecimal } from './count'
export { readFolded, FoldedSyntaxError } from './reader'
export type { ReadFoldedOptions } from './reader'
export { batchLines, linesSource, fileSource } from './line-reader'
export type { NamedSource } from './line-reader'
export { parsePythonLabel, displayLabel, annotationOf, isRunLabel } from './labels'
export type { PythonLabel } from './labels'
