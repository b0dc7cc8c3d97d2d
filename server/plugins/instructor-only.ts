// Who may act for the whole class (reset everyone's counters, see every
// client's handshakes, send a client away). Until class codes exist (issue
// 12), the instructor is whoever sits at the server's own machine: the one
// place to swap for a token check.
import type { FastifyRequest } from 'fastify'
import { LabError } from '../core/errors.ts'

/** Throws 403 LAB_ERR_FORBIDDEN, saying `refusal`, unless `request` comes from the instructor. */
export function assertInstructor(request: FastifyRequest, refusal: string): void {
  if (!isLoopback(request.socket.remoteAddress)) throw new LabError('LAB_ERR_FORBIDDEN', refusal)
}

/** The server's own machine: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const ipv4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return ipv4.startsWith('127.') || address === '::1'
}
