// Promises for the moments a limits test waits on: a WebSocket closing, a
// Socket.IO client welcomed (or refused at connect).
import type WebSocket from 'ws'
import type { Socket } from 'socket.io-client'

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
}

export function welcomed(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('welcome', () => resolve())
    socket.once('connect_error', reject)
  })
}
