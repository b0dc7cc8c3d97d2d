// Where students join: the workbench's Invite card asks here for the URLs
// other machines can open. The server reports the address it is actually
// bound to (not the HOST setting), so a server only this machine can reach
// says so instead of handing the class a URL that will not answer.
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { classUrls } from '../addresses.ts'

const JoinAnswer = Type.Object({
  host: Type.String({ description: 'the address the server is bound to, e.g. 0.0.0.0 or 127.0.0.1' }),
  port: Type.Integer(),
  urls: Type.Array(Type.String(), {
    description: 'the URLs other machines can open, network addresses only; empty when none can',
  }),
})

export const joinRoutes = fp(
  async (app) => {
    app.get('/api/join', { schema: { response: { 200: JoinAnswer } } }, async (_request, reply) => {
      const address = app.server.address()
      const host = typeof address === 'object' && address ? address.address : app.config.host
      const port = typeof address === 'object' && address ? address.port : app.config.port
      // A laptop moves between networks during a class: always the addresses of now.
      void reply.header('cache-control', 'no-store')
      return { host, port, urls: classUrls(host, port) }
    })
  },
  { name: 'join' },
)
