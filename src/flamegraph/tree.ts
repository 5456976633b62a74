// The merged call tree. Stacks merge in a real prefix tree keyed by (parent, frame name), so a
// frame's samples never split however the input lines sort (flamegraph.pl and inferno sort
// lines and merge neighbours, which splits `a.py:f:1` when `a.py:f:10` sorts between).
// Nodes live in typed arrays and the (parent, name) → child index is an open-addressing hash
// table, so millions of frames cost ~30 bytes each and no per-node object.
// In flame chart mode only the most recent child can be reused: adjacent samples merge,
// time order is kept.

import { CountColumn, type ParsedCount } from '../folded/count'
import type { FoldedSink } from '../folded/reader'

export const ROOT = 0

export interface StackTreeOptions {
  /** Keep input order and merge only with the previous line's frames (time order). */
  flamechart?: boolean
  /** Reverse each stack (leaf becomes root) before merging. */
  reverse?: boolean
  /** Keep a second "before" column (differential input). */
  differential?: boolean
  /** Drop leading frames for which this returns true (process/thread labels). */
  dropRoot?: (label: string) => boolean
}

export class StackTree implements FoldedSink {
  readonly names: string[] = []
  private nameHashes: number[] = []
  private nameTable = new Int32Array(1024)
  /** Per name: 0 not checked yet, 1 a process/thread label to drop at the root, 2 not. */
  private runLabel = new Uint8Array(1024)
  parent = new Int32Array(1024)
  name = new Int32Array(1024)
  firstChild = new Int32Array(1024)
  nextSibling = new Int32Array(1024)
  size = 1
  readonly samples = new CountColumn()
  readonly before: CountColumn | undefined
  /** Child index: pairs (node + 1, key = hash(parent, name hash)), linear probing. */
  private table = new Int32Array(4096)
  private path = new Int32Array(256)
  private frameStarts: number[] = []
  private previousNodes: number[] = []
  private previousLength = 0
  private frameEnds: number[] = []

  constructor(private readonly options: StackTreeOptions = {}) {
    this.name[ROOT] = -1
    this.parent[ROOT] = -1
    if (options.differential) this.before = new CountColumn()
  }

  /** The id of a frame name, added when new. */
  intern(label: string): number {
    return this.internRange(label, 0, label.length)
  }

  /**
   * The id of the name text[start, end): hashed and compared in place, copied only when new.
   * The hash reads the length, the first 8 and last 16 characters and every 8th one between:
   * labels differ mostly at the ends (function, line), and a collision only costs a compare.
   */
  internRange(text: string, start: number, end: number, h = rangeHash(text, start, end)): number {
    const length = end - start
    let mask = this.nameTable.length - 1
    let slot = h & mask
    for (;;) {
      const entry = this.nameTable[slot]
      if (entry === 0) break
      const id = entry - 1
      if (this.nameHashes[id] === h) {
        const name = this.names[id]
        if (name.length === length && text.startsWith(name, start)) return id
      }
      slot = (slot + 1) & mask
    }
    const id = this.names.length
    // A copy, so the name does not keep the whole input chunk alive (V8 sliced strings do).
    // The JSON round trip keeps every code unit (lone surrogates too) and gives an ASCII name
    // V8's one-byte representation, like the input text: startsWith between a one-byte and
    // a two-byte string takes a slow path.
    const slice = text.slice(start, end)
    this.names.push(start === 0 && end === text.length ? text : (JSON.parse(JSON.stringify(slice)) as string))
    this.nameHashes.push(h)
    this.nameTable[slot] = id + 1
    if (this.names.length * 2 > this.nameTable.length) {
      const table = new Int32Array(this.nameTable.length * 2)
      mask = table.length - 1
      for (let other = 0; other < this.names.length; other++) {
        let s = this.nameHashes[other] & mask
        while (table[s] !== 0) s = (s + 1) & mask
        table[s] = other + 1
      }
      this.nameTable = table
    }
    return id
  }

  private isDroppedRoot(nameId: number): boolean {
    if (nameId >= this.runLabel.length) {
      const grown = new Uint8Array(Math.max(nameId + 1, this.runLabel.length * 2))
      grown.set(this.runLabel)
      this.runLabel = grown
    }
    if (this.runLabel[nameId] === 0) this.runLabel[nameId] = this.options.dropRoot!(this.names[nameId]) ? 1 : 2
    return this.runLabel[nameId] === 1
  }

  /** Adds the stack text[start, end) (frames separated by ';', root first). */
  addStack(text: string, start: number, end: number, count: ParsedCount, before?: ParsedCount): boolean {
    const starts = this.frameStarts
    const ends = this.frameEnds
    starts.length = 0
    ends.length = 0
    let position = start
    while (position <= end) {
      let semicolon = text.indexOf(';', position)
      if (semicolon === -1 || semicolon > end) semicolon = end
      if (semicolon > position) {
        starts.push(position)
        ends.push(semicolon)
      }
      position = semicolon + 1
    }
    if (starts.length === 0) return false
    if (this.options.reverse) {
      starts.reverse()
      ends.reverse()
    }
    let length = 1
    let node = ROOT
    this.path[0] = ROOT
    let skippingRoots = this.options.dropRoot !== undefined
    if (starts.length + 1 > this.path.length) this.path = new Int32Array(Math.max(starts.length + 1, this.path.length * 2))
    // Lines often repeat the previous line's first frames (sorted input, shared roots): reuse
    // its nodes while the text matches, a plain string compare with no hashing.
    const previous = this.previousNodes
    let reusing = !skippingRoots && !this.options.flamechart
    let fresh = false
    for (let i = 0; i < starts.length; i++) {
      const frameStart = starts[i]
      const frameEnd = ends[i]
      if (reusing) {
        const candidate = i < this.previousLength ? previous[i] : 0
        if (candidate !== 0) {
          const name = this.names[this.name[candidate]]
          if (name.length === frameEnd - frameStart && text.startsWith(name, frameStart)) {
            node = candidate
            this.path[length++] = node
            continue
          }
        }
        reusing = false
      }
      if (skippingRoots) {
        const nameId = this.internRange(text, frameStart, frameEnd)
        if (this.isDroppedRoot(nameId)) continue
        skippingRoots = false
        node = this.child(node, nameId)
      } else if (this.options.flamechart) {
        node = this.child(node, this.internRange(text, frameStart, frameEnd))
      } else {
        const before = this.size
        node = this.childAt(node, text, frameStart, frameEnd, fresh)
        fresh = this.size !== before
      }
      this.path[length++] = node
    }
    if (!this.options.flamechart) {
      if (previous.length < length) this.previousNodes = previous.concat(new Array(length - previous.length).fill(0))
      for (let i = 1; i < length; i++) this.previousNodes[i - 1] = this.path[i]
      this.previousLength = length - 1
    }
    this.samples.addPath(this.path, length, count, this.size)
    if (this.before && before) this.before.addPath(this.path, length, before, this.size)
    return true
  }

  /** Adds a stack given as a string (`a;b;c`). */
  addStackText(stack: string, count: ParsedCount, before?: ParsedCount): boolean {
    return this.addStack(stack, 0, stack.length, count, before)
  }

  /**
   * The child of `parent` named text[start, end), found by hashing the text in place. `fresh`:
   * the parent was created on this line, so the child cannot exist yet (no search).
   */
  private childAt(parent: number, text: string, start: number, end: number, fresh: boolean): number {
    const h = rangeHash(text, start, end)
    const key = hash(parent, h)
    const table = this.table
    const mask = (table.length >> 1) - 1
    let slot = key & mask
    for (;;) {
      const entry = table[slot << 1]
      if (entry === 0) break
      if (!fresh && table[(slot << 1) + 1] === key) {
        const node = entry - 1
        if (this.parent[node] === parent) {
          const name = this.names[this.name[node]]
          if (name.length === end - start && text.startsWith(name, start)) return node
        }
      }
      slot = (slot + 1) & mask
    }
    return this.insert(slot, key, parent, this.internRange(text, start, end, h))
  }

  /** The child of `parent` named `nameId`, created when missing. */
  child(parent: number, nameId: number): number {
    if (this.options.flamechart) {
      const last = this.firstChild[parent]
      if (last !== 0 && this.name[last] === nameId) return last
      return this.create(parent, nameId)
    }
    const key = hash(parent, this.nameHashes[nameId])
    const table = this.table
    const mask = (table.length >> 1) - 1
    let slot = key & mask
    for (;;) {
      const entry = table[slot << 1]
      if (entry === 0) break
      const node = entry - 1
      if (table[(slot << 1) + 1] === key && this.parent[node] === parent && this.name[node] === nameId) return node
      slot = (slot + 1) & mask
    }
    return this.insert(slot, key, parent, nameId)
  }

  private insert(slot: number, key: number, parent: number, nameId: number): number {
    const node = this.create(parent, nameId)
    this.table[slot << 1] = node + 1
    this.table[(slot << 1) + 1] = key
    if (this.size * 4 > this.table.length) this.rehash()
    return node
  }

  private create(parent: number, nameId: number): number {
    if (this.size === this.parent.length) this.grow()
    const node = this.size++
    this.parent[node] = parent
    this.name[node] = nameId
    this.nextSibling[node] = this.firstChild[parent]
    this.firstChild[parent] = node
    return node
  }

  private grow(): void {
    const capacity = this.parent.length * 2
    const resize = (array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const grown = new Int32Array(capacity)
      grown.set(array)
      return grown
    }
    this.parent = resize(this.parent)
    this.name = resize(this.name)
    this.firstChild = resize(this.firstChild)
    this.nextSibling = resize(this.nextSibling)
  }

  /** Doubles the child table; entries carry their key, so no node is read. */
  private rehash(): void {
    const old = this.table
    const table = new Int32Array(old.length * 2)
    const mask = (table.length >> 1) - 1
    for (let i = 0; i < old.length; i += 2) {
      const entry = old[i]
      if (entry === 0) continue
      const key = old[i + 1]
      let slot = key & mask
      while (table[slot << 1] !== 0) slot = (slot + 1) & mask
      table[slot << 1] = entry
      table[(slot << 1) + 1] = key
    }
    this.table = table
  }

  /** Children in insertion order (siblings are linked newest first). */
  children(node: number, into: number[] = []): number[] {
    into.length = 0
    for (let child = this.firstChild[node]; child !== 0; child = this.nextSibling[child]) into.push(child)
    return into.reverse()
  }

  label(node: number): string {
    return node === ROOT ? 'all' : this.names[this.name[node]]
  }
}

/** Hash of text[start, end): length, first 8 and last 16 characters, every 8th between. */
export function rangeHash(text: string, start: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193)
  if (end - start <= 32) {
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  } else {
    for (let i = start; i < start + 8; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
    for (let i = start + 8; i < end - 16; i += 8) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
    for (let i = end - 16; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  }
  return h ^ (h >>> 16)
}

function hash(parent: number, nameHash: number): number {
  let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(nameHash + 0x7f4a7c15, 0x85ebca77)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  // A non-negative 31-bit key (it is stored in an Int32Array and compared as is).
  return h & 0x7fffffff
}
