//! The end of a merge: node totals, then which frames are drawn and where. A frame narrower
//! than the minimum width is left out with everything under it; its samples stay in its
//! parent's width as unlabelled space at its place among its siblings (and in every total).
//! Frames come out depth first, siblings ordered by name (code point order, as flamegraph.pl
//! and inferno sort) or, in a flame chart, by time. Only drawn frames are returned, their
//! names decoded to text, so the SVG side handles the ~50k drawn frames, not the millions merged.

use super::count::{Sum, Totals};
use super::merger::Merger;
use super::tree::{Tree, NONE, ROOT};

/// The minimum width: a percentage of the total, or pixels of a `frames_width`-pixel image.
#[derive(Clone, Debug, Default)]
pub struct LayoutOptions {
    pub min_width_percent: Option<f64>,
    pub min_width_px: Option<f64>,
    /// Width of the frames area in pixels (for `min_width_px`).
    pub frames_width: f64,
    /// Also compute each name's share of samples in both columns ([`NameShares`], for `diff`).
    pub name_shares: bool,
}

/// One column's totals for the drawn frames.
pub struct DrawnColumn {
    /// Totals in drawing units (samples × 10^scale), as the nearest doubles.
    pub units: Vec<f64>,
    /// Exact totals in drawing units, as decimal integers: only when a double could not
    /// hold every total exactly (fractional counts, or totals beyond 2^53).
    pub units_text: Option<Vec<String>>,
    /// Digits after the point: one sample is 10^scale drawing units.
    pub scale: u32,
    /// The column's total, in samples, exactly (`2.5`).
    pub total: String,
}

/// For each frame name, the percentage of samples whose stack holds it (recursion counted
/// once), in both columns, and the same sums in drawing units with each name's self samples
/// (those where it is the innermost frame), computed over the whole tree before pruning.
pub struct NameShares {
    pub names: Vec<String>,
    pub samples: Vec<f64>,
    pub before: Vec<f64>,
    /// Units in stacks holding the name (recursion counted once), per column.
    pub samples_total_units: Vec<f64>,
    pub before_total_units: Vec<f64>,
    /// Units where the name is the innermost frame, per column.
    pub samples_self_units: Vec<f64>,
    pub before_self_units: Vec<f64>,
}

/// The drawn frames, in drawing order (depth first, the root first).
pub struct Layout {
    pub depth: Vec<u32>,
    /// Index into `names` ([`NONE`] for the root).
    pub name: Vec<u32>,
    /// Names of drawn frames, as text (invalid UTF-8 shown as U+FFFD).
    pub names: Vec<String>,
    /// Distance from the left edge in drawing units, as the nearest doubles.
    pub offset: Vec<f64>,
    /// The same exactly, only when the sample column is exact.
    pub offset_text: Option<Vec<String>>,
    pub samples: DrawnColumn,
    /// Differential input or `diff`: the "before" column.
    pub before: Option<DrawnColumn>,
    pub max_depth: u32,
    /// Lines that held a stack.
    pub stacks: u64,
    /// Malformed lines skipped.
    pub invalid_lines: u64,
    /// Distinct frames after merging (root not counted).
    pub merged_frames: u64,
    /// Frames not drawn: narrower than the minimum width, under one that is, or empty.
    pub pruned_frames: u64,
    /// Samples in the outermost frames left out for width, exactly.
    pub pruned_samples: String,
    /// The minimum width used, in drawing units.
    pub min_units: f64,
    pub differential: bool,
    pub name_shares: Option<NameShares>,
}

fn drawn_column(totals: &Totals, drawn: &[u32]) -> DrawnColumn {
    DrawnColumn {
        units: drawn.iter().map(|&n| totals.units(n as usize)).collect(),
        units_text: matches!(totals, Totals::Exact { .. }).then(|| drawn.iter().map(|&n| totals.units_text(n as usize)).collect()),
        scale: totals.scale(),
        total: totals.sum_decimal(&[ROOT]),
    }
}

/// Children lists as one array sliced by parent: the children of `p` are
/// `children[first[p]..first[p + 1]]`, in the order of `nodes` (creation order when ascending).
fn children_lists(nodes: &[u32], parent_slot: impl Fn(u32) -> usize, parents: usize) -> (Vec<u32>, Vec<u32>) {
    let mut first = vec![0u32; parents + 1];
    for &node in nodes {
        first[parent_slot(node) + 1] += 1;
    }
    for i in 0..parents {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut children = vec![0u32; nodes.len()];
    for &node in nodes {
        let p = parent_slot(node);
        children[fill[p] as usize] = node;
        fill[p] += 1;
    }
    (first, children)
}

impl Merger {
    /// Totals, pruning and layout. Consumes the merger (the tree is freed on return).
    pub fn finish(self, options: &LayoutOptions) -> Layout {
        let differential = self.differential();
        let has_before = self.has_before();
        let flamechart = self.flamechart();
        let Merger { mut tree, samples, before, stacks, invalid, .. } = self;
        tree.drop_index();
        let nodes = tree.len();
        let samples = samples.into_totals(nodes, |n| tree.parent(n));
        let before = has_before.then(|| before.into_totals(nodes, |n| tree.parent(n)));
        let name_shares = options.name_shares.then(|| name_shares(&tree, &samples, before.as_ref()));

        let total = samples.units(ROOT as usize);
        let min_units = match (options.min_width_percent, options.min_width_px) {
            (Some(percent), _) => total * percent / 100.0,
            (None, Some(px)) if total > 0.0 && options.frames_width > 0.0 => px / (options.frames_width / total),
            _ => 0.0,
        };

        // parent[n] < n: one forward pass sees every parent's fate before its children's.
        // `slot`: a drawn node's index among the drawn. Pruned frames right under a drawn one
        // are `placed` too: they keep their place (their width is drawn empty).
        let mut slot = vec![NONE; nodes];
        slot[ROOT as usize] = 0;
        let mut drawn = 1;
        let mut placed = Vec::new();
        let mut pruned_tops = Vec::new();
        for node in 1..nodes {
            if slot[tree.parent(node)] == NONE {
                continue;
            }
            let units = samples.units(node);
            if units <= 0.0 {
                continue;
            }
            placed.push(node as u32);
            if units < min_units {
                pruned_tops.push(node as u32);
            } else {
                slot[node] = drawn;
                drawn += 1;
            }
        }
        let parent_slot = |node: u32| slot[tree.parent(node as usize)] as usize;
        let (first, mut children) = children_lists(&placed, parent_slot, drawn as usize);
        drop(placed);
        if !flamechart {
            let rank = name_ranks(&tree);
            for p in 0..drawn as usize {
                children[first[p] as usize..first[p + 1] as usize].sort_by_key(|&c| rank[tree.nodes[c as usize].name as usize]);
            }
        }

        let mut order = Vec::with_capacity(drawn as usize);
        let mut depth = Vec::with_capacity(drawn as usize);
        let mut offsets = Vec::with_capacity(drawn as usize);
        let mut stack = vec![(ROOT, 0u32, samples.zero())];
        while let Some((node, level, offset)) = stack.pop() {
            order.push(node);
            depth.push(level);
            let mut x = offset.clone();
            offsets.push(offset);
            let s = slot[node as usize] as usize;
            let start = stack.len();
            for &child in &children[first[s] as usize..first[s + 1] as usize] {
                if slot[child as usize] != NONE {
                    stack.push((child, level + 1, x.clone()));
                }
                samples.add_to(&mut x, child as usize);
            }
            stack[start..].reverse();
        }
        drop(children);
        drop(slot);

        let mut name_index = vec![NONE; tree.names.len()];
        let mut names = Vec::new();
        let name = order
            .iter()
            .map(|&node| {
                if node == ROOT {
                    return NONE;
                }
                let id = tree.nodes[node as usize].name as usize;
                if name_index[id] == NONE {
                    name_index[id] = names.len() as u32;
                    names.push(tree.names.text(id as u32));
                }
                name_index[id]
            })
            .collect();

        Layout {
            max_depth: depth.iter().copied().max().unwrap_or(0),
            offset: offsets.iter().map(Sum::to_f64).collect(),
            offset_text: matches!(samples, Totals::Exact { .. }).then(|| offsets.iter().map(Sum::units_text).collect()),
            samples: drawn_column(&samples, &order),
            before: before.as_ref().map(|before| drawn_column(before, &order)),
            depth,
            name,
            names,
            stacks,
            invalid_lines: invalid,
            merged_frames: nodes as u64 - 1,
            pruned_frames: (nodes - order.len()) as u64,
            pruned_samples: samples.sum_decimal(&pruned_tops),
            min_units,
            differential,
            name_shares,
        }
    }
}

/// Each name's position in code point (= UTF-8 byte) order.
fn name_ranks(tree: &Tree) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..tree.names.len() as u32).collect();
    ids.sort_unstable_by(|&a, &b| tree.names.get(a).cmp(tree.names.get(b)));
    let mut rank = vec![0u32; ids.len()];
    for (position, &id) in ids.iter().enumerate() {
        rank[id as usize] = position as u32;
    }
    rank
}

/// Each name's share of both columns: a node counts unless an ancestor has the same name.
/// Without a "before" column its sums are zero.
fn name_shares(tree: &Tree, samples: &Totals, before: Option<&Totals>) -> NameShares {
    let all: Vec<u32> = (1..tree.len() as u32).collect();
    let (first, children) = children_lists(&all, |node| tree.parent(node as usize), tree.len());
    drop(all);
    let count = tree.names.len();
    let before_units = |node: usize| before.map_or(0.0, |b| b.units(node));
    let mut total = (vec![0.0f64; count], vec![0.0f64; count]);
    let mut own = (vec![0.0f64; count], vec![0.0f64; count]);
    let mut open = vec![0u32; count];
    // Entries: a node to enter, or !node to leave.
    let mut stack: Vec<u32> = children[first[0] as usize..first[1] as usize].to_vec();
    while let Some(entry) = stack.pop() {
        if entry & (1 << 31) != 0 {
            open[tree.nodes[(!entry) as usize].name as usize] -= 1;
            continue;
        }
        let node = entry as usize;
        let id = tree.nodes[node].name as usize;
        let kids = &children[first[node] as usize..first[node + 1] as usize];
        let (a, b) = (samples.units(node), before_units(node));
        if open[id] == 0 {
            total.0[id] += a;
            total.1[id] += b;
        }
        own.0[id] += a - kids.iter().map(|&c| samples.units(c as usize)).sum::<f64>();
        own.1[id] += b - kids.iter().map(|&c| before_units(c as usize)).sum::<f64>();
        open[id] += 1;
        stack.push(!entry);
        stack.extend_from_slice(kids);
    }
    let percent = |values: &[f64], total: f64| values.iter().map(|v| if total > 0.0 { 100.0 * v / total } else { 0.0 }).collect();
    NameShares {
        names: (0..count as u32).map(|id| tree.names.text(id)).collect(),
        samples: percent(&total.0, samples.units(ROOT as usize)),
        before: percent(&total.1, before_units(ROOT as usize)),
        samples_total_units: total.0,
        before_total_units: total.1,
        samples_self_units: own.0,
        before_self_units: own.1,
    }
}
