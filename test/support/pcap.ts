// Reads a classic libpcap file (what `tcpdump -w` writes) and counts TCP payload
// bytes per direction for one server port: the bytes the server's sockets
// read (bytesRead) and wrote (bytesWritten), as the wire saw them.
import { readFileSync } from 'node:fs'

export interface TcpPayloadBytes {
  /** client -> server: what the server read */
  toServer: number
  /** server -> client: what the server wrote */
  fromServer: number
  packets: number
}

const LINKTYPE_ETHERNET = 1
const LINKTYPE_LINUX_SLL = 113
const LINKTYPE_LINUX_SLL2 = 276
const ETHERTYPE_IPV4 = 0x0800
const ETHERTYPE_IPV6 = 0x86dd
const ETHERTYPE_VLAN = 0x8100
const IPPROTO_TCP = 6

export function tcpPayloadBytes(file: string, serverPort: number): TcpPayloadBytes {
  const buf = readFileSync(file)
  if (buf.length < 24) throw new Error(`${file}: too short for a pcap header (${buf.length} bytes)`)
  // The magic says both the writer's byte order and the timestamp resolution;
  // only the byte order matters here, since timestamps are ignored.
  const magicLE = buf.readUInt32LE(0)
  let le: boolean
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) le = true
  else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) le = false
  else throw new Error(`${file}: not a classic pcap file (magic 0x${magicLE.toString(16)}; pcapng is not supported)`)
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at))
  // The top bits of the link-type field may carry FCS flags (pcap 2.4 "LinkType and additional information").
  const linkType = u32(20) & 0x0fffffff

  const result: TcpPayloadBytes = { toServer: 0, fromServer: 0, packets: 0 }
  const flows = new Map<string, number>()
  let at = 24
  while (at + 16 <= buf.length) {
    const capLen = u32(at + 8)
    const start = at + 16
    // tcpdump killed mid-write can leave a partial last record: stop there, not on garbage.
    if (start + capLen > buf.length) break
    at = start + capLen
    const frame = buf.subarray(start, start + capLen)
    const ip = network(frame, linkType)
    if (!ip) continue
    const tcp = ip.version === 4 ? ipv4(ip.packet) : ipv6(ip.packet)
    if (!tcp) continue
    const { segment, length, hosts } = tcp
    // The TCP header itself must be captured; the payload need not be (snap length).
    if (segment.length < 20) continue
    const srcPort = segment.readUInt16BE(0)
    const dstPort = segment.readUInt16BE(2)
    const size = length - (segment[12]! >> 4) * 4
    if (size <= 0) continue
    // A segment sent again (a retransmission, or a tail loss probe when a loaded machine is
    // slow to acknowledge) carries bytes the application wrote once: count each byte once.
    const payload = newBytes(flows, `${hosts}:${srcPort}>${dstPort}`, segment.readUInt32BE(4), size)
    if (payload <= 0) continue
    if (dstPort === serverPort) result.toServer += payload
    else if (srcPort === serverPort) result.fromServer += payload
    else continue
    result.packets++
  }
  return result
}

/**
 * How many of a segment's `size` bytes from sequence number `seq` are past
 * what the flow has carried already. Sequence numbers wrap at 2^32: compare
 * them by their signed difference.
 */
function newBytes(flows: Map<string, number>, flow: string, seq: number, size: number): number {
  const end = (seq + size) >>> 0
  const next = flows.get(flow)
  if (next === undefined) {
    flows.set(flow, end)
    return size
  }
  const ahead = (end - next) | 0
  if (ahead <= 0) return 0
  flows.set(flow, end)
  return Math.min(size, ahead)
}

function network(frame: Buffer, linkType: number): { version: 4 | 6; packet: Buffer } | undefined {
  let etherType: number
  let offset: number
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (frame.length < 14) return undefined
      etherType = frame.readUInt16BE(12)
      offset = 14
      while (etherType === ETHERTYPE_VLAN && frame.length >= offset + 4) {
        etherType = frame.readUInt16BE(offset + 2)
        offset += 4
      }
      break
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return undefined
      etherType = frame.readUInt16BE(14)
      offset = 16
      break
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return undefined
      etherType = frame.readUInt16BE(0)
      offset = 20
      break
    default:
      throw new Error(`unsupported pcap link type ${linkType}`)
  }
  if (etherType === ETHERTYPE_IPV4) return { version: 4, packet: frame.subarray(offset) }
  if (etherType === ETHERTYPE_IPV6) return { version: 6, packet: frame.subarray(offset) }
  return undefined
}

/** `length` is the TCP segment's length as the IP header declares it, whatever was captured. */
function ipv4(packet: Buffer): { segment: Buffer; length: number; hosts: string } | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4 || packet[9] !== IPPROTO_TCP) return undefined
  // Later fragments carry no TCP header; HTTP over loopback never fragments anyway.
  if ((packet.readUInt16BE(6) & 0x1fff) !== 0) return undefined
  const headerLength = (packet[0]! & 0x0f) * 4
  let total = packet.readUInt16BE(2)
  // Segmentation offload can hand the capture a super-packet with total length 0
  // (BIG TCP); then the captured bytes are the only measure, and -s 0 keeps them all.
  if (total === 0) total = packet.length
  return {
    segment: packet.subarray(headerLength),
    length: total - headerLength,
    hosts: packet.subarray(12, 20).toString('hex'),
  }
}

function ipv6(packet: Buffer): { segment: Buffer; length: number; hosts: string } | undefined {
  if (packet.length < 40 || packet[0]! >> 4 !== 6) return undefined
  let next = packet[6]!
  let payloadLength = packet.readUInt16BE(4)
  if (payloadLength === 0) payloadLength = packet.length - 40 // jumbogram / BIG TCP, as above
  let offset = 40
  // Skip hop-by-hop, routing and destination options headers to reach TCP.
  while ((next === 0 || next === 43 || next === 60) && packet.length >= offset + 2) {
    next = packet[offset]!
    offset += (packet[offset + 1]! + 1) * 8
  }
  if (next !== IPPROTO_TCP) return undefined
  return {
    segment: packet.subarray(offset),
    length: payloadLength - (offset - 40),
    hosts: packet.subarray(8, 40).toString('hex'),
  }
}
