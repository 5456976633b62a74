/// <reference lib="dom" />
// The report page's script. `reportMain` is serialized with Function.prototype.toString into
// the HTML file, so it must be self-contained: no imports, no helpers outside its body.
// Canvas drawing: a frame costs a rectangle, not a DOM node, so a report of a few hundred
// thousand frames opens and zooms quickly; frames under half a pixel are not drawn.

import type { ReportData } from './data'

export function reportMain(data: ReportData): void {
  const $ = (id: string): HTMLElement => document.getElementById(id)!
  const isDiff = data.kind === 'diff'
  const unit = data.unitsPerSample
  const ROW = 18

  interface Tree {
    parent: Int32Array
    name: Int32Array
    after: Float64Array
    before: Float64Array | undefined
    depth: Int32Array
    end: Int32Array
    maxDepth: number
  }

  /** Depth and subtree end (nodes are depth first, so a subtree is the range [n, end[n])). */
  function makeTree(parent: Int32Array, name: Int32Array, after: Float64Array, before?: Float64Array): Tree {
    const n = parent.length
    const depth = new Int32Array(n)
    const end = new Int32Array(n)
    let maxDepth = 0
    for (let i = 1; i < n; i++) {
      depth[i] = depth[parent[i]] + 1
      if (depth[i] > maxDepth) maxDepth = depth[i]
    }
    for (let i = n - 1; i >= 0; i--) {
      if (end[i] < i + 1) end[i] = i + 1
      if (i > 0 && end[parent[i]] < end[i]) end[parent[i]] = end[i]
    }
    return { parent, name, after, before, depth, end, maxDepth }
  }

  const main = makeTree(Int32Array.from(data.parent), Int32Array.from(data.name), Float64Array.from(data.value), data.before ? Float64Array.from(data.before) : undefined)
  const labels = data.labels
  const full = data.fullLabels

  // ---- formatting
  const pct = (part: number, whole: number): string => (whole > 0 ? ((100 * part) / whole).toFixed(2) : '0.00') + '%'
  const count = (units: number): string => {
    const samples = units / unit
    return (Number.isInteger(samples) ? samples : Number(samples.toFixed(2))).toLocaleString('en-US')
  }
  const signed = (value: number, digits = 2): string => (value > 0 ? '+' : value < 0 ? '\u2212' : '\u00b1') + Math.abs(value).toFixed(digits)
  /** The binomial standard error of a share p (0..1) from n samples, in percentage points. */
  const standardError = (p: number, n: number): number => (n > 0 && p >= 0 && p <= 1 ? 100 * Math.sqrt((p * (1 - p)) / n) : 0)
  const text = (tag: string, content: string, className?: string): HTMLElement => {
    const element = document.createElement(tag)
    element.textContent = content
    if (className) element.className = className
    return element
  }

  // ---- colours: a label's colour is a function of the label (the same in every view)
  function hash(label: string): number {
    let h = 0x811c9dc5
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193)
    return ((h ^ (h >>> 15)) >>> 0) / 4294967296
  }
  const colorCache: string[] = []
  function labelColor(id: number): string {
    const cached = colorCache[id]
    if (cached) return cached
    const label = full[id]
    const v = hash(label)
    let color: string
    if (/site-packages|dist-packages/.test(label)) color = `rgb(${50 + Math.floor(60 * v)},${190 + Math.floor(55 * v)},${190 + Math.floor(55 * v)})`
    else if (/\/lib\/python[\d.]+\//.test(label) || /^<frozen /.test(label)) color = `rgb(${175 + Math.floor(55 * v)},${175 + Math.floor(55 * v)},${50 + Math.floor(20 * v)})`
    else if (/^\(idle\)|^process |^thread /.test(label)) color = 'rgb(200,200,200)'
    else color = `rgb(${205 + Math.floor(50 * v)},${Math.floor(200 * v)},${Math.floor(55 * hash(label + '.'))})`
    return (colorCache[id] = color)
  }
  /** Diff colours: red where the share grew, blue where it shrank, stronger for bigger changes. */
  function diffColor(change: number, max: number): string {
    if (max <= 0 || change === 0) return 'rgb(250,250,250)'
    const strength = Math.min(1, Math.abs(change) / max)
    const fade = Math.round(250 - 200 * strength)
    return change > 0 ? `rgb(250,${fade},${fade})` : `rgb(${fade},${fade},250)`
  }

  // ---- a flame graph view of one tree on one canvas
  type Column = 'after' | 'before'
  class FlameView {
    column: Column = 'after'
    x = new Float64Array(0)
    zoom = 0
    selected = -1
    matches: Uint8Array | undefined
    private drawn: number[] = []
    private drawnX: number[] = []
    private drawnW: number[] = []
    private maxChange = 0
    constructor(
      readonly canvas: HTMLCanvasElement,
      public tree: Tree,
      public inverted: boolean,
      readonly onHover: (node: number, view: FlameView) => void,
      readonly onClick: (node: number, view: FlameView) => void,
    ) {
      canvas.addEventListener('mousemove', (event) => this.onHover(this.hit(event), this))
      canvas.addEventListener('mouseleave', () => this.onHover(-1, this))
      canvas.addEventListener('click', (event) => {
        const node = this.hit(event)
        if (node >= 0) this.onClick(node, this)
      })
      this.setTree(tree)
    }
    widths(): Float64Array {
      return this.column === 'before' && this.tree.before ? this.tree.before : this.tree.after
    }
    setTree(tree: Tree): void {
      this.tree = tree
      this.zoom = 0
      this.layout()
    }
    /** x of every node for the current width column (children side by side under their parent). */
    layout(): void {
      const { parent } = this.tree
      const w = this.widths()
      const x = new Float64Array(parent.length)
      const used = new Float64Array(parent.length)
      for (let i = 1; i < parent.length; i++) {
        const p = parent[i]
        x[i] = x[p] + used[p]
        used[p] += w[i]
      }
      this.x = x
      this.maxChange = 0
      if (this.tree.before) {
        for (let i = 1; i < parent.length; i++) this.maxChange = Math.max(this.maxChange, Math.abs(this.change(i)))
      }
    }
    /** A node's change of share, in percentage points (after − before). */
    change(node: number): number {
      const { after, before } = this.tree
      if (!before) return 0
      const a = after[0] > 0 ? (100 * after[node]) / after[0] : 0
      const b = before[0] > 0 ? (100 * before[node]) / before[0] : 0
      return a - b
    }
    color(node: number): string {
      if (this.matches && this.matches[node]) return 'rgb(230,0,230)'
      if (this.tree.before) return diffColor(this.change(node), this.maxChange)
      return labelColor(this.tree.name[node])
    }
    draw(): void {
      const canvas = this.canvas
      const width = canvas.clientWidth || 800
      const { parent, depth, end, name } = this.tree
      const w = this.widths()
      const rows = this.tree.maxDepth + 1
      const height = rows * ROW
      const ratio = window.devicePixelRatio || 1
      canvas.width = Math.round(width * ratio)
      canvas.height = Math.round(height * ratio)
      canvas.style.height = `${height}px`
      const ctx = canvas.getContext('2d')!
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
      ctx.font = '12px ui-monospace, Menlo, Consolas, monospace'
      ctx.textBaseline = 'middle'
      const charWidth = ctx.measureText('m').width
      const z = this.zoom
      const zx = this.x[z]
      const zw = w[z] || 1
      const scale = width / zw
      const rowY = (d: number): number => (this.inverted ? d * ROW : height - (d + 1) * ROW)
      this.drawn = []
      this.drawnX = []
      this.drawnW = []
      const box = (node: number, px: number, pw: number, faded: boolean): void => {
        const y = rowY(depth[node])
        ctx.globalAlpha = faded ? 0.5 : 1
        ctx.fillStyle = node === 0 ? 'rgb(235,235,235)' : this.color(node)
        ctx.fillRect(px, y, Math.max(pw - 0.5, 0.5), ROW - 1)
        if (node === this.selected) {
          ctx.strokeStyle = '#000'
          ctx.lineWidth = 2
          ctx.strokeRect(px + 1, y + 1, pw - 2.5, ROW - 3)
        }
        const chars = Math.floor((pw - 6) / charWidth)
        if (chars >= 3) {
          const label = node === 0 ? 'all' : labels[name[node]]
          ctx.fillStyle = '#000'
          ctx.fillText(label.length <= chars ? label : label.slice(0, chars - 2) + '..', px + 3, y + ROW / 2)
        }
        this.drawn.push(node)
        this.drawnX.push(px)
        this.drawnW.push(pw)
      }
      // Ancestors of the zoomed frame span the width, faded.
      for (let a = parent[z]; a >= 0; a = parent[a]) box(a, 0, width, true)
      for (let i = z; i < end[z]; ) {
        const pw = w[i] * scale
        if (pw < 0.5) {
          i = end[i] // narrower children would be narrower still
          continue
        }
        box(i, (this.x[i] - zx) * scale, pw, false)
        i++
      }
      ctx.globalAlpha = 1
    }
    hit(event: MouseEvent): number {
      const rect = this.canvas.getBoundingClientRect()
      const px = event.clientX - rect.left
      const py = event.clientY - rect.top
      const height = (this.tree.maxDepth + 1) * ROW
      const d = Math.floor(this.inverted ? py / ROW : (height - py) / ROW)
      for (let k = this.drawn.length - 1; k >= 0; k--) {
        const node = this.drawn[k]
        if (this.tree.depth[node] === d && px >= this.drawnX[k] && px < this.drawnX[k] + this.drawnW[k]) return node
      }
      return -1
    }
    /** Marks frames whose label matches; returns the matched share of the zoomed frame. */
    search(pattern: RegExp | undefined): number {
      if (!pattern) {
        this.matches = undefined
        return 0
      }
      const { name, end } = this.tree
      const hits = labels.map((label, id) => pattern.test(label) || pattern.test(full[id]))
      const matches = new Uint8Array(name.length)
      for (let i = 1; i < name.length; i++) matches[i] = hits[name[i]] ? 1 : 0
      this.matches = matches
      // Samples under a match, each counted once (a match inside a match is skipped).
      const w = this.widths()
      const z = this.zoom
      let matched = matches[z] ? w[z] : 0
      if (!matches[z]) {
        for (let i = z + 1; i < end[z]; ) {
          if (matches[i]) {
            matched += w[i]
            i = end[i]
          } else i++
        }
      }
      return w[z] > 0 ? matched / w[z] : 0
    }
  }

  // ---- sandwich: the callers and the callees of one function, merged over its occurrences
  function subtreeBuilder() {
    const parent: number[] = [-1]
    const name: number[] = [-1]
    const after: number[] = [0]
    const before: number[] = [0]
    const kids: Array<Map<number, number>> = [new Map()]
    return {
      child(p: number, label: number): number {
        let c = kids[p].get(label)
        if (c === undefined) {
          c = parent.length
          parent.push(p)
          name.push(label)
          after.push(0)
          before.push(0)
          kids.push(new Map())
          kids[p].set(label, c)
        }
        return c
      },
      add(node: number, a: number, b: number): void {
        after[node] += a
        before[node] += b
      },
      /** The tree depth first, siblings by label, with the root's totals. */
      finish(hasBefore: boolean): Tree {
        const order: number[] = []
        const stack = [0]
        while (stack.length > 0) {
          const node = stack.pop()!
          order.push(node)
          const children = [...kids[node].values()].sort((a, b) => (labels[name[b]] < labels[name[a]] ? -1 : 1))
          stack.push(...children)
        }
        const index = new Int32Array(parent.length)
        order.forEach((node, i) => (index[node] = i))
        const p = Int32Array.from(order, (node) => (node === 0 ? -1 : index[parent[node]]))
        return makeTree(p, Int32Array.from(order, (node) => name[node]), Float64Array.from(order, (node) => after[node]), hasBefore ? Float64Array.from(order, (node) => before[node]) : undefined)
      },
    }
  }

  /** Nodes named `label` with no ancestor of the same name (recursion counted once). */
  function outermost(label: number): number[] {
    const { name, end } = main
    const found: number[] = []
    for (let i = 1; i < name.length; ) {
      if (name[i] === label) {
        found.push(i)
        i = end[i]
      } else i++
    }
    return found
  }

  function calleesOf(label: number): Tree {
    const builder = subtreeBuilder()
    const { parent, name, end, after, before } = main
    const root = builder.child(0, label)
    for (const top of outermost(label)) {
      const mapped = new Map<number, number>([[top, root]])
      builder.add(root, after[top], before ? before[top] : 0)
      for (let i = top + 1; i < end[top]; i++) {
        const node = builder.child(mapped.get(parent[i])!, name[i])
        mapped.set(i, node)
        builder.add(node, after[i], before ? before[i] : 0)
      }
    }
    const tree = builder.finish(Boolean(before))
    tree.after[0] = main.after[0]
    if (tree.before && before) tree.before[0] = before[0]
    return tree
  }

  function callersOf(label: number): Tree {
    const builder = subtreeBuilder()
    const { parent, name, after, before } = main
    for (const top of outermost(label)) {
      let node = builder.child(0, label)
      builder.add(node, after[top], before ? before[top] : 0)
      for (let a = parent[top]; a > 0; a = parent[a]) {
        node = builder.child(node, name[a])
        builder.add(node, after[top], before ? before[top] : 0)
      }
    }
    const tree = builder.finish(Boolean(before))
    tree.after[0] = main.after[0]
    if (tree.before && before) tree.before[0] = before[0]
    return tree
  }

  // ---- header: metadata and errors
  $('title').textContent = data.title
  document.title = data.title
  const meta = $('meta')
  for (const [key, value] of data.meta) {
    const row = document.createElement('div')
    row.append(text('dt', key), text('dd', value))
    meta.append(row)
  }
  if (data.errors.length > 0) {
    const list = $('errors')
    list.append(text('span', 'Sampling errors (samples dropped): '))
    for (const e of data.errors) list.append(text('span', `${e.kind}: ${e.count.toLocaleString('en-US')}`, 'error-kind'))
  }
  if (data.frames.merged > data.frames.kept) {
    $('pruned').textContent = `${data.frames.kept.toLocaleString('en-US')} of ${data.frames.merged.toLocaleString('en-US')} merged frames kept (frames under ${data.frames.minWidthPercent}% of all samples are drawn inside their parent); the function table counts them all.`
  }

  // ---- hover details
  const details = $('details')
  function describe(tree: Tree, node: number, column: Column): string {
    if (node < 0) return ''
    const label = node === 0 ? 'all' : full[tree.name[node]]
    const w = column === 'before' && tree.before ? tree.before : tree.after
    if (!tree.before) return `${label}: ${count(w[node])} ${data.countName} (${pct(w[node], w[0])})`
    const b = tree.before
    const a = tree.after
    const change = (a[0] > 0 ? (100 * a[node]) / a[0] : 0) - (b[0] > 0 ? (100 * b[node]) / b[0] : 0)
    return `${label}: before ${count(b[node])} (${pct(b[node], b[0])}), after ${count(a[node])} (${pct(a[node], a[0])}), ${signed(change)} pp`
  }
  const onHover = (node: number, view: FlameView): void => {
    details.textContent = node < 0 ? '\u00a0' : describe(view.tree, node, view.column)
    view.canvas.style.cursor = node < 0 ? 'default' : 'pointer'
  }

  // ---- the main graph, flame or icicle
  const graph = new FlameView($('graph') as HTMLCanvasElement, main, false, onHover, (node, view) => {
    view.zoom = node
    view.selected = -1
    $('reset').hidden = node === 0
    if (node > 0) select(main.name[node], false)
    refreshSearch()
  })
  $('reset').addEventListener('click', () => {
    graph.zoom = 0
    $('reset').hidden = true
    refreshSearch()
  })

  // ---- sandwich
  const callers = new FlameView($('callers') as HTMLCanvasElement, makeTree(Int32Array.of(-1), Int32Array.of(-1), Float64Array.of(0)), false, onHover, (node, view) => {
    if (node > 0) select(view.tree.name[node], true)
  })
  const callees = new FlameView($('callees') as HTMLCanvasElement, callers.tree, true, onHover, (node, view) => {
    if (node > 0) select(view.tree.name[node], true)
  })
  let selectedLabel = -1
  function select(label: number, show: boolean): void {
    selectedLabel = label
    $('sandwich-name').textContent = full[label]
    callers.setTree(callersOf(label))
    callees.setTree(calleesOf(label))
    for (const view of [callers, callees]) view.column = graph.column
    callers.layout()
    callees.layout()
    // Zoomed to the function itself: it spans the width, the profile's root faded above it.
    for (const view of [callers, callees]) {
      view.selected = 1
      view.zoom = view.tree.parent.length > 1 ? 1 : 0
    }
    listNeighbours($('callers-list'), callers.tree, 'Direct callers')
    listNeighbours($('callees-list'), callees.tree, 'Direct callees')
    if (show) showView('sandwich')
    else if (currentView === 'sandwich') drawAll()
    markTableSelection()
  }

  /** The function's direct callers or callees (the sandwich trees' second level) as text, widest first. */
  function listNeighbours(list: HTMLElement, tree: Tree, title: string): void {
    const w = tree.after
    const direct: number[] = []
    for (let i = 2; i < tree.parent.length; i++) if (tree.parent[i] === 1) direct.push(i)
    direct.sort((a, b) => w[b] - w[a])
    list.replaceChildren(text('span', direct.length === 0 ? `${title}: none` : `${title}: `))
    for (const node of direct.slice(0, 12)) {
      const item = text('span', `${labels[tree.name[node]]} ${pct(w[node], w[0])}`, 'neighbour')
      item.title = full[tree.name[node]]
      item.addEventListener('click', () => select(tree.name[node], true))
      list.append(item)
    }
  }

  // ---- function table
  const table = data.table
  const rows = table.label.map((label, i) => {
    const self = table.self[i]
    const total = table.total[i]
    const selfBefore = table.selfBefore ? table.selfBefore[i] : 0
    const totalBefore = table.totalBefore ? table.totalBefore[i] : 0
    const totalAll = main.after[0]
    const totalAllBefore = main.before ? main.before[0] : 0
    const share = (u: number, all: number): number => (all > 0 ? (100 * u) / all : 0)
    return {
      label,
      self: share(self, totalAll),
      total: share(total, totalAll),
      selfBefore: share(selfBefore, totalAllBefore),
      totalBefore: share(totalBefore, totalAllBefore),
      selfSamples: self,
      totalSamples: total,
      change: share(total, totalAll) - share(totalBefore, totalAllBefore),
      selfChange: share(self, totalAll) - share(selfBefore, totalAllBefore),
    }
  })
  type Row = (typeof rows)[number]
  const n = data.samples
  const nBefore = data.samplesBefore ?? 0
  const errorOf = (share: number, samples: number): number => standardError(share / 100, samples)
  type ColumnSpec = { title: string; key: keyof Row | 'name'; value: (r: Row) => string; hint?: string }
  const columns: ColumnSpec[] = isDiff
    ? [
        { title: 'Function (file:line)', key: 'name', value: (r) => labels[r.label] },
        { title: 'Total before', key: 'totalBefore', value: (r) => r.totalBefore.toFixed(2) + '%' },
        { title: 'Total after', key: 'total', value: (r) => r.total.toFixed(2) + '%' },
        {
          title: 'Change',
          key: 'change',
          value: (r) => signed(r.change) + ' pp' + (n > 0 && nBefore > 0 ? ` \u00b1${Math.hypot(errorOf(r.total, n), errorOf(r.totalBefore, nBefore)).toFixed(2)}` : ''),
          hint: 'after − before, in percentage points of each profile; ± one standard error',
        },
        { title: 'Self before', key: 'selfBefore', value: (r) => r.selfBefore.toFixed(2) + '%' },
        { title: 'Self after', key: 'self', value: (r) => r.self.toFixed(2) + '%' },
        { title: 'Self change', key: 'selfChange', value: (r) => signed(r.selfChange) + ' pp' },
      ]
    : [
        { title: 'Function (file:line)', key: 'name', value: (r) => labels[r.label] },
        { title: 'Self', key: 'self', value: (r) => r.self.toFixed(2) + '%' + (n > 0 ? ` \u00b1${errorOf(r.self, n).toFixed(2)}` : ''), hint: 'share of samples with the function innermost; ± one standard error' },
        { title: 'Total', key: 'total', value: (r) => r.total.toFixed(2) + '%' + (n > 0 ? ` \u00b1${errorOf(r.total, n).toFixed(2)}` : ''), hint: 'share of samples with the function anywhere on the stack' },
        { title: `Self ${data.countName}`, key: 'selfSamples', value: (r) => count(r.selfSamples) },
        { title: `Total ${data.countName}`, key: 'totalSamples', value: (r) => count(r.totalSamples) },
      ]
  let sortKey: keyof Row | 'name' = isDiff ? 'change' : 'self'
  let sortDescending = true
  const MAX_ROWS = 2000
  function renderTable(): void {
    const head = $('table-head')
    head.replaceChildren()
    for (const column of columns) {
      const th = text('th', column.title + (sortKey === column.key ? (sortDescending ? ' \u25bc' : ' \u25b2') : ''))
      th.dataset.key = String(column.key)
      if (column.hint) th.title = column.hint
      th.addEventListener('click', () => {
        sortDescending = sortKey === column.key ? !sortDescending : column.key !== 'name'
        sortKey = column.key
        renderTable()
      })
      head.append(th)
    }
    const pattern = currentPattern
    const shown = rows.filter((r) => !pattern || pattern.test(labels[r.label]) || pattern.test(full[r.label]))
    const key = sortKey
    const magnitude = (r: Row): number => (key === 'change' || key === 'selfChange' ? Math.abs(r[key]) : (r[key as keyof Row] as number))
    shown.sort((a, b) => {
      const order = key === 'name' ? (labels[a.label] < labels[b.label] ? -1 : labels[a.label] > labels[b.label] ? 1 : 0) : magnitude(a) - magnitude(b)
      return sortDescending ? -order : order
    })
    const body = $('table-body')
    body.replaceChildren()
    for (const r of shown.slice(0, MAX_ROWS)) {
      const tr = document.createElement('tr')
      tr.dataset.label = String(r.label)
      for (const column of columns) {
        const td = text('td', column.value(r))
        if (column.key === 'name') td.title = full[r.label]
        if (column.key === 'change' || column.key === 'selfChange') td.className = (r[column.key] as number) > 0 ? 'grew' : (r[column.key] as number) < 0 ? 'shrank' : ''
        tr.append(td)
      }
      tr.addEventListener('click', () => select(r.label, true))
      body.append(tr)
    }
    $('table-note').textContent = shown.length > MAX_ROWS ? `${MAX_ROWS} of ${shown.length} functions shown; search to narrow.` : `${shown.length} functions.`
    markTableSelection()
  }
  function markTableSelection(): void {
    for (const tr of Array.from($('table-body').children) as HTMLElement[]) tr.classList.toggle('selected', Number(tr.dataset.label) === selectedLabel)
  }

  // ---- search
  let currentPattern: RegExp | undefined
  const searchBox = $('search') as HTMLInputElement
  function refreshSearch(): void {
    const value = searchBox.value
    let pattern: RegExp | undefined
    searchBox.classList.remove('invalid')
    if (value !== '') {
      try {
        pattern = new RegExp(value, ($('ignorecase') as HTMLInputElement).checked ? 'i' : '')
      } catch {
        searchBox.classList.add('invalid')
      }
    }
    currentPattern = pattern
    const share = graph.search(pattern)
    callers.search(pattern)
    callees.search(pattern)
    $('matched').textContent = pattern ? `Matched: ${(100 * share).toFixed(1)}%` : ''
    if (currentView === 'table') renderTable()
    drawAll()
  }
  searchBox.addEventListener('input', refreshSearch)
  $('ignorecase').addEventListener('change', refreshSearch)
  $('clear').addEventListener('click', () => {
    searchBox.value = ''
    refreshSearch()
  })
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'f') {
      event.preventDefault()
      searchBox.focus()
    } else if (event.key === 'Escape') {
      graph.zoom = 0
      $('reset').hidden = true
      refreshSearch()
    }
  })

  // ---- diff: which profile gives the widths
  if (isDiff) {
    $('diff-controls').hidden = false
    $('legend').hidden = false
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('input[name=widths]'))) {
      input.addEventListener('change', () => {
        const column = input.value as Column
        for (const view of [graph, callers, callees]) {
          view.column = column
          view.zoom = 0
          view.layout()
        }
        $('widths-note').textContent = column === 'after' ? 'Widths: the after profile (what grew is visible).' : 'Widths: the before profile (what shrank or disappeared is visible).'
        refreshSearch()
      })
    }
  }

  // ---- views
  let currentView = 'flame'
  function showView(view: string): void {
    currentView = view
    for (const tab of Array.from(document.querySelectorAll<HTMLElement>('[data-view]'))) tab.classList.toggle('active', tab.dataset.view === view)
    $('graph-panel').hidden = !(view === 'flame' || view === 'icicle')
    $('table-panel').hidden = view !== 'table'
    $('sandwich-panel').hidden = view !== 'sandwich'
    graph.inverted = view === 'icicle'
    if (view === 'table') renderTable()
    if (view === 'sandwich' && selectedLabel < 0 && rows.length > 0) {
      const top = rows.reduce((best, r) => (r.self > best.self ? r : best), rows[0])
      select(top.label, false)
    }
    drawAll()
  }
  for (const tab of Array.from(document.querySelectorAll<HTMLElement>('[data-view]'))) tab.addEventListener('click', () => showView(tab.dataset.view!))
  function drawAll(): void {
    if (currentView === 'flame' || currentView === 'icicle') graph.draw()
    if (currentView === 'sandwich') {
      $('sandwich-empty').hidden = selectedLabel >= 0
      callers.draw()
      callees.draw()
    }
  }
  let resizeTimer = 0
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer)
    resizeTimer = window.setTimeout(drawAll, 100)
  })
  showView('flame')
  document.body.dataset.ready = 'true'
}
