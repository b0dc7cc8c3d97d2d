// Names for Engine.IO and Socket.IO packet types, so the inspector can say
// what "42[...]" means: Engine.IO 4 (message) carrying Socket.IO 2 (EVENT).
export const ENGINE_IO_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const
export const SOCKET_IO_TYPES = [
  'CONNECT',
  'DISCONNECT',
  'EVENT',
  'ACK',
  'CONNECT_ERROR',
  'BINARY_EVENT',
  'BINARY_ACK',
] as const

/** Describes one Engine.IO packet as the client library hands it over ({ type, data }). */
export function describeEnginePacket(type: string, data: unknown): { kind: string; wire: string } {
  const engineCode = ENGINE_IO_TYPES.indexOf(type as (typeof ENGINE_IO_TYPES)[number])
  const body = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data)
  const wire = `${engineCode}${body}`
  if (type !== 'message' || typeof data !== 'string') return { kind: `EIO ${engineCode} ${type}`, wire }
  const sioCode = Number(data[0])
  const sioName = SOCKET_IO_TYPES[sioCode] ?? '?'
  const event = sioCode === 2 ? /^\d+(?:\/[^,]*,)?\d*\["([^"]*)"/.exec(data)?.[1] : undefined
  return { kind: `EIO 4 message · SIO ${sioCode} ${sioName}${event ? ` "${event}"` : ''}`, wire }
}
