import type { ReactiveControllerHost } from 'lit'
import { throttle } from '../charts/chart-data.ts'
import type { Lab } from '../state/lab.ts'
import { SourceFollower } from './follow.ts'

const UPDATES_EVERY_MS = 500

/**
 * Follows the Lab's 'latency' and the wire meter's 'change' and asks the host
 * to render at most twice a second: a burst of messages to five panels must
 * not redraw five charts per message.
 */
export class LabFeed extends SourceFollower<Lab> {
  constructor(host: ReactiveControllerHost) {
    const throttled = throttle(() => host.requestUpdate(), UPDATES_EVERY_MS)
    const onChange = () => throttled.call()
    super(host, (lab) => {
      lab.addEventListener('latency', onChange)
      lab.wire.addEventListener('change', onChange)
      return () => {
        lab.removeEventListener('latency', onChange)
        lab.wire.removeEventListener('change', onChange)
        throttled.cancel()
      }
    })
  }
}
