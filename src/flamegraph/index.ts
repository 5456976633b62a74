// The flame graph SVG emitter and the differential comparison.

export { renderFlamegraph, buildTree, fitLabel } from './render'
export type { FlamegraphInput, RenderSummary, RenderHooks } from './render'
export { diffFolded, formatDiffSummary } from './diff'
export type { DiffOptions, DiffResult, FrameShareChange } from './diff'
export { resolveOptions, parseMinWidth, PALETTES } from './options'
export type { FlamegraphOptions, Palette } from './options'
export { StackTree } from './tree'
export { frameColor, pythonKind, diffColor } from './colors'
export { escapeXml } from './escape'
export type { Output } from './sink'
