// The endpoint list: what is running, with a link to each endpoint. Served at
// /endpoints beside the built workbench, or at / when ui/dist is not built (plugins/ui.ts).
import fp from 'fastify-plugin'
import { transports } from '../transports/index.ts'

const EXAMPLES: Record<string, string> = {
  'short-polling': 'GET /poll?room=lobby&amp;since=0 — answers at once; POST /poll to join, leave or send',
  'long-polling': 'GET /long-poll?room=lobby&amp;since=N — held until something arrives; POST /long-poll to send',
  sse: 'GET /sse?room=lobby&amp;name=ann — text/event-stream, resumes from Last-Event-ID; POST /sse to send',
  websocket: 'GET /ws?room=lobby&amp;name=ann with Upgrade: websocket — JSON frames both ways',
  'socket.io': 'io() from /socket.io/socket.io.js — the protocol (auth: {protocol: "lab"}) or the class notes\' events',
}

export const homePage = fp(
  async (app, options: { prefix?: string }) => {
    const rows = transports
      .map((t) => `<li><strong>${t.name}</strong>: <code>${EXAMPLES[t.name]}</code></li>`)
      .join('\n')
    const where =
      options.prefix === undefined
        ? 'the workbench UI is not built: <code>npm start</code> or <code>npm run build:ui</code> builds it, ' +
          // Not a link: /endpoints answers only once the UI is built.
          'then it is at / and this list at <code>/endpoints</code>'
        : 'the workbench UI is at <a href="/">/</a>'
    const lessons =
      '<a href="/api/lessons">/api/lessons</a> — the class\'s lessons; ' +
      "<code>/api/lessons/NN-topic</code> gives one as markdown (the workbench's Lessons tab renders them)"
    const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Transport Lab</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25rem}</style></head>
<body>
<h1>Transport Lab</h1>
<p>One chat, five transports, measured at the socket. These endpoints are live (${where}).</p>
<ul>
${rows}
</ul>
<h2>Measurements</h2>
<ul>
<li><a href="/api/wire">/api/wire</a> — bytes per transport and direction, payload vs overhead, connections, held requests</li>
<li><code>/api/wire/handshakes/CONNECTION_ID</code> — the request that opened your stream on a connection, and its answer (e.g. the 101): the <code>connectionId</code> of your welcome</li>
<li><a href="/api/wire/handshakes">/api/wire/handshakes</a> — every client's latest handshake per transport, on the server's own machine only</li>
<li><code>/api/wire/frames/CONNECTION_ID</code> — the last WebSocket frame headers each way on your connection (FIN, opcode, mask, length, close codes)</li>
<li><a href="/api/limits">/api/limits</a> — the longest text and largest body this server accepts (the workbench checks a message against them before sending)</li>
<li><a href="/api/network">/api/network</a> — the shaped networks (round trip, bandwidth) and the port each is served on</li>
<li><a href="/api/instructor/rooms">/api/instructor/rooms</a> — every room's members, their transports and bytes, for the instructor only</li>
<li><a href="/api/auth">/api/auth</a> — whether this class needs a code, and whose token your browser holds; <code>POST /api/login</code> <code>{"code", "name"}</code> answers a token (and sets it as a cookie), <code>POST /api/logout</code> revokes it</li>
<li><code>POST /api/instructor/broadcast</code> <code>{"room", "text"}</code> — a message from the instructor to a room, on every transport</li>
<li><a href="/api/join">/api/join</a> — the URLs students on the network open (none when the server listens on this machine only)</li>
<li><a href="/api/rooms">/api/rooms</a> — rooms, their epoch and latest seq</li>
<li><a href="/api/time">/api/time</a> — the server's clock, as it stamps <code>serverAt</code> (the workbench estimates its offset from it)</li>
<li><a href="/metrics">/metrics</a> — the same figures for Prometheus</li>
</ul>
<h2>Lessons</h2>
<ul>
<li>${lessons}</li>
<li><a href="/class-notes/">/class-notes/</a> — the class notes' Socket.IO chat page (lesson 08)</li>
</ul>
</body>
</html>`
    app.get(options.prefix ?? '/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html))
  },
  { name: 'home-page' },
)
