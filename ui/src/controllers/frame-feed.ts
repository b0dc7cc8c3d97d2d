import type { ReactiveControllerHost } from 'lit'
import type { ChatClient } from '../clients/chat-client.ts'
import { SourceFollower } from './follow.ts'

/**
 * Follows one client's 'frame' events and asks the host to render at most once
 * per animation frame: a burst of a hundred frames costs one render, not a hundred.
 */
export class FrameFeed extends SourceFollower<ChatClient> {
  constructor(host: ReactiveControllerHost) {
    let raf = 0
    super(host, (client) => {
      const off = client.on('frame', () => {
        if (raf) return
        raf = requestAnimationFrame(() => {
          raf = 0
          host.requestUpdate()
        })
      })
      return () => {
        off()
        cancelAnimationFrame(raf)
        raf = 0
      }
    })
  }
}
