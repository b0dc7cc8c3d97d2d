import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  WEBSOCKET_GUID,
  acceptSteps,
  formatClock,
  headerNote,
  headerValue,
  prettyContent,
  statusCode,
  statusNote,
  toBase64,
  toHex,
  tokenLine,
} from '../../ui/src/inspector/inspect.ts'

describe('acceptSteps', () => {
  it('reproduces the example of RFC 6455, section 1.3', () => {
    const steps = acceptSteps('dGhlIHNhbXBsZSBub25jZQ==')
    expect(steps.joined).toBe(`dGhlIHNhbXBsZSBub25jZQ==${WEBSOCKET_GUID}`)
    expect(steps.sha1Hex).toBe('b37a4f2cc0624f1690f64606cf385945b2bec4ea')
    expect(steps.sha1Hex).toHaveLength(40)
    expect(steps.accept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  })

  it('agrees with Node crypto for any key', () => {
    for (const key of ['x3JJHMbDL1EzLkh9GBhXDw==', 'AQIDBAUGBwgJCgsMDQ4PEA==', '']) {
      const expected = createHash('sha1')
        .update(key + WEBSOCKET_GUID)
        .digest()
      expect(acceptSteps(key).sha1Hex).toBe(expected.toString('hex'))
      expect(acceptSteps(key).accept).toBe(expected.toString('base64'))
    }
  })

  it('encodes bytes as hex and base64', () => {
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe('000fff')
    expect(toBase64(new Uint8Array([0, 15, 255, 1]))).toBe('AA//AQ==')
  })
})

describe('handshake headers', () => {
  const request = {
    startLine: 'GET /ws?room=lobby HTTP/1.1',
    headers: [
      ['Host', 'x'],
      ['upgrade', 'websocket'],
      ['Sec-WebSocket-Key', 'abc'],
    ] as Array<[string, string]>,
  }
  const response = {
    startLine: 'HTTP/1.1 101 Switching Protocols',
    headers: [['Upgrade', 'websocket']] as Array<[string, string]>,
  }

  it('finds a header whatever its case', () => {
    expect(headerValue(request, 'Upgrade')).toBe('websocket')
    expect(headerValue(request, 'sec-websocket-key')).toBe('abc')
    expect(headerValue(request, 'Origin')).toBeUndefined()
    expect(headerValue(null, 'Upgrade')).toBeUndefined()
  })

  it('reads the status code of a response start line', () => {
    expect(statusCode(response)).toBe(101)
    expect(statusCode({ startLine: 'HTTP/1.1 200 OK', headers: [] })).toBe(200)
    expect(statusCode(request)).toBeUndefined()
    expect(statusNote(response)).toMatch(/WebSocket frames/)
    expect(statusNote({ startLine: 'HTTP/1.1 200 OK', headers: [] })).toBeUndefined()
  })

  it('annotates the headers of an upgrade and leaves the others alone', () => {
    expect(headerNote('Upgrade', 'websocket', 'request')).toMatch(/switch/)
    expect(headerNote('Connection', 'keep-alive, Upgrade', 'request')).toMatch(/hop-by-hop/)
    expect(headerNote('Sec-WebSocket-Accept', 'x', 'response')).toMatch(/SHA-1/)
    expect(headerNote('Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits', 'request')).toMatch(
      /offers/,
    )
    expect(headerNote('Sec-WebSocket-Extensions', 'permessage-deflate', 'response')).toMatch(/agreed/)
    expect(headerNote('Connection', 'keep-alive', 'request')).toBeUndefined()
    expect(headerNote('Host', 'localhost', 'request')).toBeUndefined()
  })
})

describe('formatClock', () => {
  it('prints the local wall clock as HH:MM:SS.mmm', () => {
    expect(formatClock(new Date(2024, 0, 2, 3, 4, 5, 6).getTime())).toBe('03:04:05.006')
    expect(formatClock(new Date(2024, 0, 2, 23, 59, 59, 999).getTime() + 0.75)).toBe('23:59:59.999')
  })
})

describe('tokenLine', () => {
  const expiresAt = new Date(2024, 0, 2, 14, 32, 59).getTime()

  it('says where the token travelled and who it named, with the hour it expires', () => {
    expect(tokenLine({ channel: 'cookie', name: 'ann', role: 'student', expiresAt })).toBe(
      'Token: in the Cookie header, lab_token (redacted) — ann, student, expires 14:32',
    )
    expect(tokenLine({ channel: 'subprotocol', name: 'Ms Ray', role: 'instructor', expiresAt })).toBe(
      'Token: in Sec-WebSocket-Protocol, beside "bearer" (redacted) — Ms Ray, instructor, expires 14:32',
    )
  })

  it("names Socket.IO's auth object as a place the handshake does not show", () => {
    expect(tokenLine({ channel: 'socket.io-auth', name: 'ann', role: 'student', expiresAt })).toMatch(
      /^Token: in Socket\.IO's auth object, sent in its CONNECT packet after this handshake \(not shown\) — ann/,
    )
  })
})

describe('prettyContent', () => {
  it('indents JSON and keeps a packet prefix on its own line', () => {
    expect(prettyContent('{"a":1}')).toBe('{\n  "a": 1\n}')
    expect(prettyContent('42["message",{"a":1}]')).toBe('42\n[\n  "message",\n  {\n    "a": 1\n  }\n]')
  })

  it('returns anything else unchanged', () => {
    expect(prettyContent('2probe')).toBe('2probe')
    expect(prettyContent('/poll?room=lobby&since=0')).toBe('/poll?room=lobby&since=0')
    expect(prettyContent('not [json')).toBe('not [json')
  })
})
