// The wire meter claims its totals are TCP payload, what a packet capture sees.
// This holds it to that: the same traffic over all five transports, counted by
// the meter in-process and by tcpdump on the loopback interface.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { tcpPayloadBytes } from '../support/pcap.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const TOLERANCE = 0.01

function findTcpdump(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, 'tcpdump')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

const tcpdump = findTcpdump()
const cannotCapture = !tcpdump
  ? 'tcpdump is not installed'
  : process.getuid?.() !== 0
    ? 'capturing on lo needs root'
    : undefined
const inCi = process.env.CI === 'true'
if (cannotCapture && !inCi) console.warn(`skipping the wire meter's packet-capture check: ${cannotCapture}`)

interface Capture {
  file: string
  stop(): Promise<string>
}

async function startCapture(bin: string, port: number, dir: string): Promise<Capture> {
  const file = join(dir, 'lo.pcap')
  // --immediate-mode: -U only flushes the file per packet; without immediate mode the
  // kernel hands packets over in TPACKET_V3 blocks, and on SIGINT tcpdump exits
  // without the pending block (30-45% of this test's bytes, and still "0 dropped").
  // -B: immediate mode falls back to TPACKET_V2, one ring slot per packet sized for
  // lo's 64 KiB MTU, so the default ring holds a few dozen packets and the kernel
  // dropped some when other test files loaded the CPU; 32 MiB fits this conversation.
  const args = ['-i', 'lo', '-n', '-s', '0', '-U', '--immediate-mode', '-B', '32768', '-w', file, `tcp port ${port}`]
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  // 'close', not 'exit': the packet counts tcpdump prints on the way out must be read too.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: string) => {
      stderr += chunk
      if (stderr.includes('listening on lo')) resolve()
    }
    child.stderr!.on('data', onData)
    child.once('error', reject)
    void exited.then((code) => reject(new Error(`tcpdump exited with ${code} before capturing: ${stderr.trim()}`)))
    setTimeout(() => reject(new Error(`tcpdump did not start capturing within 5 s: ${stderr.trim()}`)), 5000).unref()
  })
  return {
    file,
    async stop() {
      child.kill('SIGINT')
      await exited
      return stderr
    },
  }
}

/** Resolves once the meter's totals have not moved for QUIET_MS (a state, read every 10 ms, not a guess at a duration). */
const QUIET_MS = 250
async function quiet(): Promise<void> {
  let last = ''
  let since = Date.now()
  await until(
    () => {
      const { bytesIn, bytesOut } = server.app.wire.snapshot().total
      const now = `${bytesIn}/${bytesOut}`
      if (now !== last) [last, since] = [now, Date.now()]
      return Date.now() - since >= QUIET_MS || undefined
    },
    'the traffic to stop',
    10_000,
  )
}

let server: RunningServer
let dir: string
beforeAll(async () => {
  server = await startServer()
  dir = mkdtempSync(join(tmpdir(), 'wire-capture-'))
})
afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the wire meter', () => {
  it.skipIf(cannotCapture !== undefined && !inCi)('agrees with a loopback packet capture within 1%', async () => {
    if (cannotCapture)
      throw new Error(`tcpdump is required in CI to check the wire meter against a packet capture: ${cannotCapture}`)
    const capture = await startCapture(tcpdump!, server.port, dir)
    let stopped = false
    try {
      const room = 'capture'
      const clients: LabClient[] = TRANSPORTS.map((transport) =>
        createClient(transport, server.url, `cap-${transport.replace('.', '')}`),
      )
      for (const client of clients) await client.join(room)
      // Sizes from one small packet to several kilobytes, so both headers and bodies weigh in.
      const texts: string[] = []
      for (const [i, client] of clients.entries()) {
        for (const size of [5, 300, 4000]) {
          const text = `${client.transport}#${i}:${size}:`.padEnd(size, 'x')
          texts.push(text)
          await client.send(room, text)
        }
      }
      for (const client of clients) for (const text of texts) await waitForText(client, room, text)
      await Promise.all(clients.map((c) => c.close()))
      // Close frames, a last poll answered after its client stopped: wait until the traffic has stopped,
      // then stop the capture, and read the meter after it, so neither side can count what the other missed.
      await quiet()
      const stats = await capture.stop()
      stopped = true
      const meter = server.app.wire.snapshot().total
      const wire = tcpPayloadBytes(capture.file, server.port)
      const dropped = /(\d+) packets? dropped by kernel/.exec(stats)?.[1]
      expect(dropped, `tcpdump dropped packets: ${stats.trim()}`).toBe('0')

      const report =
        `meter in ${meter.bytesIn} / out ${meter.bytesOut}; ` +
        `capture to server ${wire.toServer} / from server ${wire.fromServer} (${wire.packets} packets with payload)`
      console.log(report)
      const diff = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b, 1)
      expect(wire.toServer, 'capture saw no client traffic').toBeGreaterThan(0)
      expect(wire.fromServer, 'capture saw no server traffic').toBeGreaterThan(0)
      expect(diff(meter.bytesIn, wire.toServer), `bytes in differ by more than 1%: ${report}`).toBeLessThan(TOLERANCE)
      expect(diff(meter.bytesOut, wire.fromServer), `bytes out differ by more than 1%: ${report}`).toBeLessThan(
        TOLERANCE,
      )
    } finally {
      if (!stopped) await capture.stop()
    }
  })
})
