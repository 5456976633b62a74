// Which frames are drawn and where. Children are ordered by name (flame graph) or by first
// appearance (flame chart); a frame narrower than the minimum width is left out with its
// descendants, and its samples stay in the parent's width as unlabelled space. Positions are
// integer sample offsets (`x` in units of the count column), so zoom and search stay exact.

import type { ResolvedOptions } from './options'
import { ROOT, type StackTree } from './tree'

export interface Layout {
  /** Drawn nodes in depth-first order, root first. */
  nodes: Int32Array
  /** Sample offset of each drawn node from the left edge (drawing units). */
  offsets: Float64Array
  depths: Int32Array
  count: number
  maxDepth: number
  /** Total of the root, in drawing units. */
  total: number
  /** Frames left out because they were narrower than the minimum width. */
  prunedFrames: number
  /** Samples (drawing units) in the outermost pruned frames: drawn as unlabelled parent space. */
  prunedUnits: number
  /** The threshold used, in drawing units. */
  minUnits: number
}

export function nominalFramesWidth(options: ResolvedOptions, nominalWidth: number): number {
  return (options.width ?? nominalWidth) - 20
}

export function layoutTree(tree: StackTree, options: ResolvedOptions, nominalWidth: number): Layout {
  const samples = tree.samples
  const total = samples.units(ROOT)
  const widthPerUnit = total > 0 ? nominalFramesWidth(options, nominalWidth) / total : 0
  let minUnits = 0
  if (options.minWidthPercent !== undefined) minUnits = (total * options.minWidthPercent) / 100
  else if (options.minWidthPx !== undefined && widthPerUnit > 0) minUnits = options.minWidthPx / widthPerUnit

  // Rank names once so sibling order is a numeric sort (stable across runs and inputs).
  let rank: Int32Array | undefined
  if (!options.flamechart) {
    const order = tree.names.map((_, id) => id).sort((a, b) => (tree.names[a] < tree.names[b] ? -1 : tree.names[a] > tree.names[b] ? 1 : 0))
    rank = new Int32Array(tree.names.length)
    order.forEach((id, position) => (rank![id] = position))
  }

  let capacity = 1024
  let nodes = new Int32Array(capacity)
  let offsets = new Float64Array(capacity)
  let depths = new Int32Array(capacity)
  let count = 0
  let maxDepth = 0
  let prunedUnits = 0
  const push = (node: number, offset: number, depth: number): void => {
    if (count === capacity) {
      capacity *= 2
      const n = new Int32Array(capacity)
      n.set(nodes)
      nodes = n
      const o = new Float64Array(capacity)
      o.set(offsets)
      offsets = o
      const d = new Int32Array(capacity)
      d.set(depths)
      depths = d
    }
    nodes[count] = node
    offsets[count] = offset
    depths[count] = depth
    count++
    if (depth > maxDepth) maxDepth = depth
  }

  // Depth-first, children pushed in reverse so they come out in order.
  const stackNode: number[] = [ROOT]
  const stackOffset: number[] = [0]
  const stackDepth: number[] = [0]
  const children: number[] = []
  const childOffsets: number[] = []
  while (stackNode.length > 0) {
    const node = stackNode.pop()!
    const offset = stackOffset.pop()!
    const depth = stackDepth.pop()!
    push(node, offset, depth)
    tree.children(node, children)
    if (rank) children.sort((a, b) => rank![tree.name[a]] - rank![tree.name[b]])
    childOffsets.length = 0
    let x = offset
    for (const child of children) {
      childOffsets.push(x)
      x += samples.units(child)
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const units = samples.units(children[i])
      if (units <= 0) continue
      if (units < minUnits) {
        prunedUnits += units
        continue
      }
      stackNode.push(children[i])
      stackOffset.push(childOffsets[i])
      stackDepth.push(depth + 1)
    }
  }
  return {
    nodes,
    offsets,
    depths,
    count,
    maxDepth,
    total,
    prunedFrames: tree.size - count,
    prunedUnits,
    minUnits,
  }
}
