// npm run bench:heap: what is new between two heap snapshots goes to the old
// object nearest to it, and a real crowd's account names what Transport Lab
// keeps per connection that the bare library does not.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountHeap } from '../../benchmarks/heap-account.ts'
import { accountNew, idsOf, type HeapSnapshot } from '../../benchmarks/heap-snapshot.ts'
import { subject } from '../../benchmarks/subjects.ts'

let temp: string
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'bench-heap-'))
})
afterAll(async () => {
  await rm(temp, { recursive: true, force: true })
})

/** A snapshot of nodes [type, name, id, size, edges...] and edges [type, name, to-node index]. */
function snapshot(nodes: Array<[string, string, number, number, Array<[string, string, number]>]>): HeapSnapshot {
  const nodeTypes = ['object', 'closure', 'array', 'native', 'synthetic', 'string']
  const edgeTypes = ['property', 'element', 'hidden', 'weak', 'internal']
  const strings: string[] = []
  const str = (s: string) => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1)
  return {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [nodeTypes],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [edgeTypes],
      },
    },
    nodes: nodes.flatMap(([type, name, id, size, edges]) => [
      nodeTypes.indexOf(type),
      str(name),
      id,
      size,
      edges.length,
    ]),
    edges: nodes.flatMap(([, , , , edges]) =>
      edges.flatMap(([type, name, to]) => [edgeTypes.indexOf(type), str(name), to * 5]),
    ),
    strings,
  }
}

describe('the heap account of two snapshots', () => {
  // Before: a root, a Hub whose clients Map has a table, and Node's global handles. After: the same, the Map's
  // table grown (a new one), holding a new client that holds a Set and a socket; the socket is also one step
  // from the global handles. A cache is reached only through a weak edge.
  const after = snapshot([
    [
      'synthetic',
      '',
      1,
      0,
      [
        ['element', '1', 1],
        ['element', '2', 5],
        ['weak', '3', 7],
      ],
    ],
    ['object', 'Hub', 3, 40, [['property', 'clients', 2]]],
    ['object', 'Map', 5, 32, [['internal', 'table', 3]]],
    ['array', '', 109, 200, [['element', '0', 4]]],
    [
      'object',
      'Object',
      111,
      100,
      [
        ['property', 'rooms', 6],
        ['property', 'socket', 8],
      ],
    ],
    ['synthetic', '(Global handles)', 9, 0, [['element', '0', 8]]],
    ['object', 'Set', 113, 30, []],
    ['object', 'Cache', 115, 70, []],
    ['object', 'Socket', 117, 300, [['property', 'handle', 9]]],
    ['native', 'TCPSocketWrap', 119, 5000, []],
  ])
  const before = new Set([1, 3, 5, 7, 9])
  const account = accountNew(before, after)
  const owner = (name: string) => account.owners.find((o) => o.owner === name)

  it("gives a Map's new entries to the field holding the Map, with the table it grew into, by kind", () => {
    expect(owner('Hub.clients')).toEqual({
      owner: 'Hub.clients',
      bytes: 200 + 100 + 30,
      objects: 3,
      kinds: [
        { kind: 'array', bytes: 200, objects: 1 },
        { kind: 'object:Object', bytes: 100, objects: 1 },
        { kind: 'object:Set', bytes: 30, objects: 1 },
      ],
    })
  })

  it('gives an object two owners reach to the nearer one: the socket is one step from the global handles', () => {
    expect(owner('(native) (Global handles)')).toMatchObject({ bytes: 300 })
  })

  it('counts what a weak edge holds as unreachable, and native memory as outside the heap', () => {
    expect(owner('(unreachable from older objects)')).toMatchObject({ bytes: 70, objects: 1 })
    expect(account.bytes).toBe(200 + 100 + 30 + 300 + 70)
  })

  it('names the field of a real class in a real V8 snapshot', async () => {
    const script = join(temp, 'shelf.mjs')
    await writeFile(
      script,
      [
        "import { writeHeapSnapshot } from 'node:v8'",
        'class Shelf { items = new Map() }',
        'globalThis.shelf = new Shelf()',
        `writeHeapSnapshot(${JSON.stringify(join(temp, 'a.heapsnapshot'))})`,
        'for (let i = 0; i < 500; i++) shelf.items.set(i, { i, label: `item ${i}` })',
        `writeHeapSnapshot(${JSON.stringify(join(temp, 'b.heapsnapshot'))})`,
      ].join('\n'),
    )
    execFileSync(process.execPath, [script])
    const read = async (name: string) => JSON.parse(await readFile(join(temp, name), 'utf8')) as HeapSnapshot
    const real = accountNew(idsOf(await read('a.heapsnapshot')), await read('b.heapsnapshot'))
    expect(real.owners[0]).toMatchObject({ owner: 'Shelf.items' })
    // Each item is an object of its own (its label, a string, nearly always another).
    expect(real.owners[0]!.objects).toBeGreaterThanOrEqual(500)
  })
})

describe('npm run bench:heap', () => {
  it('refuses a transport it does not know, or a count that is not one, with status 2 and its usage', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'benchmarks/heap-account.ts', ...args], {
        cwd: new URL('../../', import.meta.url),
        encoding: 'utf8',
      })
    for (const [args, said] of [
      [['--transports', 'carrier-pigeon'], '--transports carrier-pigeon'],
      [['--clients', 'lots'], '--clients lots'],
      [['--kinds', 'many'], '--kinds many'],
      [['--hold-ms', 'soon'], '--hold-ms soon'],
    ] as const) {
      const { status, stderr } = run(...args)
      expect(status, args.join(' ')).toBe(2)
      expect(stderr).toContain(`bench:heap: ${said}`)
      expect(stderr).toContain('Usage: npm run bench:heap')
    }
  })

  it("names what Transport Lab keeps per WebSocket that bare ws does not: the hub's client and the inspector's handshake, lean", async () => {
    const lab = await accountHeap(subject('lab', 'websocket'), 50)
    const bare = await accountHeap(subject('bare-ws', 'websocket'), 50)
    expect(lab.clients).toBe(50)
    const perClient = (account: typeof lab, name: string) => account.owners.find((o) => o.owner === name)?.objects ?? 0
    for (const name of ['Hub.clients', 'HandshakeLog.pins']) {
      expect(perClient(lab, name), name).toBeGreaterThanOrEqual(1)
      expect(perClient(bare, name), name).toBe(0)
    }
    // Both hold a socket per client, through Node's own handles.
    expect(perClient(lab, '(native) (Global handles)')).toBeGreaterThan(10)
    expect(perClient(bare, '(native) (Global handles)')).toBeGreaterThan(10)
    // What the hub once kept per client and no longer does: a Set of its rooms, its id as a slice of a whole UUID,
    // a rate bucket before its first message, its join notice's fields in a property array of their own.
    const kinds = (name: string) => lab.owners.find((o) => o.owner === name)!.kinds.map((k) => k.kind)
    expect(kinds('Hub.clients')).not.toContain('object:Set')
    expect(kinds('Hub.clients')).not.toContain('sliced string')
    expect(kinds('Hub.clients')).not.toContain('object:TokenBucket')
    expect(kinds('Hub.rooms')).not.toContain('hidden:system / PropertyArray')
    // The inspector's frame log is one object and its Buffer (the view and its ArrayBuffer): each way's reader
    // and ring keep their state in that Buffer, not in objects of their own (they were 8 objects, 701 B).
    expect(perClient(lab, 'WireMeter.frameLogs')).toBeGreaterThanOrEqual(1)
    expect(perClient(lab, 'WireMeter.frameLogs')).toBeLessThan(4)
    // The meter's counts for the stream are the Stream's own fields, not an object beside it. The meter holds a
    // stream twice, among its open streams and listed under its connection, equally near: either may own it.
    const streams = lab.owners.find((o) => o.kinds.some((k) => k.kind === 'object:Stream'))
    expect(['WireMeter.streams', 'WireMeter.listed']).toContain(streams?.owner)
    expect(streams!.kinds.map((k) => k.kind)).not.toContain('object:Object')
  }, 120_000)

  it('keeps a long-polling member without a closure of its own: its transport ends it through one function for all', async () => {
    const lab = await accountHeap(subject('lab', 'long-polling'), 50)
    expect(lab.clients).toBe(50)
    const member = lab.owners.find((o) => o.owner === 'Hub.clients')!
    expect(member.objects).toBeGreaterThanOrEqual(1)
    const kinds = member.kinds.map((k) => k.kind)
    expect(kinds).not.toContain('closure')
    expect(kinds).not.toContain('object:system / Context')
  }, 120_000)

  it("keeps an SSE stream without a Timeout of its own, its response head as Node's rope of pieces, or its request's headers", async () => {
    // More streams than grains in SSE_STREAM_MAX_MS ±10% (61): a timer per stream would be one per client.
    const lab = await accountHeap(subject('lab', 'sse'), 200)
    expect(lab.clients).toBe(200)
    const held = (kind: string) =>
      lab.owners.reduce((n, o) => n + (o.kinds.find((k) => k.kind === kind)?.objects ?? 0), 0)
    // Renewals are due in shared grains (server/core/schedule.ts), at most 61 timers, not one per stream.
    expect(held('object:Timeout')).toBeLessThan(0.5)
    // res._header, concatenated line by line, is read (and so flattened) when the stream opens: about twenty
    // pieces per stream before.
    expect(held('concatenated string')).toBeLessThan(5)
    const kinds = (name: string) => lab.owners.find((o) => o.owner === name)?.kinds ?? []
    // The room's join notices gain no property from going out as SSE events (their event is kept beside them
    // for the turn): a property added to an object after it was made is a property array of its own.
    expect(kinds('Hub.rooms').map((k) => k.kind)).not.toContain('hidden:system / PropertyArray')
    // An HTTP session is its token and its stream on the wire meter, without an object holding the two.
    expect(kinds('HttpSessions.tokens').map((k) => k.kind)).not.toContain('object:Object')
    // The request that opened a stream lets its headers go once the stream is open: what Node keeps for the
    // open response holds about five strings per stream (its URL, ...), not the dozen with every header.
    const socketStrings = kinds('(native) (Global handles)').find((k) => k.kind === 'string')?.objects ?? 0
    expect(socketStrings).toBeLessThan(7)
  }, 120_000)
})
