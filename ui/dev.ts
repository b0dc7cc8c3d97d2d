// `npm run dev`: the Fastify server (restarting on server changes) on
// LAB_SERVER_PORT, and Vite's dev server with hot reload in front of it on PORT.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createServer } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))
const serverPort = process.env.LAB_SERVER_PORT ?? '3001'
const uiPort = Number(process.env.PORT ?? 3000)
process.env.LAB_SERVER_PORT = serverPort

const server = spawn(process.execPath, ['--import', 'tsx', '--watch-path=server', 'server/main.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PORT: serverPort },
})
const vite = await createServer({
  configFile: fileURLToPath(new URL('vite.config.ts', import.meta.url)),
  server: { port: uiPort, host: process.env.HOST ?? '127.0.0.1', strictPort: true },
})
await vite.listen()
process.stdout.write(
  `\n  Workbench (Vite, hot reload): http://${process.env.HOST ?? '127.0.0.1'}:${uiPort}/  ->  Fastify on :${serverPort}\n\n`,
)

const stop = () => {
  server.kill('SIGTERM')
  void vite.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
server.once('exit', (code) => {
  if (code !== 0 && code !== null) process.stderr.write(`server exited with ${code}\n`)
})
