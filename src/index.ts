// pyflame-ts: sample the Python stacks of a running process from Node.

export { sample, startRecording } from './sample'
export type { SampleOptions, RecordingHandle, RecordingProgress } from './sample'
export { dump, dumpProcessTree } from './dump'
export type { DumpResult, DumpThread, DumpFrame, DumpLocal, DumpOptions } from './dump'
export { Profile } from './profile'
export { PyflameError } from './errors'
export type { ErrorCode } from './errors'
export { foldedLines, frameLabel } from './writers/folded'
export type { FoldedOptions } from './writers/folded'
export type * from './types'
export { Sampler } from './sampler'
export type { SamplerOptions, SamplerEvents } from './sampler'
