// Nothing secret is served: the handshakes the API shows (and the inspector
// draws) keep their header names but not the values of session tokens,
// cookies or credentials, and no one can list other clients' addresses.
// (Which client may read which handshake: own-handshakes.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Welcome } from '../../server/core/protocol.ts'
import type { ConnectionInfo, Handshake } from '../../server/wire/meter.ts'
import { startServer, type RunningServer } from '../support/server.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

const SECRETS = {
  'x-lab-session': 'session-secret-1',
  cookie: 'lab=cookie-secret-2',
  authorization: 'Bearer auth-secret-3',
}

async function handshakes(): Promise<Record<string, Handshake>> {
  return (await (await fetch(`${server.url}/api/wire/handshakes`)).json()) as Record<string, Handshake>
}

describe('/api/wire/handshakes', () => {
  it('shows a polling request with its secret headers and ?session= redacted, and another client can read no token from it', async () => {
    const res = await fetch(`${server.url}/poll?room=lobby&session=query-secret-4`, { headers: SECRETS })
    await res.body?.cancel()
    const shown = JSON.stringify(await handshakes())
    for (const secret of ['session-secret-1', 'cookie-secret-2', 'auth-secret-3', 'query-secret-4'])
      expect(shown).not.toContain(secret)
    const poll = (await handshakes())['short-polling']!
    expect(poll.request.startLine).toBe('GET /poll?room=lobby&session=[redacted] HTTP/1.1')
    const headers = Object.fromEntries(poll.request.headers.map(([k, v]) => [k.toLowerCase(), v]))
    expect(headers).toMatchObject({ 'x-lab-session': '[redacted]', cookie: '[redacted]', authorization: '[redacted]' })
  })

  it("shows the WebSocket upgrade and its 101 without the client's cookie", async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=lobby&token=query-secret-5`, {
      headers: { cookie: 'lab=cookie-secret-6' },
    })
    await new Promise((resolve) => ws.once('message', resolve))
    const upgrade = (await handshakes()).websocket!
    expect(upgrade.response!.startLine).toMatch(/^HTTP\/1\.1 101 /)
    expect(JSON.stringify(upgrade)).not.toMatch(/secret-[56]/)
    expect(upgrade.request.headers.some(([k]) => k.toLowerCase() === 'sec-websocket-key')).toBe(true)
    ws.close()
  })
})

describe('/api/wire/handshakes/:connectionId', () => {
  it("shows a client its own upgrade with the query's token and its cookie redacted", async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=lobby&name=own&token=query-secret-7`, {
      headers: { cookie: 'lab=cookie-secret-8', authorization: 'Bearer auth-secret-9' },
    })
    const welcome = await new Promise<Welcome>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome)),
    )
    const text = await (await fetch(`${server.url}/api/wire/handshakes/${welcome.connectionId}`)).text()
    expect(text).not.toMatch(/secret-[789]/)
    const { websocket } = JSON.parse(text) as Record<string, Handshake>
    expect(websocket!.request.startLine).toBe('GET /ws?room=lobby&name=own&token=[redacted] HTTP/1.1')
    const headers = Object.fromEntries(websocket!.request.headers.map(([k, v]) => [k.toLowerCase(), v]))
    expect(headers).toMatchObject({ cookie: '[redacted]', authorization: '[redacted]' })
    ws.close()
  })
})

describe('/api/wire/connections', () => {
  it("lists connections without anyone's address or port", async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=lobby`)
    await new Promise((resolve) => ws.once('message', resolve))
    const text = await (await fetch(`${server.url}/api/wire/connections`)).text()
    const list = JSON.parse(text) as ConnectionInfo[]
    expect(list.some((c) => c.transport === 'websocket')).toBe(true)
    expect(text).not.toContain('127.0.0.1')
    expect(Object.keys(list[0]!).sort()).toEqual([
      'bytesIn',
      'bytesOut',
      'connectionId',
      'openedAt',
      'transport',
      'upgraded',
    ])
    ws.close()
  })
})
