// Who may act for the whole class (reset everyone's counters, see every
// client's handshakes, send a client away, broadcast to a room). With an
// INSTRUCTOR_CODE, whoever holds an instructor token from /api/login, on any
// channel; without one, whoever sits at the server's own machine.
import type { FastifyRequest } from 'fastify'
import { LabError } from '../core/errors.ts'
import { findToken, type Principal } from '../auth/gate.ts'

/**
 * The instructor's principal (undefined for the server's own machine when
 * there is no instructor code). Throws 401 LAB_ERR_AUTH without a valid
 * token, 403 LAB_ERR_FORBIDDEN, saying `refusal`, for anyone else.
 */
export function assertInstructor(request: FastifyRequest, refusal: string): Principal | undefined {
  const gate = request.server.auth
  if (!gate.instructorByToken) {
    if (!isLoopback(request.server.clientAddress(request.raw))) throw new LabError('LAB_ERR_FORBIDDEN', refusal)
    return undefined
  }
  const principal = findToken(request.raw) ? gate.authenticate(request.raw) : undefined
  if (!principal)
    throw new LabError('LAB_ERR_AUTH', "this is for the instructor: log in with the instructor's code first")
  if (principal.role !== 'instructor')
    throw new LabError('LAB_ERR_FORBIDDEN', `${principal.name}'s token is a student's: this needs the instructor's`)
  return principal
}

/** The server's own machine: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const ipv4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return ipv4.startsWith('127.') || address === '::1'
}
