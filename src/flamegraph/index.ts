// The flame graph SVG emitter and the differential comparison.

export { renderFlamegraph, drawFlamegraph, fitLabel } from './render'
export type { FlamegraphInput, RenderSummary, RenderHooks } from './render'
export { layoutFolded } from './layout'
export type { FlamegraphLayout, FoldedInput } from './layout'
export { diffFolded, formatDiffSummary } from './diff'
export type { DiffOptions, DiffResult, FrameShareChange } from './diff'
export { resolveOptions, parseMinWidth, PALETTES } from './options'
export type { FlamegraphOptions, Palette } from './options'
export { frameColor, pythonKind, diffColor } from './colors'
export { escapeXml } from './escape'
export type { Output } from './sink'
