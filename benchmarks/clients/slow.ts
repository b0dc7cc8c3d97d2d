// The load side of the slow-readers scenario: readers that join a room, read
// their welcome and then stop reading: their TCP socket is paused, so the
// kernel's buffers fill and the server's unsent bytes for them grow. At the
// end they read again, to see what the server told them before it let go:
//
//   sse        an `event: bye` with the code in its data, then the end of the stream
//   websocket  an `error` message, then a close frame (1013 LAB_ERR_SLOW_CONSUMER)
//   socket.io  Engine.IO by hand over a WebSocket: 42["error",{code}], then 41 (disconnect)
//
// A reader that finds its connection cut without a goodbye says so ("cut: ..."):
// the server destroys a connection that has not taken its goodbye after 5 s.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import type { Loss } from '../accounting.ts'
import type { Endpoint } from '../subjects.ts'
import { sleep, withQuery } from './common.ts'
import { SseParser } from './http.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

export interface SlowOpenParams {
  endpoint: Endpoint
  room: string
  count: number
  namePrefix: string
}

interface SlowReader {
  /** Reads again; resolves with what the reader was told once its connection has ended, or what it had seen by `timeoutMs`. */
  resume(timeoutMs: number): Promise<string>
  close(): void
}

const wsUrl = (url: string) => url.replace(/^http/, 'ws')

/** Waits for `done` (the connection ended) or the timeout; then what was seen. */
async function outcome(done: Promise<void>, timeoutMs: number, told: () => string): Promise<string> {
  const ended = await Promise.race([done.then(() => true), sleep(timeoutMs).then(() => false)])
  return ended ? told() : `still open after ${timeoutMs} ms${told() ? ` (${told()})` : ''}`
}

async function openSse(endpoint: Endpoint, room: string, name: string): Promise<SlowReader> {
  let res!: IncomingMessage
  let req!: ClientRequest
  const parser = new SseParser()
  let bye: string | undefined
  let ended: (() => void) | undefined
  const done = new Promise<void>((resolve) => {
    ended = resolve
  })
  let cut: string | undefined
  await new Promise<void>((resolve, reject) => {
    req = httpRequest(
      withQuery(`${endpoint.url}${TRANSPORT_INFO.sse.path}`, { room, name, role: 'receive' }),
      { agent: false, headers: { accept: 'text/event-stream' } },
      (r) => {
        res = r
        if (r.statusCode !== 200) return reject(new Error(`/sse answered ${r.statusCode}`))
        r.setEncoding('utf8')
        let welcomed = false
        r.on('data', (chunk: string) =>
          parser.push(chunk, (e) => {
            if (e.event === 'bye') bye = (JSON.parse(e.data) as { code?: string }).code
            if (e.event === 'welcome' && !welcomed) {
              welcomed = true
              r.pause()
              resolve()
            }
          }),
        )
        r.once('end', () => ended?.())
        r.once('close', () => ended?.())
        r.once('error', (error) => {
          cut ??= error.message
        })
      },
    )
    req.on('error', (error) => {
      cut ??= error.message
      ended?.()
      reject(error)
    })
    req.end()
  })
  return {
    resume: (timeoutMs) => {
      res.resume()
      return outcome(done, timeoutMs, () =>
        bye ? `bye ${bye}` : `cut: ${cut ?? 'the stream ended without a goodbye'}`,
      )
    },
    close: () => {
      res.destroy()
      req.destroy()
    },
  }
}

async function openWs(endpoint: Endpoint, room: string, name: string): Promise<SlowReader> {
  const ws = new WebSocket(
    withQuery(`${wsUrl(endpoint.url)}${TRANSPORT_INFO.websocket.path}`, { room, name, role: 'receive' }),
  )
  ws.on('error', () => {})
  let error: string | undefined
  let closed: string | undefined
  const done = new Promise<void>((resolve) =>
    ws.once('close', (code, reason) => {
      closed = `${code}${reason.length ? ` ${String(reason)}` : ''}`
      resolve()
    }),
  )
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString()) as { type?: string; code?: string }
      if (m.type === 'welcome') {
        ws.pause()
        resolve()
      } else if (m.type === 'error') error = m.code
    })
    void done.then(() => reject(new Error(`closed with ${closed} before the welcome`)))
  })
  return {
    resume: (timeoutMs) => {
      ws.resume()
      // 1006: the connection ended without a close frame.
      return outcome(done, timeoutMs, () =>
        closed === undefined
          ? ''
          : closed.startsWith('1006')
            ? `cut: ${closed}${error ? ` after error ${error}` : ''}`
            : closed,
      )
    },
    close: () => ws.terminate(),
  }
}

async function openSocketIo(endpoint: Endpoint, room: string, name: string): Promise<SlowReader> {
  const ws = new WebSocket(`${wsUrl(endpoint.url)}/socket.io/?EIO=4&transport=websocket&role=receive`)
  ws.on('error', () => {})
  let error: string | undefined
  let disconnected = false
  const done = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const packet = (data as Buffer).toString()
      if (packet === '2') ws.send('3')
      else if (packet.startsWith('0')) ws.send(`40${JSON.stringify({ protocol: 'lab', room, name })}`)
      else if (packet.startsWith('42["welcome"')) {
        ws.pause()
        resolve()
      } else if (packet.startsWith('42["error"'))
        error = (JSON.parse(packet.slice(2)) as [string, { code?: string }])[1]?.code
      else if (packet.startsWith('41')) disconnected = true
    })
    void done.then(() => reject(new Error('closed before the welcome')))
  })
  return {
    resume: (timeoutMs) => {
      ws.resume()
      return outcome(done, timeoutMs, () =>
        error
          ? `error ${error}${disconnected ? ', then disconnect' : ', then cut'}`
          : disconnected
            ? 'disconnect without an error'
            : 'cut: the connection ended without a goodbye',
      )
    },
    close: () => ws.terminate(),
  }
}

let readers: SlowReader[] = []

export const slowHandlers = {
  /** Opens `count` readers in the room; each stops reading after its welcome. */
  'slow.open': async (params: SlowOpenParams) => {
    slowHandlers['slow.close']()
    const open =
      params.endpoint.transport === 'sse' ? openSse : params.endpoint.transport === 'websocket' ? openWs : openSocketIo
    readers = await Promise.all(
      Array.from({ length: params.count }, (_, i) => open(params.endpoint, params.room, `${params.namePrefix}${i}`)),
    )
    return { readers: readers.length }
  },
  /** Every reader reads again; what each was told, counted by kind. */
  'slow.resume': async (params: { timeoutMs: number }): Promise<Loss[]> => {
    const told = await Promise.all(readers.map((r) => r.resume(params.timeoutMs)))
    const counts = new Map<string, number>()
    for (const t of told) counts.set(t, (counts.get(t) ?? 0) + 1)
    return [...counts].map(([reason, count]) => ({ reason, count }))
  },
  'slow.close': () => {
    for (const reader of readers) reader.close()
    readers = []
  },
}
