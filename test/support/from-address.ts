// A request on a connection of its own from a chosen local address: any 127.x.y.z reaches a server on
// 127.0.0.1 as another client would, and the machine's network address as another machine would.
import { request as httpRequest } from 'node:http'

export interface JsonAnswer {
  status: number
  body: Record<string, unknown>
}

export function requestFrom(
  port: number,
  localAddress: string,
  method: string,
  path: string,
  body?: string,
  extraHeaders: Record<string, string> = {},
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const headers = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, localAddress, agent: false, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
