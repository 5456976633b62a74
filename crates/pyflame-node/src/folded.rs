//! `FoldedMerger`: folded stacks pushed as byte chunks, merged and pruned in the core; what
//! comes back is the drawn part of the tree, laid out, as typed arrays for the TypeScript
//! SVG emitter.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pyflame_core::folded::{self, LayoutOptions, MergeOptions, Merger};

#[napi(object)]
pub struct FoldedMergerOptions {
    /// Keep time order: a line merges only with the previous line's frames.
    pub flamechart: Option<bool>,
    /// Reverse each stack before merging.
    pub reverse: Option<bool>,
    /// Two counts per line (`stack before after`); omitted: decided by the first stack line.
    pub differential: Option<bool>,
    /// Keep a "before" column filled by whole sources (`beginSource(true)`), as `diff` does.
    pub before_sources: Option<bool>,
    /// Set aside leading process/thread frames.
    pub drop_run_labels: Option<bool>,
    /// Count malformed lines and go on instead of stopping at the first.
    pub skip_invalid: Option<bool>,
}

#[napi(object)]
pub struct InvalidFoldedLine {
    /// 1-based, within its source.
    pub line: f64,
    pub reason: String,
}

#[napi(object)]
pub struct FoldedLayoutOptions {
    /// Minimum width as a percentage of the total.
    pub min_width_percent: Option<f64>,
    /// Minimum width in pixels of a `framesWidth`-pixel frames area.
    pub min_width_px: Option<f64>,
    pub frames_width: f64,
    /// Also return each name's share of samples in both columns, with self and total units (`diff`, the HTML report).
    pub name_shares: Option<bool>,
}

#[napi(object)]
pub struct DrawnColumn {
    /// Totals of the drawn frames in drawing units (samples × 10^scale).
    pub units: Float64Array,
    /// The same exactly, as decimal integers; only when a double cannot hold every total.
    pub units_text: Option<Vec<String>>,
    pub scale: u32,
    /// The column's total in samples, exactly (`2.5`).
    pub total: String,
}

#[napi(object)]
pub struct NameShares {
    pub names: Vec<String>,
    /// Percent of all samples whose stack holds the name (recursion counted once).
    pub samples: Float64Array,
    pub before: Float64Array,
    /// Drawing units in stacks holding the name (recursion counted once), per column.
    pub samples_total_units: Float64Array,
    pub before_total_units: Float64Array,
    /// Drawing units where the name is the innermost frame, per column.
    pub samples_self_units: Float64Array,
    pub before_self_units: Float64Array,
}

/// The drawn frames of a merged tree, in drawing order: depth first, the root first,
/// siblings by name (or by time in a flame chart).
#[napi(object)]
pub struct FlamegraphLayout {
    pub depth: Int32Array,
    /// Index into `names`; -1 for the root.
    pub name: Int32Array,
    pub names: Vec<String>,
    /// Distance from the left edge in drawing units.
    pub offset: Float64Array,
    /// The same exactly, only when the sample column is exact.
    pub offset_text: Option<Vec<String>>,
    pub samples: DrawnColumn,
    pub before: Option<DrawnColumn>,
    pub max_depth: u32,
    pub stacks: f64,
    pub invalid_lines: f64,
    pub merged_frames: f64,
    pub pruned_frames: f64,
    pub pruned_samples: String,
    pub min_units: f64,
    pub differential: bool,
    pub name_shares: Option<NameShares>,
}

fn column(column: folded::DrawnColumn) -> DrawnColumn {
    DrawnColumn { units: Float64Array::new(column.units), units_text: column.units_text, scale: column.scale, total: column.total }
}

fn signed(ids: Vec<u32>) -> Int32Array {
    Int32Array::new(ids.into_iter().map(|id| if id == u32::MAX { -1 } else { id as i32 }).collect())
}

fn invalid_lines(lines: Vec<folded::InvalidLine>) -> Vec<InvalidFoldedLine> {
    lines.into_iter().map(|l| InvalidFoldedLine { line: l.line as f64, reason: l.reason }).collect()
}

#[napi]
pub struct FoldedMerger {
    merger: Option<Merger>,
}

#[napi]
impl FoldedMerger {
    #[napi(constructor)]
    pub fn new(options: FoldedMergerOptions) -> FoldedMerger {
        let merger = Merger::new(MergeOptions {
            flamechart: options.flamechart.unwrap_or(false),
            reverse: options.reverse.unwrap_or(false),
            differential: options.differential,
            before_sources: options.before_sources.unwrap_or(false),
            drop_run_labels: options.drop_run_labels.unwrap_or(false),
            skip_invalid: options.skip_invalid.unwrap_or(false),
        });
        FoldedMerger { merger: Some(merger) }
    }

    fn merger(&mut self) -> Result<&mut Merger> {
        self.merger.as_mut().ok_or_else(|| Error::from_reason("ERR_INTERNAL: the merger has finished"))
    }

    /// Starts a source (line numbers restart); `intoBefore`: its counts fill "before".
    #[napi]
    pub fn begin_source(&mut self, into_before: Option<bool>) -> Result<()> {
        self.merger()?.begin_source(into_before.unwrap_or(false));
        Ok(())
    }

    /// Reads a chunk (cut anywhere); returns its malformed lines (without skipInvalid, the
    /// first one, after which the input is to be given up).
    #[napi]
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<InvalidFoldedLine>> {
        Ok(invalid_lines(self.merger()?.push(chunk)))
    }

    /// Ends the current source (its last line may lack a newline).
    #[napi]
    pub fn end_source(&mut self) -> Result<Vec<InvalidFoldedLine>> {
        Ok(invalid_lines(self.merger()?.end_source()))
    }

    /// Distinct frames merged so far (the root not counted): lets a caller choose a minimum
    /// width before `finish` (the HTML report keeps every frame of a small profile).
    #[napi]
    pub fn merged_frames(&mut self) -> Result<f64> {
        Ok(self.merger()?.merged_frames() as f64)
    }

    /// Totals, pruning and layout; frees the tree. Call once.
    #[napi]
    pub fn finish(&mut self, options: FoldedLayoutOptions) -> Result<FlamegraphLayout> {
        let merger = self.merger.take().ok_or_else(|| Error::from_reason("ERR_INTERNAL: the merger has finished"))?;
        let layout = merger.finish(&LayoutOptions {
            min_width_percent: options.min_width_percent,
            min_width_px: options.min_width_px,
            frames_width: options.frames_width,
            name_shares: options.name_shares.unwrap_or(false),
        });
        Ok(FlamegraphLayout {
            depth: signed(layout.depth),
            name: signed(layout.name),
            names: layout.names,
            offset: Float64Array::new(layout.offset),
            offset_text: layout.offset_text,
            samples: column(layout.samples),
            before: layout.before.map(column),
            max_depth: layout.max_depth,
            stacks: layout.stacks as f64,
            invalid_lines: layout.invalid_lines as f64,
            merged_frames: layout.merged_frames as f64,
            pruned_frames: layout.pruned_frames as f64,
            pruned_samples: layout.pruned_samples,
            min_units: layout.min_units,
            differential: layout.differential,
            name_shares: layout.name_shares.map(|shares| NameShares {
                names: shares.names,
                samples: Float64Array::new(shares.samples),
                before: Float64Array::new(shares.before),
                samples_total_units: Float64Array::new(shares.samples_total_units),
                before_total_units: Float64Array::new(shares.before_total_units),
                samples_self_units: Float64Array::new(shares.samples_self_units),
                before_self_units: Float64Array::new(shares.before_self_units),
            }),
        })
    }
}

/// True for frame labels that name a process or thread (`process 1234`, `thread (5678): Main`,
/// `pid:1234`, `T5678`...) rather than code.
#[napi]
pub fn is_run_label(label: String) -> bool {
    folded::is_run_label(&label)
}
