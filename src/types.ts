// The profile shape that crosses from the Rust core into TypeScript: the types napi-rs
// generates from crates/pyflame-node/src/convert.rs (documented there). Writers (folded, svg,
// speedscope, chrometrace, pprof) consume them. Frames and stacks are interned tables, so a
// long recording crosses the boundary as a few arrays, not one object per sample.

export type { ProcessSummary, ProfileEntry, ProfileFrame, ProfileThread, RawProfile, TimelineSample } from '../binding'
