// The shaped networks: one extra port per profile, in the server's own
// process, each forwarding every TCP connection it accepts to the server's main
// port through two Shapers (one per direction).
//
// Why a relay and not shaping inside the server's sockets: Node's HTTP server
// reads a socket's bytes straight from its handle, past any 'data' listener,
// so the way in cannot be delayed there; and a browser shares its keep-alive
// connections between every request to an origin, so one request's ?net=
// cannot tell which socket the next request will use. A port is a whole
// network: everything a page loaded from it sends and receives pays the delay
// and the bandwidth, in both directions, whatever the transport.
//
// The server sees a relayed connection come from the relay, on loopback.
// adopt() gives it back its real client's address, so that the limits per
// address, a page's own figures and the server-machine-only routes still
// know who is asking (a classmate behind the relay is not the server's machine).
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { NetworkProfile } from './profiles.ts'
import { direction, Shaper, type Link } from './shaper.ts'

/** Bytes a shaped connection may hold in each direction before its sender is paused. */
export const SHAPED_QUEUE_BYTES = 256 * 1024

export interface RelayListener {
  profile: NetworkProfile
  port: number
}

interface Pending {
  socket: Socket
  client: Socket
  profile: NetworkProfile
}

export class NetworkRelays {
  private readonly servers: Server[] = []
  private readonly open = new Set<Socket>()
  /** Connections to the main port the server has not been told about yet. */
  private readonly pending = new Set<Pending>()
  private readonly profileOf = new WeakMap<Socket, NetworkProfile>()
  private peak = 0
  /** One link per client address and profile: all of a client's connections share its bandwidth. */
  private readonly links = new Map<string, { up: Link; down: Link; connections: number }>()
  readonly listeners: RelayListener[] = []

  /**
   * Listens on `firstPort`, `firstPort + 1`, ... (free ports for 0), one per
   * profile; each connection is forwarded to `target()`, the main port.
   */
  async listen(
    profiles: readonly NetworkProfile[],
    host: string,
    firstPort: number,
    target: () => { host: string; port: number },
  ): Promise<void> {
    for (const [index, profile] of profiles.entries()) {
      const server = createServer({ allowHalfOpen: true }, (client) => this.forward(client, profile, target()))
      this.servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(firstPort === 0 ? 0 : firstPort + index, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const address = server.address()
      this.listeners.push({ profile, port: typeof address === 'object' && address ? address.port : 0 })
    }
  }

  /** The profile a connection to the main port came through, once adopted; undefined for a direct one. */
  profile(socket: Socket): NetworkProfile | undefined {
    return this.profileOf.get(socket)
  }

  /**
   * Called with every connection the main port accepts: one the relay opened
   * takes its client's address. Its local port is bound when connect() is
   * called, so it can be matched even before the relay's side hears 'connect'.
   */
  adopt(socket: Socket): void {
    for (const entry of this.pending) {
      if (entry.socket.localPort !== socket.remotePort || entry.socket.localAddress !== socket.remoteAddress) continue
      this.pending.delete(entry)
      const { client } = entry
      for (const key of ['remoteAddress', 'remotePort', 'remoteFamily'] as const)
        Object.defineProperty(socket, key, { value: client[key], configurable: true })
      this.profileOf.set(socket, entry.profile)
      return
    }
  }

  private forward(client: Socket, profile: NetworkProfile, target: { host: string; port: number }): void {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true })
    const entry = { socket: upstream, client, profile }
    this.pending.add(entry)
    upstream.once('close', () => this.pending.delete(entry))
    const shape = direction(profile.rttMs, profile.kbitps)
    const key = `${profile.id} ${client.remoteAddress}`
    const link = this.links.get(key) ?? { up: { freeAt: 0 }, down: { freeAt: 0 }, connections: 0 }
    link.connections++
    this.links.set(key, link)
    client.once('close', () => {
      if (--link.connections === 0) this.links.delete(key)
    })
    const up = new Shaper(client, upstream, shape, link.up, SHAPED_QUEUE_BYTES)
    const down = new Shaper(upstream, client, shape, link.down, SHAPED_QUEUE_BYTES)
    for (const [socket, towards, from] of [
      [client, down, up],
      [upstream, up, down],
    ] as const) {
      this.open.add(socket)
      socket.setNoDelay(true)
      socket.on('error', () => {})
      // Gone: nothing more can reach it, and its peer is told the way a closing socket would be, after the delay.
      socket.once('close', () => {
        this.peak = Math.max(this.peak, towards.peakQueuedBytes)
        this.open.delete(socket)
        towards.dispose()
        from.end()
      })
    }
  }

  /** The most any direction of a closed connection held at once. */
  get peakQueuedBytes(): number {
    return this.peak
  }

  /** Stops listening and cuts what is still open: a listener's close waits for its connections to end. */
  async close(): Promise<void> {
    const closed = this.servers.map((s) => new Promise((resolve) => s.close(resolve)))
    for (const socket of this.open) socket.destroy()
    await Promise.all(closed)
  }
}
