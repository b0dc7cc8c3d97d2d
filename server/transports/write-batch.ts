// Frames a server writes to one connection during one turn of the event loop
// leave together, in one system call, instead of one writev each. A busy room
// hands a receiver many entries per turn (a sender's TCP read often holds
// dozens of frames), and each write would otherwise be its own trip into the
// kernel: the largest share of a WebSocket or SSE server's time under load.
// The connection is corked at its first write of the turn and uncorked once
// the turn's I/O callbacks have run (setImmediate), so an entry waits only for
// the rest of the turn, never for a timer. (Node corks an HTTP response's
// socket by itself, but only until the callback that wrote is over: the sends
// of several requests read in one turn would still leave one write each.)
//
// What waits here is counted in the socket's buffered bytes, which the
// slow-consumer policy reads: so a batch goes out as soon as it holds
// FLUSH_BYTES, well under the smallest SEND_BUFFER_BYTES (16 KiB). What the
// policy sees beyond that is what the kernel would not take.
import type { Socket } from 'node:net'

export const FLUSH_BYTES = 8192

let corked = new Set<Socket>()

function uncorkAll(): void {
  // A fresh set first: a write made while these flush belongs to the next batch.
  const sockets = corked
  corked = new Set()
  for (const socket of sockets) socket.uncork()
}

/** Holds what is written to `socket` from now until the end of this turn of the event loop. */
export function batchWrites(socket: Socket): void {
  if (corked.has(socket) || socket.destroyed) return
  socket.cork()
  corked.add(socket)
  if (corked.size === 1) setImmediate(uncorkAll)
}

/** After a write: sends the batch now when it holds FLUSH_BYTES or more. */
export function flushIfFull(socket: Socket): void {
  if (socket.writableLength < FLUSH_BYTES || !corked.has(socket)) return
  socket.uncork()
  socket.cork()
}
