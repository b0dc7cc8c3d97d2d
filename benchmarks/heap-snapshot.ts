// What a crowd of connections holds on the heap, by owner: given a V8 heap
// snapshot taken before the crowd connected and one taken while it is
// connected (same process, so objects keep their ids), every object of the
// second that the first did not have is given to the nearest object that was
// already there ("the owner": Hub.clients, HandshakeLog.held, a socket's
// parser...). A breadth-first walk from every edge that crosses from an old
// object to a new one hands each new object to the owner fewest steps away,
// so a socket reached in one step from Node's own lists is Node's, not the
// hub's that reaches it through a closure four steps away.

/** The parts of the .heapsnapshot format this reads (V8's HeapSnapshot JSON). */
export interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[]
      node_types: [string[], ...unknown[]]
      edge_fields: string[]
      edge_types: [string[], ...unknown[]]
    }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

export interface Owner {
  /** "Hub.clients", "HandshakeLog.held", "Socket.parser", "(Node internals) TCPSocketWrap" */
  owner: string
  /** bytes of the new objects it holds (self sizes, summed) */
  bytes: number
  objects: number
  /** What it holds, by kind ("object:ClientState", "string", "array"), largest first. */
  kinds: Kind[]
}

export interface Kind {
  kind: string
  bytes: number
  objects: number
}

export interface Account {
  /** all new objects' bytes (on the JS heap) */
  bytes: number
  owners: Owner[]
}

/** Edges a walk follows: weak ones hold nothing. */
const IGNORED_EDGES = new Set(['weak'])
/** Types that name nothing by themselves: an owner is looked for above them. */
const ANONYMOUS = new Set(['Object', 'Array', 'Map', 'Set', '', 'system / Context', '(object properties)'])
const OWNER_STEPS = 6
const OUTSIDE_HEAP = new Set(['native', 'synthetic'])

class Graph {
  readonly count: number
  private readonly nodeWidth: number
  private readonly edgeWidth: number
  private readonly firstEdge: Uint32Array
  private readonly type: number
  private readonly name: number
  private readonly id: number
  private readonly selfSize: number
  private readonly toNode: number
  private readonly edgeType: number
  private readonly edgeName: number
  private readonly nodeTypes: string[]
  private readonly edgeTypes: string[]
  /** The first retainer of each node (its index and the edge's name), for naming owners. */
  readonly retainer: Int32Array
  readonly retainerEdge: Array<string | undefined>

  readonly s: HeapSnapshot

  constructor(s: HeapSnapshot) {
    this.s = s
    const meta = s.snapshot.meta
    this.nodeWidth = meta.node_fields.length
    this.edgeWidth = meta.edge_fields.length
    this.type = meta.node_fields.indexOf('type')
    this.name = meta.node_fields.indexOf('name')
    this.id = meta.node_fields.indexOf('id')
    this.selfSize = meta.node_fields.indexOf('self_size')
    const edgeCount = meta.node_fields.indexOf('edge_count')
    this.toNode = meta.edge_fields.indexOf('to_node')
    this.edgeType = meta.edge_fields.indexOf('type')
    this.edgeName = meta.edge_fields.indexOf('name_or_index')
    this.nodeTypes = meta.node_types[0]
    this.edgeTypes = meta.edge_types[0]
    this.count = s.nodes.length / this.nodeWidth
    this.firstEdge = new Uint32Array(this.count + 1)
    for (let n = 0, e = 0; n < this.count; n++) {
      this.firstEdge[n] = e
      e += s.nodes[n * this.nodeWidth + edgeCount]! * this.edgeWidth
    }
    this.firstEdge[this.count] = s.edges.length
    this.retainer = new Int32Array(this.count).fill(-1)
    this.retainerEdge = new Array<string | undefined>(this.count)
    for (let n = 0; n < this.count; n++)
      this.eachEdge(n, (to, edge) => {
        if (this.retainer[to] === -1) {
          this.retainer[to] = n
          this.retainerEdge[to] = edge
        }
      })
  }

  nodeType(n: number): string {
    return this.nodeTypes[this.s.nodes[n * this.nodeWidth + this.type]!]!
  }
  nodeName(n: number): string {
    return this.s.strings[this.s.nodes[n * this.nodeWidth + this.name]!]!
  }
  nodeId(n: number): number {
    return this.s.nodes[n * this.nodeWidth + this.id]!
  }
  size(n: number): number {
    return this.s.nodes[n * this.nodeWidth + this.selfSize]!
  }

  /** Calls `visit` with each strong edge's target node and name ("clients", "[]" for elements and hidden links). */
  eachEdge(n: number, visit: (to: number, edge: string) => void): void {
    const { edges, strings } = this.s
    for (let e = this.firstEdge[n]!; e < this.firstEdge[n + 1]!; e += this.edgeWidth) {
      const type = this.edgeTypes[edges[e + this.edgeType]!]!
      if (IGNORED_EDGES.has(type)) continue
      const raw = edges[e + this.edgeName]!
      const edge =
        type === 'element' || type === 'hidden' ? '[]' : type === 'internal' ? `(${strings[raw]})` : strings[raw]!
      visit(edges[e + this.toNode]! / this.nodeWidth, edge)
    }
  }
}

/** Ids of every object in a snapshot. */
export function idsOf(s: HeapSnapshot): Set<number> {
  const width = s.snapshot.meta.node_fields.length
  const id = s.snapshot.meta.node_fields.indexOf('id')
  const ids = new Set<number>()
  for (let i = id; i < s.nodes.length; i += width) ids.add(s.nodes[i]!)
  return ids
}

/** What `after`'s objects that `before` (given by its ids) did not have are held by, largest first. */
export function accountNew(before: Set<number>, after: HeapSnapshot): Account {
  const g = new Graph(after)
  const owned = new Int32Array(g.count).fill(-1)
  const labels: string[] = []
  const labelIndex = new Map<string, number>()
  const isNew = (n: number) => !before.has(g.nodeId(n))
  const queue: number[] = []
  for (let n = 0; n < g.count; n++) {
    if (isNew(n)) continue
    g.eachEdge(n, (to, edge) => {
      if (owned[to] !== -1 || !isNew(to)) return
      const label = ownerOf(g, n, edge, isNew)
      let index = labelIndex.get(label)
      if (index === undefined) labelIndex.set(label, (index = labels.push(label) - 1))
      owned[to] = index
      queue.push(to)
    })
  }
  for (let head = 0; head < queue.length; head++) {
    const n = queue[head]!
    g.eachEdge(n, (to) => {
      if (owned[to] !== -1 || !isNew(to)) return
      owned[to] = owned[n]!
      queue.push(to)
    })
  }
  const owners: Owner[] = [...labels, '(unreachable from older objects)'].map((owner) => ({
    owner,
    bytes: 0,
    objects: 0,
    kinds: [],
  }))
  const kinds = owners.map(() => new Map<string, Kind>())
  let total = 0
  for (let n = 0; n < g.count; n++) {
    // Native objects' sizes are memory outside the JS heap (the figure compared is heapUsed): walked, not counted.
    if (!isNew(n) || OUTSIDE_HEAP.has(g.nodeType(n))) continue
    const index = owned[n] === -1 ? labels.length : owned[n]!
    const size = g.size(n)
    owners[index]!.bytes += size
    owners[index]!.objects++
    total += size
    const kind = kindOf(g, n)
    const tally = kinds[index]!.get(kind) ?? kinds[index]!.set(kind, { kind, bytes: 0, objects: 0 }).get(kind)!
    tally.bytes += size
    tally.objects++
  }
  owners.forEach((owner, i) => (owner.kinds = [...kinds[i]!.values()].sort((a, b) => b.bytes - a.bytes)))
  return { bytes: total, owners: owners.filter((o) => o.objects > 0).sort((a, b) => b.bytes - a.bytes) }
}

/** "object:ClientState", "closure:end", "string", "array": an object's type and, but for strings, its name. */
function kindOf(g: Graph, n: number): string {
  const type = g.nodeType(n)
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') return type
  const name = g.nodeName(n)
  return name === '' ? type : `${type}:${name.slice(0, 40)}`
}

/**
 * "Class.field" for the old object `n` whose edge `edge` leads to new objects: `n` itself when it is an instance
 * of a named class, else the nearest named object above it (a Map's table belongs to the field holding the Map).
 * Node's native objects keep their own names ("(native) TCPSocketWrap").
 */
function ownerOf(g: Graph, n: number, edge: string, isNew: (n: number) => boolean): string {
  let field = edge
  let at = n
  for (let step = 0; step < OWNER_STEPS; step++) {
    const type = g.nodeType(at)
    const name = g.nodeName(at)
    if (type === 'native' || type === 'synthetic') return `(native) ${name.replace(/^Node \/ /, '')}`
    if (type === 'closure' && name !== '') return `${name}() ${field}`
    if (type === 'object' && !ANONYMOUS.has(name) && !name.startsWith('system /')) return `${name}.${field}`
    const up = g.retainer[at]!
    if (up === -1 || isNew(up)) break
    const via = g.retainerEdge[at]!
    if (via !== '[]' && !via.startsWith('(')) field = via
    at = up
  }
  return `${g.nodeType(n)}:${g.nodeName(n).slice(0, 40) || '(anonymous)'}.${edge}`
}
