//! The merged call tree: a prefix tree whose nodes are keyed by (parent, frame name), so a
//! frame's samples never split however the input lines sort (flamegraph.pl and inferno sort
//! lines and merge neighbours, which splits `a.py:f:1` when `a.py:f:10` sorts between).
//!
//! Most nodes of a deep profile have one child or none, so children are a linked list, found
//! by walking it; a node whose list grows past [`INDEX_AFTER`] gets its children put in a hash
//! index. Making a node then touches only memory near the end of the node vector, and merging
//! a million-line input stays a walk through mostly cached nodes. A node is 16 bytes (24 with
//! its count). Parents are always created before their children: `parent[n] < n`.

use super::names::{table_hash, Names};
use hashbrown::HashTable;

pub const ROOT: u32 = 0;
/// No node: the root's parent and name.
pub const NONE: u32 = u32::MAX;
/// The end of a child list: the root, which is nobody's child.
const NO_CHILD: u32 = ROOT;
/// Walk at most this many children before indexing a node's children by hash.
const INDEX_AFTER: u32 = 8;
/// In `first_child`: the node's children are in the hash index.
const INDEXED: u32 = 1 << 31;

#[derive(Clone, Copy)]
pub struct Node {
    pub parent: u32,
    pub name: u32,
    /// Newest child (or [`NO_CHILD`]), flagged [`INDEXED`] once the children are in the index.
    first_child: u32,
    next_sibling: u32,
}

#[derive(Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub names: Names,
    /// (parent, name) → child for parents with many children. Entries carry 32 bits of their
    /// hash, so growing the index reads no node.
    children: HashTable<(u32, u32)>,
}

/// Hash of a child key, 32 bits: parent and name multiplied and folded so both reach the high
/// bits (hashbrown's tag) and the low bits (its bucket).
fn child_hash(parent: u32, name: u32) -> u32 {
    let key = u128::from(u64::from(parent) << 32 | u64::from(name)) * 0x9e37_79b9_7f4a_7c15;
    let folded = (key as u64) ^ ((key >> 64) as u64);
    (folded ^ (folded >> 32)) as u32
}

impl Tree {
    pub fn new() -> Tree {
        Tree { nodes: vec![Node { parent: NONE, name: NONE, first_child: NO_CHILD, next_sibling: NO_CHILD }], ..Tree::default() }
    }

    /// Nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn parent(&self, node: usize) -> usize {
        self.nodes[node].parent as usize
    }

    /// The frame name of a node (not the root).
    pub fn name_of(&self, node: u32) -> &[u8] {
        self.names.get(self.nodes[node as usize].name)
    }

    /// A new child of `parent` named `frame`, without looking for an existing one: for a
    /// parent made on the same line, and for flame charts (which merge by time only).
    pub fn new_child(&mut self, parent: u32, frame: &[u8]) -> u32 {
        let name = self.names.intern(frame);
        self.push(parent, name)
    }

    fn push(&mut self, parent: u32, name: u32) -> u32 {
        let node = self.nodes.len() as u32;
        assert!(node < INDEXED, "more than 2^31 merged frames");
        let head = self.nodes[parent as usize].first_child;
        self.nodes.push(Node { parent, name, first_child: NO_CHILD, next_sibling: head & !INDEXED });
        self.nodes[parent as usize].first_child = node | (head & INDEXED);
        if head & INDEXED != 0 {
            self.index(node);
        }
        node
    }

    fn index(&mut self, node: u32) {
        let Node { parent, name, .. } = self.nodes[node as usize];
        let hash = child_hash(parent, name);
        self.children.insert_unique(table_hash(hash), (node, hash), |&(_, hash)| table_hash(hash));
    }

    /// The child of `parent` named `frame`, created when missing; `true` when created.
    pub fn child(&mut self, parent: u32, frame: &[u8]) -> (u32, bool) {
        let name = self.names.intern(frame);
        let head = self.nodes[parent as usize].first_child;
        if head & INDEXED != 0 {
            let hash = child_hash(parent, name);
            let nodes = &self.nodes;
            let found = self.children.find(table_hash(hash), |&(node, other)| {
                other == hash && nodes[node as usize].parent == parent && nodes[node as usize].name == name
            });
            if let Some(&(node, _)) = found {
                return (node, false);
            }
            return (self.push(parent, name), true);
        }
        let mut walked = 0;
        let mut child = head;
        while child != NO_CHILD {
            let node = self.nodes[child as usize];
            if node.name == name {
                return (child, false);
            }
            child = node.next_sibling;
            walked += 1;
        }
        let node = self.push(parent, name);
        if walked >= INDEX_AFTER {
            let mut child = node;
            while child != NO_CHILD {
                self.index(child);
                child = self.nodes[child as usize].next_sibling;
            }
            self.nodes[parent as usize].first_child |= INDEXED;
        }
        (node, true)
    }

    /// Frees the child index (after the last line: totals and layout need only the parents).
    pub fn drop_index(&mut self) {
        self.children = HashTable::new();
    }
}
