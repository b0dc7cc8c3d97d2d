// latest.md: every table of the run, the 10% check in sentences, the charts,
// the accounting and the environment, for the README to link to.
import type { BenchResults } from '../schema.ts'
import { formatBytes, formatDuration, formatNumber, formatWindow, markdownTable, textTable } from './format.ts'
import { checkSentences, deadPeersTable, handshakeTable, httpTable, idleTable, latencyTable, noisySentences, noisyTable, projectionTable, ratioTable, slowReadersSentences, slowReadersTable, summaryTable, summaryTextBytes, throughputTable, tickerSentence, tickerTable, wireTable, type Table } from './tables.ts'

const md = (t: Table) => markdownTable(t.headers, t.rows, t.align)
const text = (t: Table) => textTable(t.headers, t.rows, t.align)

export function renderMarkdown(results: BenchResults, charts: string[] = []): string {
  const env = results.environment
  const size = summaryTextBytes(results)
  const out: string[] = []
  const chart = (name: string, alt: string) => {
    if (charts.includes(name)) out.push(`![${alt}](${name})`, '')
  }
  out.push(
    '# Transport Lab: benchmark results',
    '',
    `${results.mode === 'quick' ? 'A **quick** run (small counts, short windows: a smoke test, not figures to quote)' : 'A default run'} of \`${results.command}\`, ${results.startedAt}, ${formatNumber(results.durationMs / 1000)} s, on ${env.cores} × ${env.cpuModel}, Node ${env.node}. Everything ran on this one machine over loopback: the servers and the load client share its cores, so the ratios to the baselines measured in the same run matter more than the absolute figures.`,
    '',
    '## Summary',
    '',
    md(summaryTable(results)),
    '',
    `Wire figures are per delivered message with ${size ?? '—'} bytes of text; "Mbit/s @10k" is 10,000 clients each receiving one such message per second. Latency at ${formatNumber(results.latency?.rateHz)} msg/s to ${formatNumber(results.latency?.receivers)} receivers. Throughput in deliveries per second to 1 and to 100 receivers (* = the load client was near a full core). Idle: ${formatNumber(results.idle?.clients)} clients held ${formatNumber((results.idle?.holdMs ?? 0) / 1000)} s.`,
    '',
  )
  if (results.comparisons.length > 0) {
    out.push('## Against the bare baselines', '', md(ratioTable(results)), '', 'lab / baseline, measured in the same run with the same load clients; ⚠ marks Transport Lab more than 10% worse (lower throughput, more memory or CPU).', '')
    const sentences = checkSentences(results)
    if (sentences.length > 0) {
      out.push('### The 10% target (throughput and memory per connection, vs bare ws and bare Socket.IO)', '', ...sentences.map((s) => `- ${s}`), '')
    }
  }
  if (results.wire) {
    out.push('## 1. Wire cost', '', 'Bytes per delivered message from the server\'s wire meter (socket bytesRead/bytesWritten). *send* is the sender\'s link (in = its request or frame, out = the answer), *receive* the receiver\'s (out = the delivery, in = what the receiver had to send for it: a poll request). A polling receiver makes one poll per message here, as a client polling once a second does for one message a second.', '')
    for (const textBytes of [...new Set(results.wire.rows.map((r) => r.textBytes))]) {
      out.push(`### ${formatBytes(textBytes)} of text`, '', md(wireTable(results, textBytes)), '')
    }
    chart('wire.svg', 'Bytes per delivered message, payload and overhead')
    out.push('### Handshakes', '', md(handshakeTable(results)), '', 'Bytes from the first request to the client being ready (its welcome, when the server sends one). The exact header lines are in latest.json.', '')
    out.push(`### Projection: ${formatNumber(size)} bytes of text, each client receiving one message per second`, '', md(projectionTable(results, size ?? 256)), '', 'clients × 1 msg/s × measured receive bytes per message × 8 / 10⁶. Heartbeats are not included (see the idle figures).', '')
    chart('projection.svg', 'Mbit/s for 1,000 to 100,000 clients')
  }
  if (results.latency) {
    out.push('## 2. Delivery latency', '', `One sender, ${formatNumber(results.latency.receivers)} receivers, ${formatNumber(results.latency.rateHz)} messages per second; perf_hooks histograms in nanoseconds, shown in µs. Short polling polls every ${formatNumber(results.latency.shortPollIntervalMs)} ms (SHORT_POLL_INTERVAL_MS), so its latency is mostly the wait for the next poll.`, '', md(latencyTable(results)), '')
    chart('latency.svg', 'Latency percentiles')
  }
  if (results.throughput) {
    out.push('## 3. Throughput at saturation', '', 'A window of messages in flight (sent, not yet delivered to every receiver); deliveries counted at the receivers between two marks, server CPU from the server process over the same marks, load CPU from the load-client process (* above 90% of a core: the figure may be the client\'s limit).', '', md(throughputTable(results)), '')
    chart('throughput.svg', 'Deliveries per second')
    if (results.throughput.http.length > 0) out.push('### HTTP endpoints (autocannon)', '', md(httpTable(results)), '', 'autocannon, HTTP/1.1 keep-alive, latency in whole milliseconds. The send POST goes to a room without receivers; the GET is an empty short poll.', '')
  }
  if (results.idle) {
    out.push('## 4. Idle cost', '', `${formatNumber(results.idle.clients)} clients per transport, each in its transport's idiom, held ${formatNumber(results.idle.holdMs / 1000)} s, a fresh server process each. Memory per connection = (after − before) / connected, both after a full GC.`, '', md(idleTable(results)), '')
    chart('idle.svg', 'Memory per idle connection')
    for (const row of results.idle.rows) if (row.note) out.push(`- ${row.label}: ${row.note}`)
    out.push('')
  }
  /** A scenario's section: its title, what was measured, its table, its findings in sentences, its chart. */
  const section = (title: string, intro: string, table: Table, sentences: string[], chartName: string, alt: string) => {
    out.push(title, '', intro, '', md(table), '', ...sentences.map((line) => `- ${line}`), '')
    chart(chartName, alt)
  }
  if (results.noisy) {
    const n = results.noisy
    section('## 5. Noisy neighbour', `Bystanders chat in a room over ${n.transport === 'websocket' ? 'WebSocket' : n.transport}: ${formatNumber(n.senders)} senders, ${formatNumber(n.rateHz)} messages per second in all (each under the default MESSAGE_RATE), ${formatNumber(n.receivers)} receivers timing every delivery (perf_hooks histograms, µs). In each phase, over the same window, either nobody floods or one client floods as fast as its connection takes it, from a load process of its own, into a room of its own that nobody reads. Two Transport Lab processes differ only in the message limit: the server's default (limit on) and MESSAGE_RATE=0 (limit off); each flood is compared with the quiet phase on the same server. *Accepted* is the flooded room's seq on the server, *refused* the LAB_ERR_RATE_LIMIT answers; server CPU is a share of one core over the window.`, noisyTable(results), noisySentences(results), 'noisy.svg', 'Bystander latency per phase')
  }
  if (results.slowReaders) {
    const sr = results.slowReaders
    section('## 6. Slow readers', `Per push transport, on a fresh server: ${formatNumber(sr.readers)} readers join a room and stop reading after their welcome (their TCP socket paused); one bystander keeps reading; a WebSocket sender floods the room with ${formatBytes(sr.textBytes)} messages until every stopped reader has left the room (closed by the slow-consumer policy, SEND_BUFFER_BYTES = ${formatBytes(sr.sendBufferBytes)}). The server's memory is read before (after a GC), every 100 ms during the flood (the peak, no GC), and once the flood is over after a GC (*held*: live memory, with the queues the server still keeps for the readers it closed); then the readers read again to see what they were told. The control is the same number of messages through a room with only the bystander, on a process of its own: *held for readers* = held growth − the control's, set against N × SEND_BUFFER_BYTES.`, slowReadersTable(results), slowReadersSentences(results), 'slow-readers.svg', 'Memory held for stopped readers')
  }
  if (results.deadPeers) {
    const d = results.deadPeers
    out.push(
      '## 7. Dead peers',
      '',
      `One peer per transport, side by side on one server${d.shortened ? ' run with **shortened settings** (a quick run: the settings column shows them)' : ' with its own settings'}, joins a room of its own and stops answering while its TCP connection stays open. From that moment the load process reads the room's presence (GET /api/rooms/:room/presence) and the server's open connections of the transport (GET /api/wire) every ${formatNumber(d.pollMs)} ms, for ${formatDuration(d.capMs)} at most. *The settings allow* is the window the server's settings give (metrics.ts, deadPeerWindow).`,
      '',
      md(deadPeersTable(results)),
      '',
    )
    for (const row of d.rows) if (row.note) out.push(`- ${row.label}: ${row.note}`)
    out.push('')
    chart('dead-peers.svg', 'Time to reap a dead peer')
  }
  if (results.ticker) {
    const t = results.ticker
    out.push(
      '## 8. Live prices (the ticker room)',
      '',
      `A server of its own runs with TICKER_HZ = ${formatNumber(t.hz)}; one receiver per transport joins its \`ticker\` room. The measured updates are those the server's log gained over ${formatDuration(t.measuredMs)} (${formatNumber(t.published)}). *Deliveries* are the HTTP responses, SSE events, WebSocket frames or Socket.IO packets that carried at least one of them; an update's *age* is its receipt minus its sentAt (the tick's time), both read from the machine's wall clock (perf_hooks histograms, µs). Short polling asks every ${formatNumber(t.shortPollIntervalMs)} ms (SHORT_POLL_INTERVAL_MS), so it gets the updates in bunches, the oldest nearly an interval old.`,
      '',
      md(tickerTable(results)),
      '',
    )
    const sentence = tickerSentence(results)
    if (sentence) out.push(`- ${sentence}`, '')
  }
  const total = results.accounting.total
  out.push('## Accounting', '', `Every message sent is delivered or reported lost: ${formatNumber(total.sent)} sent, ${formatNumber(total.expected)} deliveries expected, ${formatNumber(total.delivered)} delivered, **${formatNumber(total.lost)} lost**, ${formatNumber(total.duplicates)} duplicates, ${formatNumber(total.failedSends)} failed sends.`, '')
  for (const loss of total.losses) out.push(`- ${formatNumber(loss.count)} lost: ${loss.reason}`)
  out.push('', '## Environment', '', '```', text({
    headers: ['', ''],
    rows: [
      ['CPU', `${env.cores} × ${env.cpuModel}`],
      ['memory', formatBytes(env.memoryBytes)],
      ['OS', `${env.platform} ${env.osRelease}`],
      ['Node', `${env.node} (V8 ${env.v8})`],
      ...(env.revision ? [['commit measured', env.revision]] : []),
      ['ulimit -n', formatNumber(env.fdLimit)],
      ...Object.entries(env.libraries).map(([name, version]) => [name, version]),
      ...Object.entries(env.settings).map(([name, value]) => [name, `${String(value)}${env.labEnv?.[name] !== undefined ? ' (set by the bench: all load comes from 127.0.0.1)' : ''}`]),
      ['Socket.IO client transports', env.socketIoClientTransports.join(', ')],
    ],
    align: ['left', 'left'],
  }).split('\n').slice(2).join('\n'), '```', '')
  if (results.notes.length > 0) out.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '')
  return out.join('\n')
}

/** What `npm run bench` prints when it is done (without --json). */
export function renderTerminal(results: BenchResults): string {
  const out = ['', 'Transport Lab vs its baselines', '', text(summaryTable(results))]
  if (results.comparisons.length > 0) {
    out.push('', 'lab / baseline (⚠ = more than 10% worse)', '', text(ratioTable(results)))
    const flagged = results.comparisons.filter((c) => c.flagged && c.target)
    out.push('', flagged.length === 0 ? 'The 10% target holds for every comparison it covers.' : `The 10% target is missed ${flagged.length} time(s):`)
    for (const sentence of checkSentences(results).filter((s) => s.includes('more than 10%'))) out.push(`  - ${sentence.replace(/\*\*/g, '')}`)
  }
  if (results.noisy) out.push('', 'Noisy neighbour:', ...noisySentences(results).map((line) => `  - ${line}`))
  if (results.slowReaders) out.push('', 'Slow readers:', ...slowReadersSentences(results).map((line) => `  - ${line}`))
  if (results.deadPeers) {
    out.push('', `Dead peers${results.deadPeers.shortened ? ' (shortened settings)' : ''}:`)
    for (const row of results.deadPeers.rows) out.push(`  - ${row.label}: gone from presence after ${formatDuration(row.goneFromPresenceMs)}, connection closed after ${formatDuration(row.connectionClosedMs)} (the settings allow ${formatWindow(row.expectedMinMs, row.expectedMaxMs)})`)
  }
  const ticker = tickerSentence(results)
  if (ticker) out.push('', 'Live prices:', `  - ${ticker}`)
  const total = results.accounting.total
  out.push('', `Accounting: ${formatNumber(total.sent)} sent, ${formatNumber(total.delivered)}/${formatNumber(total.expected)} delivered, ${formatNumber(total.lost)} lost.`)
  return out.join('\n')
}
