//! Folded stacks (`frame;frame;frame count`, as Pyflame, py-spy, flamegraph.pl and austin
//! write them) merged into a call tree for drawing a flame graph. Input is read as bytes in
//! chunks cut anywhere; counts are summed exactly; what comes out is only the part of the
//! tree wide enough to draw, laid out (see `layout`). The SVG itself is written by the TypeScript side.

pub mod count;
pub mod labels;
pub mod layout;
pub mod line;
mod merger;
mod names;
mod tree;

pub use labels::is_run_label;
pub use merger::{InvalidLine, MergeOptions, Merger};
pub use layout::{DrawnColumn, Layout, LayoutOptions, NameShares};

#[cfg(test)]
mod tests;
