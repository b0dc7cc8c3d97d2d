import type { ReactiveController, ReactiveControllerHost } from 'lit'
import { throttle } from '../charts/chart-data.ts'
import type { Lab } from '../state/lab.ts'

const UPDATES_EVERY_MS = 500

/**
 * Listens to the Lab's 'latency' and the wire meter's 'change' while the host
 * is in the page, and asks it to render at most twice a second: a burst of
 * messages to five panels must not redraw five charts per message.
 */
export class LabFeed implements ReactiveController {
  private readonly host: ReactiveControllerHost
  private readonly throttled: ReturnType<typeof throttle>
  private lab: Lab | undefined
  private connected = false
  private readonly onChange = () => this.throttled.call()

  constructor(host: ReactiveControllerHost) {
    this.host = host
    this.throttled = throttle(() => host.requestUpdate(), UPDATES_EVERY_MS)
    host.addController(this)
  }

  follow(lab: Lab | undefined): void {
    if (lab === this.lab) return
    this.detach()
    this.lab = lab
    if (this.connected) this.attach()
  }

  hostConnected(): void {
    this.connected = true
    this.attach()
    // The figures went on changing while the host was out of the page.
    this.host.requestUpdate()
  }

  hostDisconnected(): void {
    this.connected = false
    this.detach()
  }

  private attach(): void {
    this.lab?.addEventListener('latency', this.onChange)
    this.lab?.wire.addEventListener('change', this.onChange)
  }

  private detach(): void {
    this.lab?.removeEventListener('latency', this.onChange)
    this.lab?.wire.removeEventListener('change', this.onChange)
    this.throttled.cancel()
  }
}
