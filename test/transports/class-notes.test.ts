// The class notes' Socket.IO snippets, run unchanged against this server:
// their event names and argument shapes, from a plain io() client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { io, type Socket } from 'socket.io-client'
import { createClient, waitForText } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const sockets: Socket[] = []

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  for (const s of sockets) s.disconnect()
  await server.close()
})

/** A client as the notes write it: io() with no options, collecting what server_message brings. */
async function notesClient(): Promise<{ socket: Socket; welcome: unknown[]; heard: string[] }> {
  const socket = io(server.url, { forceNew: true })
  sockets.push(socket)
  const heard: string[] = []
  socket.on('server_message', (msg: string) => heard.push(msg))
  const welcome = await new Promise<unknown[]>((resolve) =>
    socket.once('message', (...args: unknown[]) => resolve(args)),
  )
  return { socket, welcome, heard }
}

describe('the class notes Socket.IO dialect', () => {
  it('greets a new connection with a `message` event whose first argument is a string', async () => {
    const { welcome } = await notesClient()
    expect(typeof welcome[0]).toBe('string')
    expect(welcome[0]).toMatch(/welcome/i)
    expect(welcome[1]).toMatchObject({ type: 'welcome', room: 'lobby', transport: 'socket.io' })
  })

  it('broadcasts client_message to everyone, the sender included, as server_message with the bare string', async () => {
    const a = await notesClient()
    const b = await notesClient()
    a.socket.emit('client_message', 'hello class')
    await until(() => b.heard.includes('hello class'), 'b to hear it')
    await until(() => a.heard.includes('hello class'), 'a to hear its own message')
  })

  it('reaches clients of the other transports, and hears them', async () => {
    const a = await notesClient()
    const ws = createClient('websocket', server.url, 'ws-student')
    await ws.join('lobby')
    a.socket.emit('client_message', 'from the notes page')
    const got = await waitForText(ws, 'lobby', 'from the notes page')
    expect(got.from.transport).toBe('socket.io')
    await ws.send('lobby', 'from a raw WebSocket')
    await until(() => a.heard.includes('from a raw WebSocket'), 'the notes client to hear the WebSocket')
    await ws.close()
  })

  it('join_room, room_message and leave_room reach only the room, and not the sender (socket.to semantics)', async () => {
    const a = await notesClient()
    const b = await notesClient()
    const outsider = await notesClient()
    b.socket.emit('join_room', 'room1')
    await until(() => server.app.hub.presence('room1').length === 1, 'b in room1')
    a.socket.emit('join_room', 'room1')
    await until(() => b.heard.some((m) => /joined room room1/.test(m)), 'b to hear that a joined')
    a.socket.emit('room_message', { room: 'room1', message: 'only for room1' })
    await until(() => b.heard.includes('only for room1'), 'b to hear the room message')
    a.socket.emit('client_message', 'marker')
    await until(() => outsider.heard.includes('marker') && a.heard.includes('marker'), 'the marker everywhere')
    expect(outsider.heard).not.toContain('only for room1')
    expect(a.heard).not.toContain('only for room1')
    a.socket.emit('leave_room', 'room1')
    await until(() => b.heard.some((m) => /left room room1/.test(m)), 'b to hear that a left')
    // As the notes' socket.leave() before socket.to(room).emit(): the leaver is not told of its own leaving.
    a.socket.emit('client_message', 'after leaving')
    await until(() => a.heard.includes('after leaving'), 'a to hear its own next message')
    expect(a.heard.filter((m) => /left room room1/.test(m))).toEqual([])
  })

  it('serves the client script at /socket.io/socket.io.js, as the notes page loads it', async () => {
    const res = await fetch(`${server.url}/socket.io/socket.io.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(await res.text()).toMatch(/Socket\.IO/)
  })

  it('answers a bad room name with an error event and keeps the connection', async () => {
    const a = await notesClient()
    const error = new Promise<{ code: string }>((resolve) => a.socket.once('error', resolve))
    a.socket.emit('join_room', 'no spaces allowed')
    expect(await error).toMatchObject({ type: 'error', code: 'LAB_ERR_ROOM_NAME' })
    a.socket.emit('client_message', 'still here')
    await until(() => a.heard.includes('still here'), 'the connection to keep working')
  })
})
