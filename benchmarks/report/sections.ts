// The report as one list: its sections in order, each a title and blocks
// (what was measured, the tables, the findings, where a chart goes).
// markdown.ts writes this list as latest.md and the UI's Benchmarks tab draws
// the same list in the page, so a table or a section is added, renamed or
// moved here and nowhere else. The browser bundles this file: nothing here or
// in what it imports may need Node, and schema.ts is imported for its types only.
import type { BenchResults } from '../schema.ts'
import { formatBytes, formatDuration, formatNumber } from './format.ts'
import { targetGroups } from './targets.ts'
import {
  checkSentences,
  deadPeersTable,
  handshakeTable,
  httpTable,
  idleTable,
  joinsSentences,
  joinsTable,
  latencyTable,
  noisySentences,
  noisyTable,
  projectionTable,
  ratioTable,
  slowReadersSentences,
  slowReadersTable,
  summaryTable,
  summaryTextBytes,
  throughputTable,
  scaleSentences,
  scaleTable,
  tickerSentence,
  tickerTable,
  wireTable,
  type Table,
} from './tables.ts'

/**
 * One piece of a section. Text is a sentence or a paragraph with Markdown's
 * inline marks only (`*term*`, `**strong**`, `` `code` ``), which latest.md
 * keeps and the page turns into elements.
 */
export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'heading'; text: string }
  | { kind: 'table'; table: Table }
  /** Findings, one sentence each. */
  | { kind: 'list'; items: string[] }
  /** Name and value, one pair a line: the machine the run was measured on. */
  | { kind: 'pairs'; pairs: Array<[string, string]> }
  /** A chart the bench draws from this section's figures (charts.ts), shown where it was drawn. */
  | { kind: 'chart'; file: string; alt: string }

export interface ReportSection {
  /** Stable, for anchors: "summary", "wire", "slow-readers". */
  id: string
  title: string
  blocks: Block[]
}

export const REPORT_TITLE = 'Transport Lab: benchmark results'

/** What was run, when, where, and how far to trust the absolute figures. */
export function reportIntro(results: BenchResults): string {
  const env = results.environment
  const kind =
    results.mode === 'quick'
      ? 'A **quick** run (small counts, short windows: a smoke test, not figures to quote)'
      : 'A default run'
  const stopped = results.partial?.failures.find((f) => f.outcome === 'stopped')
  // A partial run says so first: what is missing is not a finding.
  const run = results.partial
    ? `${kind}, **partial** (${stopped ? `it stopped at ${stopped.step}` : 'some of it was skipped'}; see the notes)`
    : kind
  return (
    `${run} of \`${results.command}\`, ${results.startedAt}, ${formatNumber(results.durationMs / 1000)} s, ` +
    `on ${env.cores} × ${env.cpuModel}, Node ${env.node}. ` +
    `Everything ran on this one machine over loopback: the servers and the load client share its cores, ` +
    `so the ratios to the baselines measured in the same run matter more than the absolute figures.`
  )
}

const paragraph = (text: string): Block => ({ kind: 'paragraph', text })
const heading = (text: string): Block => ({ kind: 'heading', text })
const table = (t: Table): Block => ({ kind: 'table', table: t })
const list = (items: string[]): Block => ({ kind: 'list', items })
const chart = (file: string, alt: string): Block => ({ kind: 'chart', file, alt })

/** Every section the results have figures for, in the report's order. */
export function reportSections(results: BenchResults): ReportSection[] {
  const size = summaryTextBytes(results)
  const sections: ReportSection[] = []
  const add = (id: string, title: string, ...blocks: Block[]) => sections.push({ id, title, blocks })

  add(
    'summary',
    'Summary',
    table(summaryTable(results)),
    paragraph(
      `Wire figures are per delivered message with ${size ?? '—'} bytes of text; ` +
        `"Mbit/s @10k" is 10,000 clients each receiving one such message per second. ` +
        `Latency at ${formatNumber(results.latency?.rateHz)} msg/s ` +
        `to ${formatNumber(results.latency?.receivers)} receivers. ` +
        `Throughput in deliveries per second to 1 and to 100 receivers (* = the load client was near a full core). ` +
        `Idle: ${formatNumber(results.idle?.clients)} clients held ` +
        `${formatNumber((results.idle?.holdMs ?? 0) / 1000)} s. ` +
        `Throughput and memory: the median of ${formatNumber(results.options.repetitions)} repetitions.`,
    ),
  )
  if (results.comparisons.length > 0) {
    const sentences = checkSentences(results)
    add(
      'baselines',
      'Against the bare baselines',
      table(ratioTable(results)),
      paragraph(
        'lab / baseline, measured in the same run with the same load clients, ' +
          `each figure the median of ${formatNumber(results.options.repetitions)} repetitions; ` +
          '⚠ marks Transport Lab more than 10% worse (lower throughput, more memory or CPU) ' +
          "and beyond the spread: every one of its readings worse than every one of the baseline's. " +
          '~ marks more than 10% worse but within the spread: this run cannot tell it from noise.',
      ),
      ...(sentences.length > 0
        ? [
            heading('The 10% target (throughput and memory per connection, vs bare ws and bare Socket.IO)'),
            list(sentences),
          ]
        : []),
    )
  }
  add(
    'targets',
    'Targets (issue 14)',
    paragraph(
      'Each target of issue 14 against the bare baseline measured in the same run: throughput (deliveries/s and ' +
        'per server CPU-second) at least 0.90x for WebSocket and Socket.IO and 0.85x of bare Fastify for the HTTP ' +
        'transports, memory per idle connection at most 1.20x, idle CPU at most 1.50x, latency p50 and p99 at most ' +
        '1.30x, and 10,000 clients per push transport held with 0 errors, joins whose cost per join stays within ' +
        "1.50x of the smallest N. A ratio worse than its target whose repetitions overlap the baseline's is " +
        '*not shown to be met (within noise)*; *not met* means every reading was worse.',
    ),
    ...targetGroups(results).flatMap((group) => [heading(group.heading), list(group.items)]),
  )
  if (results.wire) {
    add(
      'wire',
      '1. Wire cost',
      paragraph(
        "Bytes per delivered message from the server's wire meter (socket bytesRead/bytesWritten). " +
          "*send* is the sender's link (in = its request or frame, out = the answer), " +
          "*receive* the receiver's (out = the delivery, in = what the receiver had to send for it: a poll request). " +
          'A polling receiver makes one poll per message here, ' +
          'as a client polling once a second does for one message a second.',
      ),
      ...[...new Set(results.wire.rows.map((r) => r.textBytes))].flatMap((textBytes) => [
        heading(`${formatBytes(textBytes)} of text`),
        table(wireTable(results, textBytes)),
      ]),
      chart('wire.svg', 'Bytes per delivered message, payload and overhead'),
      heading('Handshakes'),
      table(handshakeTable(results)),
      paragraph(
        'Bytes from the first request to the client being ready (its welcome, when the server sends one). ' +
          'The exact header lines are in latest.json.',
      ),
      heading(`Projection: ${formatNumber(size)} bytes of text, each client receiving one message per second`),
      table(projectionTable(results, size ?? 256)),
      paragraph(
        'clients × 1 msg/s × measured receive bytes per message × 8 / 10⁶. ' +
          'Heartbeats are not included (see the idle figures).',
      ),
      chart('projection.svg', 'Mbit/s for 1,000 to 100,000 clients'),
    )
  }
  if (results.latency) {
    add(
      'latency',
      '2. Delivery latency',
      paragraph(
        `One sender, ${formatNumber(results.latency.receivers)} receivers, ` +
          `${formatNumber(results.latency.rateHz)} messages per second; ` +
          `perf_hooks histograms in nanoseconds, shown in µs. ` +
          `Short polling polls every ${formatNumber(results.latency.shortPollIntervalMs)} ms ` +
          `(SHORT_POLL_INTERVAL_MS), ` +
          `so its latency is mostly the wait for the next poll.` +
          repeatedLatency(results.latency.rows),
      ),
      table(latencyTable(results)),
      chart('latency.svg', 'Latency percentiles'),
    )
  }
  if (results.throughput) {
    add(
      'throughput',
      '3. Throughput at saturation',
      paragraph(
        'A window of messages in flight (sent, not yet delivered to every receiver); ' +
          'deliveries counted at the receivers between two marks, ' +
          'server CPU from the server process over the same marks, ' +
          "load CPU from the load-client process (* above 90% of a core: the figure may be the client's limit). " +
          'Requests/msg: on the HTTP transports, the requests the server served over the window, sends and polls alike, ' +
          "from the server's wire meter, per message the server accepted in it " +
          "(Transport Lab answers a poll with a page of the room's log at most, where a bare route answers with all it has). " +
          `Each subject was measured ${formatNumber(results.options.repetitions)} times, ` +
          'the repetitions taking turns with the other subjects: ' +
          'a rate is the median of the repetitions, ± half the range of their readings around it.',
      ),
      table(throughputTable(results)),
      chart('throughput.svg', 'Deliveries per second'),
      ...(results.throughput.http.length > 0
        ? [
            heading('HTTP endpoints (autocannon)'),
            table(httpTable(results)),
            paragraph(
              'autocannon, HTTP/1.1 keep-alive, latency in whole milliseconds. ' +
                'The send POST goes to a room without receivers; the GET is an empty short poll. ' +
                'In each repetition Transport Lab and its bare route take turns of about a second, the order reversed every round, ' +
                'and a reading adds up its turns. Rates are the median of the repetitions, with their spread.',
            ),
          ]
        : []),
    )
  }
  if (results.idle) {
    add(
      'idle',
      '4. Idle cost',
      paragraph(
        `${formatNumber(results.idle.clients)} clients per transport, each in its transport's idiom, held ` +
          `${formatNumber(results.idle.holdMs / 1000)} s, a fresh server process each time, ` +
          `${formatNumber(results.options.repetitions)} times. ` +
          (results.idle.rows.some((row) => row.connectedBefore !== undefined)
            ? 'The crowd comes in two halves, each held as long; memory per connection = (after − before) / ' +
              'the second half, "before" read with the first half held, "after" with both, ' +
              'so that what a server pays once (code compiled for the first join or renewal) is not charged per connection; ' +
              'both after a full GC'
            : `Memory per connection = (after − before) / connected, both after a full GC`) +
          (results.idle.rows.some((row) => row.youngAfterBytes !== undefined)
            ? "; RSS without V8's young generation, which V8 sizes by the allocation rate of the last seconds, " +
              'not by what the process holds (its size after the hold is the last column). '
            : '. ') +
          (results.idle.rows.every((row) => row.holdAfterGc === true)
            ? 'CPU, requests and bytes are counted over the last hold, which starts after a full GC, ' +
              "so that the joins' garbage is not charged to it. "
            : '') +
          (results.idle.rows.some((row) => row.serverGcSecondsPerMinute !== undefined)
            ? "Of that CPU, V8's garbage-collection pauses in the hold are shown apart (GC-s/min): " +
              'a full collection of a heap nobody changes, which V8 runs on its own seconds after a process goes ' +
              'idle, costs in proportion to everything the process holds, its code included, not to what it does. '
            : '') +
          'Each figure is the median of the repetitions; memory and CPU show ± half the range of their readings.',
      ),
      table(idleTable(results)),
      chart('idle.svg', 'Memory per idle connection'),
      list(results.idle.rows.filter((row) => row.note).map((row) => `${row.label}: ${row.note}`)),
    )
  }
  if (results.noisy) {
    const n = results.noisy
    add(
      'noisy',
      '5. Noisy neighbour',
      paragraph(
        `Bystanders chat in a room over ${n.transport === 'websocket' ? 'WebSocket' : n.transport}: ` +
          `${formatNumber(n.senders)} senders, ` +
          `${formatNumber(n.rateHz)} messages per second in all (each under the default MESSAGE_RATE), ` +
          `${formatNumber(n.receivers)} receivers timing every delivery (perf_hooks histograms, µs). ` +
          `In each phase, over the same window, either nobody floods or one client floods as fast as its connection ` +
          `takes it, from a load process of its own, into a room of its own that nobody reads. ` +
          `Two Transport Lab processes differ only in the message limit: ` +
          `the server's default (limit on) and MESSAGE_RATE=0 (limit off); ` +
          `each flood is compared with the quiet phase on the same server. ` +
          `*Accepted* is the flooded room's seq on the server, *refused* the LAB_ERR_RATE_LIMIT answers; ` +
          `server CPU is a share of one core over the window.`,
      ),
      table(noisyTable(results)),
      list(noisySentences(results)),
      chart('noisy.svg', 'Bystander latency per phase'),
    )
  }
  if (results.slowReaders) {
    const sr = results.slowReaders
    add(
      'slow-readers',
      '6. Slow readers',
      paragraph(
        `Per push transport, on a fresh server: ` +
          `${formatNumber(sr.readers)} readers join a room and stop reading after their welcome ` +
          `(their TCP socket paused); one bystander keeps reading; ` +
          `a WebSocket sender floods the room with ${formatBytes(sr.textBytes)} messages ` +
          `until every stopped reader has left the room ` +
          `(closed by the slow-consumer policy, SEND_BUFFER_BYTES = ${formatBytes(sr.sendBufferBytes)}). ` +
          `The server's memory is read before (after a GC), every 100 ms during the flood (the peak, no GC), ` +
          `and once the flood is over after a GC ` +
          `(*held*: live memory, with the queues the server still keeps for the readers it closed); ` +
          `then the readers read again to see what they were told. ` +
          `The control is the same number of messages through a room with only the bystander, ` +
          `on a process of its own: ` +
          `*held for readers* = held growth − the control's, set against N × SEND_BUFFER_BYTES.`,
      ),
      table(slowReadersTable(results)),
      list(slowReadersSentences(results)),
      chart('slow-readers.svg', 'Memory held for stopped readers'),
    )
  }
  if (results.deadPeers) {
    const d = results.deadPeers
    const settings = d.shortened
      ? ' run with **shortened settings** (a quick run: the settings column shows them)'
      : ' with its own settings'
    add(
      'dead-peers',
      '7. Dead peers',
      paragraph(
        `One peer per transport, side by side on one server${settings}, ` +
          `joins a room of its own and stops answering while its TCP connection stays open. ` +
          `From that moment the load process reads the room's presence (GET /api/rooms/:room/presence) ` +
          `and the server's open connections of the transport (GET /api/wire) ` +
          `every ${formatNumber(d.pollMs)} ms, for ${formatDuration(d.capMs)} at most. ` +
          `*The settings allow* is the window the server's settings give (metrics.ts, deadPeerWindow).`,
      ),
      table(deadPeersTable(results)),
      list(d.rows.filter((row) => row.note).map((row) => `${row.label}: ${row.note}`)),
      chart('dead-peers.svg', 'Time to reap a dead peer'),
    )
  }
  if (results.ticker) {
    const t = results.ticker
    const sentence = tickerSentence(results)
    add(
      'ticker',
      '8. Live prices (the ticker room)',
      paragraph(
        `A server of its own runs with TICKER_HZ = ${formatNumber(t.hz)}; ` +
          `one receiver per transport joins its \`ticker\` room. ` +
          `The measured updates are those the server's log gained over ${formatDuration(t.measuredMs)} ` +
          `(${formatNumber(t.published)}). ` +
          `*Deliveries* are the HTTP responses, SSE events, WebSocket frames or Socket.IO packets ` +
          `that carried at least one of them; ` +
          `an update's *age* is its receipt minus its sentAt (the tick's time), ` +
          `both read from the machine's wall clock (perf_hooks histograms, µs). ` +
          `Short polling asks every ${formatNumber(t.shortPollIntervalMs)} ms (SHORT_POLL_INTERVAL_MS), ` +
          `so it gets the updates in bunches, the oldest nearly an interval old.`,
      ),
      table(tickerTable(results)),
      ...(sentence ? [list([sentence])] : []),
    )
  }
  if (results.scale) {
    const s = results.scale
    const rows = s.rows
    const notes = rows.filter((row) => row.note).map((row) => `${row.label}: ${row.note}`)
    const repetitions = rows[0]?.repetitions ?? 0
    add(
      'scale',
      '9. Scaling out (one server, Redis, two behind nginx)',
      paragraph(
        `The same load against each setup, measured in the same run, the setups taking turns ` +
          `(${formatNumber(repetitions)} times each; figures are the medians, ± half the range): ` +
          `one WebSocket room of ${formatNumber(s.receivers)} receivers and a sender, ${formatNumber(s.textBytes)} bytes of text. ` +
          `*One server, in memory* is the baseline (no REDIS_URL); *one server + Redis* is what the shared log costs; ` +
          `*two servers + Redis, behind nginx* is the cluster of \`npm run cluster\`, each connection with a \`?sticky=\` value ` +
          `of its own, so that the receivers and the sender spread over both instances ` +
          `(*across instances*: the share of deliveries whose receiver was on the other instance than the sender). ` +
          `*Deliveries/s*: a window of ${formatNumber(s.window)} messages in flight, the median of one-second slices. ` +
          `*p50* and *p99*: the sender's sentAt to receipt at ${formatNumber(s.rateHz)} messages a second, ` +
          `on the load process's clock (perf_hooks histograms, µs). ` +
          `*Redis round trips/msg*: the commands the servers sent to Redis (MONITOR, in a pass of its own at that rate), ` +
          `over the messages sent; *commands run/msg*: every command Redis ran over the window pass ` +
          `(INFO commandstats, before and after), the ones append.lua runs inside Redis included. ` +
          `Both include what the servers do meanwhile besides the messages (a heartbeat a second each, the reaper).`,
      ),
      ...(rows.length > 0 ? [table(scaleTable(results))] : []),
      list(scaleSentences(results)),
      ...(notes.length > 0 ? [list(notes)] : []),
    )
  }
  if (results.joins) {
    const j = results.joins
    const notes = j.rows
      .filter((row) => row.note)
      .map((row) => `${row.label} ${formatNumber(row.clients)}: ${row.note}`)
    add(
      'joins',
      '10. Joins: N clients into one room',
      paragraph(
        `For each push transport and each N (${j.counts.map((n) => formatNumber(n)).join(', ')}), on a fresh server: ` +
          `N clients open, ${formatNumber(j.concurrency)} at a time per load process, and all join one room; ` +
          `once every client has its welcome and the room's presence (GET /api/rooms/:room/presence) counts N, ` +
          `the server's CPU time over the joins is read, and the clients are held ${formatDuration(j.holdMs)} more. ` +
          `*Errors*: clients that did not join (or were never started because N took longer than ` +
          `${formatDuration(j.limitMs)}). *CPU-ms/join*: the server's CPU-s over the joins, per client joined. ` +
          `*Per join vs smallest N*: that cost over the same transport's at the smallest N; ` +
          `1.0x means a join costs the same however many are in the room, so the total grows linearly in N; ` +
          `a ratio near N / smallest N means every join costs in proportion to the members already there ` +
          `(every join notice sent to every member). *Presence/client*: the presence deliveries ` +
          `(join notices, coalesced presence entries) each client received, on average. ` +
          `*WebSocket + Redis*: WebSocket again, on a server with REDIS_URL (a redis-server of its own), where ` +
          `every join and presence batch goes through the shared log. ` +
          `No baseline: the bare libraries have no presence.`,
      ),
      ...(j.rows.length > 0 ? [table(joinsTable(results)), list(joinsSentences(results))] : []),
      ...(notes.length > 0 ? [list(notes)] : []),
    )
  }
  const total = results.accounting.total
  add(
    'accounting',
    'Accounting',
    paragraph(
      `Every message sent is delivered or reported lost: ${formatNumber(total.sent)} sent, ` +
        `${formatNumber(total.expected)} deliveries expected, ${formatNumber(total.delivered)} delivered, ` +
        `**${formatNumber(total.lost)} lost**, ${formatNumber(total.duplicates)} duplicates, ` +
        `${formatNumber(total.failedSends)} failed sends.`,
    ),
    list(total.losses.map((loss) => `${formatNumber(loss.count)} lost: ${loss.reason}`)),
  )
  add('environment', 'Environment', { kind: 'pairs', pairs: environmentPairs(results) })
  if (results.notes.length > 0) add('notes', 'Notes', list(results.notes))
  return sections
}

function environmentPairs(results: BenchResults): Array<[string, string]> {
  const env = results.environment
  return [
    ['CPU', `${env.cores} × ${env.cpuModel}`],
    ['memory', formatBytes(env.memoryBytes)],
    ['OS', `${env.platform} ${env.osRelease}`],
    ['Node', `${env.node} (V8 ${env.v8})`],
    ...(env.revision ? [['commit measured', env.revision] as [string, string]] : []),
    ['ulimit -n', formatNumber(env.fdLimit)],
    ...Object.entries(env.libraries),
    ...Object.entries(env.settings).map(([name, value]): [string, string] => [
      name,
      `${String(value)}${env.labEnv?.[name] !== undefined ? ' (set by the bench: all load comes from 127.0.0.1)' : ''}`,
    ]),
    ['Socket.IO client transports', env.socketIoClientTransports.join(', ')],
  ]
}

/** What a repeated latency row shows, when the rows were repeated. */
function repeatedLatency(rows: Array<{ repetitions?: number }>): string {
  const repetitions = Math.max(...rows.map((r) => r.repetitions ?? 1))
  return repetitions > 1
    ? ` Each transport was measured ${formatNumber(repetitions)} times: a row is the repetition whose p99 is the ` +
        "median, and its p50 and p99 show ± half the range of all the repetitions' readings."
    : ''
}
