// nginx with a configuration of the test's own, as an ordinary user: a
// temporary prefix for its pid and temporary files, a free port on 127.0.0.1.
import { NGINX_APT_PACKAGE, startNginx as start } from '../../cluster/balancer.ts'
import { requireBinary } from './binaries.ts'

export const hasNginx = (needs?: string): boolean => requireBinary('nginx', NGINX_APT_PACKAGE, needs)

export interface RunningNginx {
  url: string
  port: number
  pid: number
  stop(): Promise<void>
}

/**
 * `config` gets the port nginx is to listen on and a directory it may write:
 * `balancerConfig` from cluster/nginx.ts, or any configuration a test needs.
 * Ready when the port accepts connections.
 */
export async function startNginx(config: (where: { prefix: string; port: number }) => string): Promise<RunningNginx> {
  const nginx = await start({ config })
  return { url: `http://127.0.0.1:${nginx.port}`, port: nginx.port, pid: nginx.child.pid, stop: () => nginx.stop() }
}
