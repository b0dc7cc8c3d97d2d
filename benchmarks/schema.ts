// The results of `npm run bench`, as written to benchmarks/results/latest.json
// and read by the UI's Benchmarks tab (GET /api/bench). One TypeBox schema,
// checked by the tests; `BenchResults` is its TypeScript type. Bump
// RESULTS_VERSION whenever a field changes meaning or goes away.
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

export const RESULTS_VERSION = 2

const Nullable = <T extends ReturnType<typeof Type.Number>>(schema: T) => Type.Union([schema, Type.Null()])
const Num = Type.Number()
const MaybeNum = Nullable(Type.Number())

export const TargetName = Type.Union([
  Type.Literal('lab'),
  Type.Literal('bare-ws'),
  Type.Literal('bare-socket.io'),
  Type.Literal('bare-fastify'),
])
export const TransportName = Type.Union([
  Type.Literal('short-polling'),
  Type.Literal('long-polling'),
  Type.Literal('sse'),
  Type.Literal('websocket'),
  Type.Literal('socket.io'),
])

/** Which process and transport a row is about. */
const SubjectFields = {
  /** "lab/websocket", "bare-ws/websocket", ... */
  subject: Type.String(),
  target: TargetName,
  transport: TransportName,
  /** For people: "WebSocket", "bare ws (WebSocket)" */
  label: Type.String(),
}

export const Bytes = Type.Object({ bytes: Num, payload: Num, overhead: Num })
/** One leg of a delivery, per message: `in` is what the server read, `out` what it wrote. */
export const LegBytes = Type.Object({ in: Bytes, out: Bytes })

export const Loss = Type.Object({ reason: Type.String(), count: Num })

/** One figure over the repetitions of its measurement: each reading in order, the lowest and the highest. */
export const Spread = Type.Object({ values: Type.Array(Num), min: Num, max: Num })
const MaybeSpread = Type.Union([Spread, Type.Null()])

export const Accounting = Type.Object({
  receivers: Num,
  sent: Num,
  failedSends: Num,
  expected: Num,
  delivered: Num,
  lost: Num,
  losses: Type.Array(Loss),
  duplicates: Num,
})

export const LatencySummary = Type.Object({
  count: Num,
  minUs: MaybeNum,
  meanUs: MaybeNum,
  p50Us: MaybeNum,
  p90Us: MaybeNum,
  p99Us: MaybeNum,
  p999Us: MaybeNum,
  maxUs: MaybeNum,
})

export const WireRow = Type.Object({
  ...SubjectFields,
  /** Length of the message text, in bytes (16, 256, 4096). */
  textBytes: Num,
  messages: Num,
  /** Sender <-> server: in = the send (request or frame), out = its answer (HTTP response; nothing on push). */
  send: LegBytes,
  /** Server <-> receiver: out = the delivery (response, event or frame), in = what the receiver had to send for it (a poll request). */
  receive: LegBytes,
  /** receive.in.bytes + receive.out.bytes: what one delivery costs a receiver's link, used by the projection. */
  receiveBytesPerMessage: Num,
  /** How the legs were told apart: Transport Lab by two passes (the other leg on another transport), baselines by ?role= tallies. */
  method: Type.Union([Type.Literal('two-pass'), Type.Literal('role-tallies')]),
})

export const HandshakeRow = Type.Object({
  ...SubjectFields,
  /** What "connecting" means for this client, e.g. "join POST", "101 upgrade", "polling, then upgrade". */
  variant: Type.String(),
  /** Bytes the server read and wrote from the first byte to the client being ready (its welcome when it has one). */
  bytesIn: Num,
  bytesOut: Num,
  payloadBytes: Num,
  /** bytesIn + bytesOut - payloadBytes: request and status lines, headers, Engine.IO/Socket.IO handshake packets, framing. */
  overheadBytes: Num,
  httpRequests: Num,
  request: Type.Union([Type.Array(Type.String()), Type.Null()]),
  response: Type.Union([Type.Array(Type.String()), Type.Null()]),
})

export const ProjectionRow = Type.Object({
  ...SubjectFields,
  textBytes: Num,
  bytesPerMessage: Num,
  /** Mbit/s for N clients each receiving one message per second. */
  mbps: Type.Array(Type.Object({ clients: Num, mbps: Num })),
})

/** A latency window: what the latency and noisy scenarios measure alike. */
const MeasuredLatency = {
  measuredMs: Num,
  latency: LatencySummary,
  /** Deliveries of messages sent in the measured window; must equal latency.count. */
  deliveriesMeasured: Num,
  /** Recordings raised to the histogram's floor of 1 ns (a clock that went backwards); reported, never hidden. */
  clamped: Num,
}

export const LatencyRow = Type.Object({
  ...SubjectFields,
  rateHz: Num,
  receivers: Num,
  /** The window of the repetition whose p99 is the median (its histogram is the one shown); a single window in older runs. */
  ...MeasuredLatency,
  /** How many windows were measured, each with receivers of its own. */
  repetitions: Type.Optional(Num),
  /** Every repetition's p50 and p99: the noise a ratio is judged against. */
  spread: Type.Optional(Type.Object({ p50Us: MaybeSpread, p99Us: MaybeSpread })),
  accounting: Accounting,
  note: Type.Optional(Type.String()),
})

export const ThroughputRow = Type.Object({
  ...SubjectFields,
  fanout: Num,
  /** Messages allowed in flight (sent, not yet delivered to every receiver). */
  window: Num,
  /** How many times the window was measured (each time with receivers of its own). */
  repetitions: Num,
  /** The repetitions' windows added up, and what they counted. */
  measuredMs: Num,
  messages: Num,
  deliveries: Num,
  /** The median of the repetitions' figures; each is the median over its window's slices (about one second each). */
  messagesPerSecond: Num,
  /** The median of the repetitions' figures; each is the median over its window's slices (about one second each). */
  deliveriesPerSecond: Num,
  /** Deliveries per second in each slice of every repetition, in order. */
  sliceDeliveriesPerSecond: Type.Optional(Type.Array(Num)),
  /** All the windows' server CPU time. */
  serverCpuSeconds: Num,
  /** Server CPU as a share of one core over the windows (1 = one core busy). */
  serverCpuCores: Num,
  /** The median of the repetitions' deliveries over their server CPU time. */
  deliveriesPerServerCpuSecond: MaybeNum,
  /**
   * HTTP transports: the requests the server served over the window, sends
   * and polls alike, per message it accepted in it (the median of the
   * repetitions). A polling receiver's answer is at most a page, so a busy
   * room costs it more polls.
   */
  requestsPerMessage: Type.Optional(Num),
  loadCpuSeconds: Num,
  loadCpuCores: Num,
  /** Each repeated figure's readings: the median above is the middle one. */
  spread: Type.Object({
    messagesPerSecond: MaybeSpread,
    deliveriesPerSecond: MaybeSpread,
    deliveriesPerServerCpuSecond: MaybeSpread,
  }),
  /** The load client used most of a core: the figure may be the client's limit, not the server's. */
  clientBound: Type.Boolean(),
  accounting: Accounting,
  note: Type.Optional(Type.String()),
})

export const HttpRow = Type.Object({
  ...SubjectFields,
  endpoint: Type.Union([Type.Literal('POST send'), Type.Literal('GET poll')]),
  connections: Num,
  /** How many autocannon runs; the counts and times below add them up, the rates are their medians. */
  repetitions: Num,
  measuredMs: Num,
  requests: Num,
  requestsPerSecond: Num,
  /** autocannon's latency, whole milliseconds (the median of the runs'). */
  latencyMsP50: Num,
  latencyMsP99: Num,
  non2xx: Num,
  errors: Num,
  serverCpuSeconds: Num,
  requestsPerServerCpuSecond: MaybeNum,
  loadCpuCores: Num,
  clientBound: Type.Boolean(),
  spread: Type.Object({ requestsPerSecond: MaybeSpread, requestsPerServerCpuSecond: MaybeSpread }),
})

export const IdleRow = Type.Object({
  ...SubjectFields,
  clients: Num,
  connected: Num,
  /**
   * Clients of the first half, connected when "before" was read (since the
   * sixteenth pass; before it, "before" was read with nobody connected).
   */
  connectedBefore: Type.Optional(Num),
  failed: Num,
  failures: Type.Array(Loss),
  /**
   * How many times the crowd was measured, each time on a fresh server; every
   * figure below is the median of the repetitions' (connected: the fewest,
   * failed and dropped: all added up).
   */
  repetitions: Num,
  /** One repetition's hold. */
  holdMs: Num,
  loadProcesses: Num,
  heapBeforeBytes: Num,
  heapAfterBytes: Num,
  rssBeforeBytes: Num,
  rssAfterBytes: Num,
  /** V8's young generation (physical size) in the before and after readings; runs before the ninth pass lack them. */
  youngBeforeBytes: Type.Optional(Num),
  youngAfterBytes: Type.Optional(Num),
  /** (after - before) / (connected - connectedBefore), both read after a full GC and a hold. */
  heapPerConnectionBytes: MaybeNum,
  /** The same for RSS less V8's young generation, which follows the allocation rate (since the ninth pass). */
  rssPerConnectionBytes: MaybeNum,
  serverCpuSecondsPerMinute: Num,
  /**
   * Of that CPU time, V8's garbage-collection pauses in the hold, per minute (since the nineteenth pass): an idle
   * server's minute can be mostly V8 collecting a heap nobody changes (its memory reducer), which is not its code.
   */
  serverGcSecondsPerMinute: Type.Optional(Num),
  /**
   * Whether the hold's CPU reading started after a full GC, so that the garbage of the crowd's joins was not
   * charged to the hold (since the seventeenth pass; before it, a collection of it could fall inside the hold).
   */
  holdAfterGc: Type.Optional(Type.Boolean()),
  requestsPerMinute: Num,
  bytesInPerMinute: Num,
  bytesOutPerMinute: Num,
  /** Clients that stopped during the hold (a closed stream, a poll that gave up). */
  droppedDuringHold: Num,
  /** SSE: streams the server ended (renewals) that the clients reopened with Last-Event-ID during the hold; those requests are in requestsPerMinute. */
  reconnects: Type.Optional(Num),
  spread: Type.Object({
    heapPerConnectionBytes: MaybeSpread,
    rssPerConnectionBytes: MaybeSpread,
    serverCpuSecondsPerMinute: MaybeSpread,
  }),
  note: Type.Optional(Type.String()),
})

/** Where the scale scenario's clients were, in one repetition. */
export const ScalePlacement = Type.Object({
  /** The instance (INSTANCE_ID) the sender was on; null for a server without Redis. */
  sender: Type.Union([Type.String(), Type.Null()]),
  /** Receivers per instance, as the room's shared presence said ("in memory" for a server without Redis). */
  receivers: Type.Record(Type.String(), Num),
})

/** Commands over the messages sent meanwhile, all repetitions added up, by command name. */
export const RedisCount = Type.Object({
  messages: Num,
  commands: Num,
  perMessage: MaybeNum,
  byCommand: Type.Record(Type.String(), Num),
})

export const ScaleRow = Type.Object({
  /** alone: one server in memory (the baseline); redis: one server with REDIS_URL; cluster: two servers and Redis behind nginx. */
  setup: Type.Union([Type.Literal('alone'), Type.Literal('redis'), Type.Literal('cluster')]),
  label: Type.String(),
  instances: Num,
  repetitions: Num,
  receivers: Num,
  placements: Type.Array(ScalePlacement),
  /** The window pass: messages in flight at most, its measured time and what it counted, all repetitions added up. */
  window: Num,
  measuredMs: Num,
  messages: Num,
  deliveries: Num,
  /** The median of the repetitions' figures, each the median of its window's slices (about a second each). */
  deliveriesPerSecond: Num,
  messagesPerSecond: Num,
  /** The latency pass: the offered rate, its measured time (added up), and the medians of the repetitions' p50 and p99. */
  rateHz: Num,
  latencyMeasuredMs: Num,
  p50Us: MaybeNum,
  p99Us: MaybeNum,
  /** Latency samples recorded, and the deliveries of the messages timed: equal. */
  samples: Num,
  deliveriesMeasured: Num,
  clamped: Num,
  spread: Type.Object({ deliveriesPerSecond: MaybeSpread, p50Us: MaybeSpread, p99Us: MaybeSpread }),
  /** This setup's figure over the one server alone's (1 for that one; null when it was not measured). */
  vsAlone: Type.Object({ deliveriesPerSecond: MaybeNum, p50Us: MaybeNum, p99Us: MaybeNum }),
  /** What Redis did for the messages; null without Redis. */
  redis: Type.Union([
    Type.Object({
      /**
       * The round trips: every command the servers sent to Redis (MONITOR, not those the Lua scripts ran)
       * over a counting pass of their own after the window pass, at the latency pass's rate.
       */
      sent: RedisCount,
      /**
       * Every command Redis ran over the window passes (INFO commandstats, read with nothing in flight before
       * and after, the bench's own readings left out): those sent and those the scripts ran for them.
       */
      ran: RedisCount,
    }),
    Type.Null(),
  ]),
  loadCpuCores: Num,
  clientBound: Type.Boolean(),
  accounting: Accounting,
  note: Type.Optional(Type.String()),
})

export const Comparison = Type.Object({
  /** e.g. "throughput, fan-out 1", "heap per connection" */
  metric: Type.String(),
  transport: TransportName,
  baselineTarget: TargetName,
  unit: Type.String(),
  better: Type.Union([Type.Literal('higher'), Type.Literal('lower')]),
  lab: MaybeNum,
  baseline: MaybeNum,
  /** lab / baseline */
  ratio: MaybeNum,
  /** How much worse Transport Lab is (0.25 = 25% worse; negative = better). */
  worseBy: MaybeNum,
  /** More than 10% worse, and beyond the spread of the repetitions (every reading of the lab's worse than every one of the baseline's). */
  flagged: Type.Boolean(),
  /** More than 10% worse, but the two figures' readings overlap: this run cannot tell the difference from noise. */
  withinSpread: Type.Boolean(),
  /** The readings behind lab and baseline, when the figure was repeated. */
  labSpread: MaybeSpread,
  baselineSpread: MaybeSpread,
  /** The target applies (WebSocket vs bare ws and Socket.IO vs bare Socket.IO, on throughput and memory per connection). */
  target: Type.Boolean(),
  note: Type.Optional(Type.String()),
})

export const Environment = Type.Object({
  cpuModel: Type.String(),
  cores: Num,
  memoryBytes: Num,
  platform: Type.String(),
  osRelease: Type.String(),
  node: Type.String(),
  v8: Type.String(),
  /** ulimit -n of the processes */
  fdLimit: MaybeNum,
  libraries: Type.Record(Type.String(), Type.String()),
  /** Transport Lab's settings in this run (the same values given to the baselines where they apply). */
  settings: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  socketIoClientTransports: Type.Array(Type.String()),
  /** The commit measured (git rev-parse --short HEAD), "+changes" when server/ had uncommitted changes. */
  revision: Type.Optional(Type.String()),
  /**
   * What the bench added to Transport Lab's environment because all its load
   * comes from one address (the limits out of reach), where the user had not
   * set them; `settings` shows the values in force.
   */
  labEnv: Type.Optional(Type.Record(Type.String(), Type.String())),
})

export const RunOptions = Type.Object({
  quick: Type.Boolean(),
  scenarios: Type.Array(Type.String()),
  transports: Type.Array(TransportName),
  baselines: Type.Boolean(),
  clients: Num,
  rate: Num,
  receivers: Num,
  fanouts: Type.Array(Num),
  textBytes: Type.Array(Num),
  wireMessages: Num,
  latencyMs: Num,
  throughputMs: Num,
  warmupMs: Num,
  idleHoldMs: Num,
  /** Each throughput and memory figure is the median of this many measurements. */
  repetitions: Num,
  /** noisy: the bystanders' messages per second, all senders together, and the measured window. */
  noisyRateHz: Type.Optional(Num),
  noisyMs: Type.Optional(Num),
  /** slow-readers: readers that stop reading, per transport. */
  slowReaders: Type.Optional(Num),
  /** dead-peers: shortened heartbeats and leases (the quick run) instead of the server's settings. */
  deadPeersShortened: Type.Optional(Type.Boolean()),
  /** ticker: the server's TICKER_HZ and the measured window. */
  tickerHz: Type.Optional(Num),
  tickerMs: Type.Optional(Num),
  /** joins: the N of each measurement. */
  joins: Type.Optional(Type.Array(Num)),
  /** --profile: the folder the CPU and heap profiles went to (a profiled run is never the reference run). */
  profile: Type.Optional(Type.String()),
})

export const PushTransport = Type.Union([Type.Literal('sse'), Type.Literal('websocket'), Type.Literal('socket.io')])

/** joins: N clients of one push transport joining one room on a fresh server, then held. */
export const JoinsRow = Type.Object({
  ...SubjectFields,
  /** alone (absent in older runs): the server in memory; redis: with REDIS_URL, presence through the shared log. */
  setup: Type.Optional(Type.Union([Type.Literal('alone'), Type.Literal('redis')])),
  /** N: the clients asked to join */
  clients: Num,
  /** Clients that got their welcome. */
  joined: Num,
  /** Clients that failed to join, and why. */
  failed: Num,
  failures: Type.Array(Loss),
  /** Clients never started because the joins took longer than the limit. */
  notStarted: Num,
  /** The room's presence as GET /api/rooms/:room/presence counted it once the joins were done (or the limit came). */
  memberCount: Num,
  /** Whether every client had its welcome and the presence counted N within the limit. */
  complete: Type.Boolean(),
  /** From the first join to presence counting N (or the limit), ms. */
  joinMs: Num,
  /** The server's CPU time over joinMs, s. */
  cpuSeconds: Num,
  /** cpuSeconds / joined, ms; null when none joined. */
  cpuMsPerJoin: Type.Union([Num, Type.Null()]),
  /** cpuMsPerJoin over the same transport's at the smallest N: 1.0 = linear in N; null for the smallest N itself or when unknown. */
  perJoinRatio: Type.Union([Num, Type.Null()]),
  /** Presence deliveries (notices, coalesced presence entries) the joined clients received, all together, by the end of the hold. */
  presenceDeliveries: Num,
  /** presenceDeliveries / joined: about N/2 when every join goes to every member, a few when they are coalesced. */
  presencePerClient: Type.Union([Num, Type.Null()]),
  holdMs: Num,
  /** Clients that closed or failed during the hold. */
  droppedDuringHold: Num,
  dropReasons: Type.Array(Loss),
  note: Type.Optional(Type.String()),
})
export const FloodTransport = Type.Union([Type.Literal('websocket'), Type.Literal('socket.io'), Type.Literal('http')])

/** What the flooder of a noisy phase tried and what the server made of it. */
export const FloodReport = Type.Object({
  transport: FloodTransport,
  /** "WebSocket frames", "Socket.IO emits", "HTTP POSTs (4 keep-alive connections)" */
  label: Type.String(),
  durationMs: Num,
  /** Sends the flooder put on the wire. */
  attempted: Num,
  /** Messages the server published: the seq of the room flooded (nobody joins it, so every entry is a flood message). */
  accepted: Num,
  /** LAB_ERR_RATE_LIMIT answers: error frames, error events or acks, HTTP 429s. */
  refused: Num,
  /** Any other error answer (code: count). */
  otherErrors: Type.Array(Loss),
  /** How the server ended the flooder's connection, if it did: "1008 LAB_ERR_RATE_LIMIT", "error LAB_ERR_RATE_LIMIT, then io server disconnect". */
  closed: Type.Union([Type.String(), Type.Null()]),
  /** From the flood's first send to that close. */
  closedAfterMs: MaybeNum,
  /** The flooder's own process, as a share of one core over the flood. */
  loadCpuCores: Num,
})

export const NoisyRow = Type.Object({
  /** "quiet" = nobody flooding; "flood" = one client flooding as fast as it can. */
  phase: Type.Union([Type.Literal('quiet'), Type.Literal('flood')]),
  /** The server's message limit in this phase: its defaults, or MESSAGE_RATE=0. */
  limit: Type.Union([Type.Literal('on'), Type.Literal('off')]),
  messageRate: Num,
  messageBurst: Num,
  /** For people: "nobody flooding, limit on", "WebSocket flood, limit off". */
  label: Type.String(),
  flood: Type.Union([FloodReport, Type.Null()]),
  /** The bystanders' delivery latency over the measured window. */
  ...MeasuredLatency,
  /** p50 and p99 over those of the quiet phase on the same server. */
  p50Ratio: MaybeNum,
  p99Ratio: MaybeNum,
  /** Server CPU over the measured window, as a share of one core. */
  serverCpuCores: Num,
  accounting: Accounting,
  note: Type.Optional(Type.String()),
})

export const MemoryReading = Type.Object({
  rssBytes: Num,
  heapUsedBytes: Num,
  /** external + arrayBuffers: Buffers, where socket write queues live. */
  externalBytes: Num,
})

export const SlowReadersRow = Type.Object({
  transport: PushTransport,
  label: Type.String(),
  /** Readers that stopped reading (their TCP socket paused after the welcome). */
  readers: Num,
  sendBufferBytes: Num,
  /** readers x SEND_BUFFER_BYTES: what the policy lets the stopped readers cost at most, before per-connection overheads. */
  budgetBytes: Num,
  textBytes: Num,
  /** Messages of the flood (each delivered to every reader still in the room) and how long it ran. */
  floodMessages: Num,
  floodMs: Num,
  /** Why the flood stopped: every stopped reader had been closed, or the time limit. */
  stoppedBecause: Type.Union([Type.Literal('all closed'), Type.Literal('time limit')]),
  /** Stopped readers gone from presence when the flood stopped. */
  closedAsSlow: Num,
  /** From the flood's first message until the last stopped reader left presence. */
  allClosedAfterMs: MaybeNum,
  /** What the readers read once they resumed: the goodbye each was told ("1013 LAB_ERR_SLOW_CONSUMER", ...) or how it was cut. */
  told: Type.Array(Loss),
  before: MemoryReading,
  /** The highest of each figure over the readings taken during the flood (no GC before them). */
  peak: MemoryReading,
  after: MemoryReading,
  /** Readings taken during the flood. */
  samples: Num,
  peakRssGrowthBytes: Num,
  peakHeapGrowthBytes: Num,
  peakExternalGrowthBytes: Num,
  /** The control: the same number of messages through a room with only the bystander, on a fresh process of its own. */
  controlPeakRssGrowthBytes: Num,
  controlPeakHeapGrowthBytes: Num,
  controlPeakExternalGrowthBytes: Num,
  /** peakRssGrowthBytes - controlPeakRssGrowthBytes: what the stopped readers cost at the peak. */
  readersRssBytes: Num,
  /** readersRssBytes / budgetBytes */
  readersRssToBudget: MaybeNum,
  /** After a full GC at the end of the flood, before the stopped readers were let go: live memory, their queues included. */
  held: MemoryReading,
  /** (heap + external) of `held` over `before`; the control's the same way. */
  heldGrowthBytes: Num,
  controlHeldGrowthBytes: Num,
  /** heldGrowthBytes - controlHeldGrowthBytes: the live bytes the server kept for the stopped readers. */
  readersHeldBytes: Num,
  /** readersHeldBytes / budgetBytes: about 1 when the policy holds each stopped reader to SEND_BUFFER_BYTES. */
  readersHeldToBudget: MaybeNum,
  /** after - before, RSS, both after a full GC: what the episode left behind. */
  afterRssGrowthBytes: Num,
  /** A reader that kept reading, in the same room: delivered + lost = expected. */
  bystander: Accounting,
  note: Type.Optional(Type.String()),
})

export const DeadPeerRow = Type.Object({
  ...SubjectFields,
  /** What the dead peer does, e.g. "a WebSocket that never answers pings (ws autoPong: false)". */
  how: Type.String(),
  /** The settings that decide when it is reaped, and their values in this run. */
  settings: Type.Record(Type.String(), Num),
  /** The window the settings allow, from the moment the peer stops answering (see deadPeerWindow in metrics.ts). */
  expectedMinMs: Num,
  expectedMaxMs: Num,
  /** From the moment it stopped answering until it was gone from GET /api/rooms/:room/presence. */
  goneFromPresenceMs: MaybeNum,
  /** ... until the server's count of open connections of its transport (GET /api/wire) dropped to what it was before it connected. */
  connectionClosedMs: MaybeNum,
  note: Type.Optional(Type.String()),
})

/** The age of an update when it arrives, in µs: receipt minus the tick's time (sentAt), both wall-clock. */
export const AgeSummary = Type.Object({
  count: Num,
  minUs: MaybeNum,
  p50Us: MaybeNum,
  p95Us: MaybeNum,
  maxUs: MaybeNum,
})

export const TickerRow = Type.Object({
  ...SubjectFields,
  /** Updates the server's log holds for the measured window: what this receiver should have had. */
  published: Num,
  /** Of those, the ones it received. */
  received: Num,
  /** HTTP responses, SSE events, WebSocket frames or Socket.IO packets that carried at least one of them. */
  deliveries: Num,
  /** received / deliveries, and the most one delivery carried. */
  updatesPerDeliveryMean: MaybeNum,
  updatesPerDeliveryMax: MaybeNum,
  age: AgeSummary,
  /** Ages below the histogram's floor of 1 ns (the two processes' clocks disagreeing), raised to it; reported, never hidden. */
  clamped: Num,
  accounting: Accounting,
  note: Type.Optional(Type.String()),
})

/** Something the run could not measure, and what the run did about it. */
export const Failure = Type.Object({
  /** The scenario or step: "ticker", "idle bare-ws/websocket", "starting the load process", ... */
  step: Type.String(),
  error: Type.String(),
  /** stopped: the run ended there and wrote what it had; skipped: only this was left out (a server that did not start twice). */
  outcome: Type.Union([Type.Literal('stopped'), Type.Literal('skipped')]),
})

export const BenchResults = Type.Object({
  version: Type.Literal(RESULTS_VERSION),
  startedAt: Type.String(),
  finishedAt: Type.String(),
  durationMs: Num,
  mode: Type.Union([Type.Literal('quick'), Type.Literal('default')]),
  /**
   * Present when the run did not measure everything it was asked to: a partial run, which never replaces latest.*.
   * `notMeasured` are the scenarios asked for that have no section.
   */
  partial: Type.Optional(Type.Object({ failures: Type.Array(Failure), notMeasured: Type.Array(Type.String()) })),
  command: Type.String(),
  options: RunOptions,
  environment: Environment,
  wire: Type.Optional(
    Type.Object({
      rows: Type.Array(WireRow),
      handshakes: Type.Array(HandshakeRow),
      projection: Type.Array(ProjectionRow),
    }),
  ),
  latency: Type.Optional(
    Type.Object({
      rateHz: Num,
      receivers: Num,
      shortPollIntervalMs: Num,
      rows: Type.Array(LatencyRow),
    }),
  ),
  throughput: Type.Optional(
    Type.Object({
      rows: Type.Array(ThroughputRow),
      http: Type.Array(HttpRow),
    }),
  ),
  idle: Type.Optional(
    Type.Object({
      clients: Num,
      holdMs: Num,
      rows: Type.Array(IdleRow),
    }),
  ),
  noisy: Type.Optional(
    Type.Object({
      /** The bystanders: messages per second from `senders` senders (each under the default MESSAGE_RATE) to `receivers` receivers, all on this transport. */
      transport: TransportName,
      rateHz: Num,
      senders: Num,
      receivers: Num,
      textBytes: Num,
      rows: Type.Array(NoisyRow),
    }),
  ),
  slowReaders: Type.Optional(
    Type.Object({
      readers: Num,
      textBytes: Num,
      sendBufferBytes: Num,
      rows: Type.Array(SlowReadersRow),
    }),
  ),
  deadPeers: Type.Optional(
    Type.Object({
      /** Shortened settings (a quick run) rather than the server's own. */
      shortened: Type.Boolean(),
      /** How often presence and the connection counts were read: the figures' resolution. */
      pollMs: Num,
      /** The longest the watch went on. */
      capMs: Num,
      rows: Type.Array(DeadPeerRow),
    }),
  ),
  ticker: Type.Optional(
    Type.Object({
      /** TICKER_HZ of the server measured. */
      hz: Num,
      /** The window whose updates are measured, and how many the server's log holds for it. */
      measuredMs: Num,
      published: Num,
      publishedPerSecond: Num,
      shortPollIntervalMs: Num,
      rows: Type.Array(TickerRow),
    }),
  ),
  joins: Type.Optional(
    Type.Object({
      /** The N of each measurement (--joins), per push transport. */
      counts: Type.Array(Num),
      /** Clients opening at once, per load process. */
      concurrency: Num,
      /** How long each N may take to join before it is cut short, ms. */
      limitMs: Num,
      holdMs: Num,
      rows: Type.Array(JoinsRow),
    }),
  ),
  scale: Type.Optional(
    Type.Object({
      /** One WebSocket room: `receivers` receivers and a sender, messages of `textBytes` bytes of text. */
      transport: Type.Literal('websocket'),
      receivers: Num,
      rateHz: Num,
      window: Num,
      textBytes: Num,
      /** A line for each setup not measured (redis-server or nginx missing, or a start that failed twice). */
      skipped: Type.Array(Type.String()),
      rows: Type.Array(ScaleRow),
    }),
  ),
  comparisons: Type.Array(Comparison),
  /** Every message sent, over the whole run: delivered + lost = expected. */
  accounting: Type.Object({
    total: Accounting,
    byScenario: Type.Record(Type.String(), Accounting),
  }),
  notes: Type.Array(Type.String()),
})

export type Bytes = Static<typeof Bytes>
export type LegBytes = Static<typeof LegBytes>
export type Loss = Static<typeof Loss>
export type JoinsRow = Static<typeof JoinsRow>
export type Accounting = Static<typeof Accounting>
export type LatencySummary = Static<typeof LatencySummary>
export type WireRow = Static<typeof WireRow>
export type HandshakeRow = Static<typeof HandshakeRow>
export type ProjectionRow = Static<typeof ProjectionRow>
export type LatencyRow = Static<typeof LatencyRow>
export type ThroughputRow = Static<typeof ThroughputRow>
export type HttpRow = Static<typeof HttpRow>
export type IdleRow = Static<typeof IdleRow>
export type PushTransport = Static<typeof PushTransport>
export type FloodReport = Static<typeof FloodReport>
export type NoisyRow = Static<typeof NoisyRow>
export type MemoryReading = Static<typeof MemoryReading>
export type SlowReadersRow = Static<typeof SlowReadersRow>
export type DeadPeerRow = Static<typeof DeadPeerRow>
export type AgeSummary = Static<typeof AgeSummary>
export type TickerRow = Static<typeof TickerRow>
export type ScalePlacement = Static<typeof ScalePlacement>
export type ScaleRow = Static<typeof ScaleRow>
export type RedisCount = Static<typeof RedisCount>
export type Comparison = Static<typeof Comparison>
export type Failure = Static<typeof Failure>
export type Environment = Static<typeof Environment>
export type RunOptions = Static<typeof RunOptions>
export type BenchResults = Static<typeof BenchResults>

const checker = TypeCompiler.Compile(BenchResults)

/** The first problems with a value that should be BenchResults, or [] when it is. */
export function checkResults(value: unknown): string[] {
  return [...checker.Errors(value)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`)
}
