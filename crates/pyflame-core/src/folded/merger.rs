//! Streams folded text into the merged tree. Chunks are bytes cut anywhere (a line may
//! straddle two chunks: its start waits in a small carry buffer); lines are split on `\n`
//! (`\r\n` allowed) and parsed in place, so only the tree and the current line are held.
//! Several sources merge into one tree; line numbers restart with each source.

use super::count::{Column, Count};
use super::labels::is_run_label;
use super::line::{looks_differential, parse_line, Line};
use super::tree::{Tree, ROOT};
use memchr::{memchr, memchr_iter};

#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Keep time order: a line merges only with the previous line's frames.
    pub flamechart: bool,
    /// Reverse each stack (leaf becomes root) before merging.
    pub reverse: bool,
    /// Two counts per line (`stack before after`); None decides from the first stack line.
    pub differential: Option<bool>,
    /// Keep a "before" column filled by whole sources (see [`Merger::begin_source`]): `diff`.
    pub before_sources: bool,
    /// Set aside leading frames that name a process or thread (they differ between runs).
    pub drop_run_labels: bool,
    /// Count malformed lines and go on, instead of stopping at the first.
    pub skip_invalid: bool,
}

/// A malformed line of the current source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidLine {
    /// 1-based, within its source.
    pub line: u64,
    pub reason: String,
}

/// Which column the counts of a one-count line go to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Samples,
    Before,
}

pub struct Merger {
    options: MergeOptions,
    pub(super) tree: Tree,
    pub(super) samples: Column,
    pub(super) before: Column,
    differential: Option<bool>,
    target: Target,
    /// The start of a line whose end is in a later chunk.
    carry: Vec<u8>,
    line_number: u64,
    pub(super) stacks: u64,
    pub(super) invalid: u64,
    /// Scratch: the current line's frames as byte ranges of the stack.
    frames: Vec<(usize, usize)>,
    /// The nodes of the previous line's frames, root first (root itself left out).
    previous: Vec<u32>,
    /// Per name: 0 not checked yet, 1 a process/thread label, 2 not.
    run_label: Vec<u8>,
}

impl Merger {
    pub fn new(options: MergeOptions) -> Merger {
        Merger {
            differential: options.differential,
            options,
            tree: Tree::new(),
            samples: Column::default(),
            before: Column::default(),
            target: Target::Samples,
            carry: Vec::new(),
            line_number: 0,
            stacks: 0,
            invalid: 0,
            frames: Vec::new(),
            previous: Vec::new(),
            run_label: Vec::new(),
        }
    }

    /// Starts a new source (line numbers restart). `into_before`: its counts fill the "before"
    /// column (`diff` reads the two profiles as two sources).
    pub fn begin_source(&mut self, into_before: bool) {
        self.carry.clear();
        self.line_number = 0;
        self.target = if into_before { Target::Before } else { Target::Samples };
    }

    /// Reads a chunk of the current source. Returns the malformed lines it held; without
    /// `skip_invalid`, stops at the first (the caller reports it and gives up).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<InvalidLine> {
        let mut invalid = Vec::new();
        let mut rest = chunk;
        if !self.carry.is_empty() {
            let Some(newline) = memchr(b'\n', rest) else {
                self.carry.extend_from_slice(rest);
                return invalid;
            };
            let mut line = std::mem::take(&mut self.carry);
            line.extend_from_slice(&rest[..newline]);
            rest = &rest[newline + 1..];
            let stop = self.line(&line, &mut invalid);
            line.clear();
            self.carry = line;
            if stop {
                return invalid;
            }
        }
        while let Some(newline) = memchr(b'\n', rest) {
            if self.line(&rest[..newline], &mut invalid) {
                return invalid;
            }
            rest = &rest[newline + 1..];
        }
        self.carry.extend_from_slice(rest);
        invalid
    }

    /// Distinct frames merged so far (the root not counted).
    pub fn merged_frames(&self) -> usize {
        self.tree.len() - 1
    }

    /// Ends the current source: its last line may have had no `\n`.
    pub fn end_source(&mut self) -> Vec<InvalidLine> {
        let mut invalid = Vec::new();
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line(&line, &mut invalid);
        }
        invalid
    }

    /// Whether the input was read as the two-column differential form.
    pub fn differential(&self) -> bool {
        self.differential == Some(true)
    }

    pub fn flamechart(&self) -> bool {
        self.options.flamechart
    }

    /// Whether a "before" column exists (differential input or `diff`).
    pub fn has_before(&self) -> bool {
        self.differential() || self.options.before_sources
    }

    /// One line (without its `\n`). True when reading must stop (a malformed line, not skipped).
    fn line(&mut self, mut line: &[u8], invalid: &mut Vec<InvalidLine>) -> bool {
        self.line_number += 1;
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        let differential = match self.differential {
            Some(differential) => differential,
            None => {
                let first = parse_line(line, false);
                if first == Line::Blank {
                    return false;
                }
                let differential = !matches!(first, Line::Invalid(_)) && looks_differential(&String::from_utf8_lossy(line));
                self.differential = Some(differential);
                differential
            }
        };
        let reason = match parse_line(line, differential) {
            Line::Blank => return false,
            Line::Invalid(reason) => reason,
            Line::Stack { start, end, count, before } => {
                if self.add_stack(&line[start..end], &count, before.as_ref()) {
                    self.stacks += 1;
                    return false;
                }
                "the stack has no frame names".to_string()
            }
        };
        self.invalid += 1;
        invalid.push(InvalidLine { line: self.line_number, reason });
        !self.options.skip_invalid
    }

    fn is_run_label(&mut self, name: u32) -> bool {
        let name = name as usize;
        if name >= self.run_label.len() {
            self.run_label.resize(name + 1, 0);
        }
        if self.run_label[name] == 0 {
            let text = self.tree.names.text(name as u32);
            self.run_label[name] = if is_run_label(&text) { 1 } else { 2 };
        }
        self.run_label[name] == 1
    }

    /// Merges one stack (frames separated by `;`, root first). False when it has no frame.
    fn add_stack(&mut self, stack: &[u8], count: &Count, before: Option<&Count>) -> bool {
        self.frames.clear();
        let mut start = 0;
        for end in memchr_iter(b';', stack).chain([stack.len()]) {
            if end > start {
                self.frames.push((start, end));
            }
            start = end + 1;
        }
        if self.frames.is_empty() {
            return false;
        }
        if self.options.reverse {
            self.frames.reverse();
        }
        let mut first = 0;
        if self.options.drop_run_labels {
            while first < self.frames.len() {
                let (s, e) = self.frames[first];
                let name = self.tree.names.intern(&stack[s..e]);
                if !self.is_run_label(name) {
                    break;
                }
                first += 1;
            }
        }
        let leaf = self.merge_frames(stack, first);
        match (self.target, before) {
            (Target::Before, _) => self.before.add(leaf, count),
            (Target::Samples, Some(before)) => {
                self.samples.add(leaf, count);
                self.before.add(leaf, before);
            }
            (Target::Samples, None) => self.samples.add(leaf, count),
        }
        true
    }

    /// Walks `frames[first..]` down from the root, reusing or creating nodes; returns the leaf.
    fn merge_frames(&mut self, stack: &[u8], first: usize) -> u32 {
        let Merger { tree, frames, previous, options, .. } = self;
        let mut node = ROOT;
        // Lines often repeat the previous line's first frames (sorted input, shared roots):
        // those reuse its nodes after a byte compare, no hashing. In a flame chart that is the
        // only merging there is: after the first difference, every frame is a new node.
        let mut reusing = true;
        let mut fresh = false;
        for (depth, &(s, e)) in frames[first..].iter().enumerate() {
            let frame = &stack[s..e];
            if reusing {
                if let Some(&candidate) = previous.get(depth) {
                    if tree.name_of(candidate) == frame {
                        node = candidate;
                        continue;
                    }
                }
                reusing = false;
                previous.truncate(depth);
            }
            node = if options.flamechart || fresh {
                tree.new_child(node, frame)
            } else {
                let (child, created) = tree.child(node, frame);
                fresh = created;
                child
            };
            previous.push(node);
        }
        if reusing {
            previous.truncate(frames.len() - first);
        }
        node
    }
}
