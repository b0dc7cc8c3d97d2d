// Runs nginx (Debian's package) as an ordinary user: a prefix directory of its
// own for the pid file and temporary files, the configuration written there,
// in the foreground (`daemon off`) so that it is a child that can be stopped.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinary, freePort, spawnChild, waitFor, type Child } from './children.ts'

export const NGINX_APT_PACKAGE = 'nginx'
const READY_TIMEOUT_MS = 10_000

export interface Nginx {
  host: string
  port: number
  /** Where its configuration and temporary files are (removed by stop()). */
  prefix: string
  child: Child
  stop(): Promise<void>
}

export interface NginxOptions {
  /** The configuration for nginx listening on `port`, its files under `prefix`. */
  config: (where: { prefix: string; port: number }) => string
  host?: string
  /** 0 or absent: a free one. */
  port?: number
  onLine?: (line: string) => void
  binary?: string
}

/** Whether something accepts TCP connections at host:port; a wildcard address is asked on loopback. */
export async function accepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return new Promise((resolve) => {
    const socket = connect({ host: target, port })
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = options.binary ?? findBinary('nginx')
  if (!binary) throw new Error(`nginx not found (apt-get install ${NGINX_APT_PACKAGE})`)
  const host = options.host ?? '127.0.0.1'
  const prefix = mkdtempSync(join(tmpdir(), 'lab-nginx-'))
  // Started as root, nginx runs its worker as nobody, which must reach its temporary files.
  chmodSync(prefix, 0o755)

  const launch = async (port: number): Promise<Child> => {
    // nginx keeps trying a taken port for seconds while whatever holds it answers: ask first.
    if (await accepts(host, port)) throw new Error(`${host}:${port} is already in use (set PORT to another port)`)
    const conf = join(prefix, 'nginx.conf')
    writeFileSync(conf, options.config({ prefix, port }))
    const child = spawnChild('nginx', binary, ['-p', prefix, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], {
      onLine: options.onLine,
    })
    try {
      await waitFor(
        async () => {
          if (child.gone()) throw new Error(`nginx exited at start:\n${child.output()}`)
          return accepts(host, port, 500)
        },
        `nginx to listen on ${host}:${port}`,
        READY_TIMEOUT_MS,
      )
    } catch (error) {
      await child.stop('SIGKILL')
      throw error
    }
    return child
  }

  const stop = async (child: Child) => {
    // SIGTERM is nginx's fast shutdown: open WebSockets and streams are closed, not waited for.
    await child.stop('SIGTERM', 3000)
    rmSync(prefix, { recursive: true, force: true })
  }

  let port = options.port || (await freePort(host))
  let child: Child
  try {
    child = await launch(port)
  } catch (error) {
    // A port we picked may have been taken meanwhile: one more; a port we were given is an error at once.
    if (options.port) {
      rmSync(prefix, { recursive: true, force: true })
      throw error
    }
    port = await freePort(host)
    child = await launch(port).catch((again: unknown) => {
      rmSync(prefix, { recursive: true, force: true })
      throw again
    })
  }
  return { host, port, prefix, child, stop: () => stop(child) }
}
