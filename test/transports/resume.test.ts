// Resume never says recovered: true when anything is missing, on any
// transport, across restarts: every cursor carries the epoch, and presence
// notices cannot push chat messages out of the resume window.
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import type { ChatMessage, Welcome } from '../../server/core/protocol.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const running: RunningServer[] = []
const closers: Array<() => void> = []
async function server(overrides: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer({ sseHeartbeatMs: 600_000, ...overrides })
  running.push(s)
  return s
}
afterEach(async () => {
  closers.splice(0).forEach((close) => close())
  await Promise.all(running.splice(0).map((s) => s.close().catch(() => {})))
})

const publish = async (s: RunningServer, room: string, count: number, prefix: string) => {
  for (let i = 1; i <= count; i++)
    await s.app.hub.publish({ clientId: 'test', name: 'test', transport: 'test' }, room, { text: `${prefix}${i}` })
}

describe('a browser EventSource reconnecting after a server restart', () => {
  it('is told recovered: false, because its Last-Event-ID names the old epoch', async () => {
    const first = await server()
    const welcomes: Welcome[] = []
    const texts: string[] = []
    const source = new EventSource(`${first.url}/sse?room=restart&name=reader`)
    closers.push(() => source.close())
    source.addEventListener('welcome', (e) => welcomes.push(JSON.parse(e.data as string) as Welcome))
    source.addEventListener('message', (e) => texts.push((JSON.parse(e.data as string) as ChatMessage).text))
    await until(() => welcomes.length === 1 || undefined, 'the first welcome')
    await publish(first, 'restart', 31, 'old ')
    await until(() => texts.length === 31 || undefined, '31 messages')
    const lastEventId = new Promise<string>((resolve) =>
      source.addEventListener('message', (e) => resolve(e.lastEventId), { once: true }),
    )
    await publish(first, 'restart', 1, 'last ')
    // seq 1 is the reader's own join, 2 to 32 the old messages, 33 the last one.
    expect(await lastEventId).toBe(`${welcomes[0]!.epoch}-33`)

    await first.close()
    // The same port, a new process's worth of memory: 40 messages before the browser is back.
    const second = await server({ port: first.port })
    await publish(second, 'restart', 40, 'new ')
    await until(() => welcomes.length === 2 || undefined, 'the welcome after the restart', 15_000)
    expect(welcomes[1]).toMatchObject({ recovered: false })
    expect(welcomes[1]!.epoch).not.toBe(welcomes[0]!.epoch)
  })
})

describe("the README's Socket.IO resume", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const snippet = /<!-- socket\.io-resume -->\n```js\n([\s\S]*?)```/.exec(readme)![1]!

  /** Runs the README's code with a console of its own and io() pointed at the server. */
  function runSnippet(url: string) {
    const logged: string[] = []
    const warned: string[] = []
    const fakeConsole = {
      log: (...args: unknown[]) => logged.push(args.join(' ')),
      warn: (...args: unknown[]) => warned.push(args.join(' ')),
    }
    const connect = (options: Partial<ManagerOptions & SocketOptions>) =>
      io(url, { ...options, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200 })
    // The README's snippet runs as written, with io and console handed in: that is what this test is for.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
    const socket = new Function('io', 'console', `${snippet}\nreturn socket`)(connect, fakeConsole) as ReturnType<
      typeof io
    >
    closers.push(() => socket.disconnect())
    return { socket, logged, warned }
  }

  it('fills in every message sent while the connection was down', async () => {
    const s = await server()
    const { socket, logged, warned } = runSnippet(s.url)
    await until(() => s.app.hub.presence('lobby').length === 1 || undefined, 'the snippet to join')
    await publish(s, 'lobby', 2, 'before ')
    await until(() => logged.length === 2 || undefined, 'two messages')
    socket.io.engine.close()
    await publish(s, 'lobby', 10, 'missed ')
    await until(() => logged.length === 12 || undefined, 'the ten it missed', 10_000)
    expect(logged).toEqual(
      [...['before 1', 'before 2'], ...Array.from({ length: 10 }, (_, i) => `missed ${i + 1}`)].map((t) => `test ${t}`),
    )
    expect(warned).toEqual([])
  })

  it('warns that history was lost when it comes back to a restarted server', async () => {
    const first = await server()
    const { warned, logged } = runSnippet(first.url)
    await until(() => first.app.hub.presence('lobby').length === 1 || undefined, 'the snippet to join')
    await publish(first, 'lobby', 3, 'old ')
    // The snippet has its cursor once it has shown what it got (the server knowing the member is not enough).
    await until(() => logged.length === 3 || undefined, 'the old messages')
    await first.close()
    const second = await server({ port: first.port })
    await until(() => warned.length > 0 || undefined, 'the warning', 10_000)
    expect(warned).toEqual(['history lost'])
    expect(second.app.hub.presence('lobby')).toHaveLength(1)
  })
})

describe('a crowd dropping and resuming at once', () => {
  it('gets recovered: true and every message, however many join and leave notices the crowd made', async () => {
    // One notice per join and leave (no presence batches), so that the crowd's notices far outnumber the history.
    const s = await server({ historyLimit: 20, maxClientsPerAddress: 0, presenceRate: 0 })
    const wsUrl = s.url.replace('http', 'ws')
    const crowd = 150
    const first = await Promise.all(
      Array.from({ length: crowd }, (_, i) => openWs(`${wsUrl}/ws?room=crowd&name=c${i}`)),
    )
    const { epoch, seq } = first.at(-1)!.welcome
    for (const { ws } of first) ws.terminate()
    await publish(s, 'crowd', 10, 'chat ')
    // Each comes back from its own last position; the crowd's leave and join notices land in between.
    const again = await Promise.all(
      first.map(({ welcome }, i) => openWs(`${wsUrl}/ws?room=crowd&name=c${i}&since=${welcome.seq}&epoch=${epoch}`)),
    )
    expect(again.filter(({ welcome }) => !welcome.recovered)).toHaveLength(0)
    for (const { messages } of again)
      await until(() => messages.filter((m) => m.startsWith('chat ')).length === 10 || undefined, 'the ten messages')
    expect(s.app.hub.roomSummaries().find((r) => r.room === 'crowd')!.seq).toBeGreaterThan(seq + 2 * crowd)
    for (const { ws } of again) ws.close()
  })

  async function openWs(url: string): Promise<{ ws: WebSocket; welcome: Welcome; messages: string[] }> {
    const ws = new WebSocket(url)
    closers.push(() => ws.terminate())
    const messages: string[] = []
    const welcome = await new Promise<Welcome>((resolve) =>
      ws.on('message', (data) => {
        const m = JSON.parse((data as Buffer).toString()) as Welcome | ChatMessage
        if (m.type === 'welcome') resolve(m)
        else if (m.type === 'message') messages.push(m.text)
      }),
    )
    return { ws, welcome, messages }
  }
})

describe('a cursor without its epoch', () => {
  it('is not taken for one in the current log on the WebSocket, nor on polling', async () => {
    const s = await server()
    await publish(s, 'bare', 5, 'm')
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws?room=bare&since=3`)
    closers.push(() => ws.terminate())
    const welcome = await new Promise<Welcome>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome)),
    )
    expect(welcome.recovered).toBe(false)
    const batch = (await (await fetch(`${s.url}/poll?room=bare&since=3`)).json()) as { recovered: boolean }
    expect(batch.recovered).toBe(false)
    const exact = (await (await fetch(`${s.url}/poll?room=bare&since=3&epoch=${welcome.epoch}`)).json()) as {
      recovered: boolean
      entries: ChatMessage[]
    }
    expect(exact).toMatchObject({ recovered: true })
    expect(exact.entries.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['m4', 'm5'])
  })
})
