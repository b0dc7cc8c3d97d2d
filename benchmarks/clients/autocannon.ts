// The load side of the HTTP endpoint figures: autocannon against one URL
// (a send POST or a poll GET) with a fixed number of keep-alive connections.
// autocannon speaks HTTP/1.1 and times in whole milliseconds, so it gives
// requests per second here and never delivery latency.
import autocannon from 'autocannon'

export interface HttpRunParams {
  url: string
  method: 'GET' | 'POST'
  /** POST body; [<id>] becomes a unique id per request (autocannon's idReplacement). */
  body?: string
  connections: number
  durationMs: number
}

export interface HttpRunResult {
  requests: number
  ok: number
  non2xx: number
  errors: number
  timeouts: number
  durationMs: number
  requestsPerSecond: number
  latencyMsP50: number
  latencyMsP99: number
  cpuUserUs: number
  cpuSystemUs: number
}

export async function runAutocannon(params: HttpRunParams): Promise<HttpRunResult> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const result = await autocannon({
    url: params.url,
    method: params.method,
    connections: params.connections,
    pipelining: 1,
    // autocannon stops at its first sample tick after the duration: sample every 100 ms, not every second.
    sampleInt: 100,
    duration: params.durationMs / 1000,
    ...(params.body === undefined
      ? {}
      : { body: params.body, headers: { 'content-type': 'application/json' }, idReplacement: true }),
  })
  const elapsed = performance.now() - started
  const used = process.cpuUsage(cpu)
  const ok = result['2xx']
  return {
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationMs: elapsed,
    requestsPerSecond: (result.requests.total * 1000) / elapsed,
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    cpuUserUs: used.user,
    cpuSystemUs: used.system,
  }
}

export const autocannonHandlers = {
  'http.run': (params: HttpRunParams) => runAutocannon(params),
}
