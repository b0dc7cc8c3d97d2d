// The one rule for what the lab never shows of a credential, case by case.
// Where a token actually travels through a running server: test/auth/redaction.test.ts.
import { describe, expect, it } from 'vitest'
import { logError, logRequest, offersBearer, redactHeader, redactUrl } from '../../server/wire/redact.ts'

describe('redactUrl', () => {
  it('replaces the values of ?token= and ?session= and keeps every other parameter', () => {
    expect(redactUrl('/ws?room=lobby&token=abc.def.ghi&name=ann')).toBe('/ws?room=lobby&token=[redacted]&name=ann')
    expect(redactUrl('/poll?session=s1&since=3')).toBe('/poll?session=[redacted]&since=3')
  })

  it('reads parameter names as a query parser does (percent-encoded, any case) and stops at a fragment', () => {
    expect(redactUrl('/sse?%74oken=secret&room=a')).toBe('/sse?%74oken=[redacted]&room=a')
    expect(redactUrl('/sse?TOKEN=secret')).toBe('/sse?TOKEN=[redacted]')
    expect(redactUrl('/sse?token=secret#part')).toBe('/sse?token=[redacted]#part')
  })

  it('leaves a URL without a query, or without a credential in it, as it is', () => {
    expect(redactUrl('/api/wire')).toBe('/api/wire')
    expect(redactUrl('/socket.io/?EIO=4&transport=polling')).toBe('/socket.io/?EIO=4&transport=polling')
  })
})

describe('redactHeader', () => {
  it('hides the whole value of a credential header, whatever the case of its name', () => {
    expect(redactHeader(['Authorization', 'Bearer abc'])).toEqual(['Authorization', '[redacted]'])
    expect(redactHeader(['cookie', 'lab_token=abc'])).toEqual(['cookie', '[redacted]'])
    expect(redactHeader(['Set-Cookie', 'lab_token=abc; HttpOnly'])).toEqual(['Set-Cookie', '[redacted]'])
  })

  it("keeps the subprotocol 'bearer' and hides what is offered beside it, in either order", () => {
    expect(redactHeader(['Sec-WebSocket-Protocol', 'bearer, abc'])).toEqual([
      'Sec-WebSocket-Protocol',
      'bearer, [redacted]',
    ])
    expect(redactHeader(['sec-websocket-protocol', 'abc,bearer'])).toEqual([
      'sec-websocket-protocol',
      '[redacted], bearer',
    ])
  })

  it('shows subprotocols as they are when no token rides with them', () => {
    expect(redactHeader(['Sec-WebSocket-Protocol', 'chat, superchat'])).toEqual([
      'Sec-WebSocket-Protocol',
      'chat, superchat',
    ])
    expect(redactHeader(['Sec-WebSocket-Protocol', 'bearer'])).toEqual(['Sec-WebSocket-Protocol', 'bearer'])
  })

  it("hides a 101's chosen subprotocol when the request offered its token beside 'bearer'", () => {
    expect(offersBearer({ 'sec-websocket-protocol': 'abc, bearer' })).toBe(true)
    expect(offersBearer({ 'sec-websocket-protocol': 'chat' })).toBe(false)
    expect(offersBearer({})).toBe(false)
    expect(redactHeader(['Sec-WebSocket-Protocol', 'abc'], true)).toEqual(['Sec-WebSocket-Protocol', '[redacted]'])
  })
})

describe('log serializers', () => {
  it('log a request with its target redacted', () => {
    const req = {
      method: 'GET',
      url: '/sse?room=a&token=abc',
      headers: { host: 'lab:3000', authorization: 'Bearer abc' },
      socket: { remoteAddress: '10.0.0.7', remotePort: 51000 },
    }
    expect(logRequest(req)).toEqual({
      method: 'GET',
      url: '/sse?room=a&token=[redacted]',
      host: 'lab:3000',
      remoteAddress: '10.0.0.7',
      remotePort: 51000,
    })
  })

  it("log an error without Node's rawPacket and with any URL in its message redacted", () => {
    const error = Object.assign(new Error('Parse Error: bad header in GET /ws?token=abc'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
      rawPacket: Buffer.from('GET /ws?token=abc HTTP/1.1\r\nCookie: lab_token=abc\r\n'),
    })
    const logged = logError(error)
    expect(logged).toMatchObject({ type: 'Error', code: 'HPE_INVALID_HEADER_TOKEN' })
    expect(logged.message).toBe('Parse Error: bad header in GET /ws?token=[redacted]')
    expect(logged).not.toHaveProperty('rawPacket')
    expect(JSON.stringify(logged)).not.toContain('abc')
  })

  it('pass anything that is not an Error through untouched', () => {
    expect(logError('plain words')).toBe('plain words')
  })
})
