import type { ReactiveController, ReactiveControllerHost } from 'lit'

/**
 * Listens to one source (a Lab, a client) while the host is in the page, and
 * moves to another when the host is given one: an element out of the page
 * costs nothing, and one put back renders what changed meanwhile.
 * `listen` subscribes and returns what unsubscribes.
 */
export class SourceFollower<Source> implements ReactiveController {
  private readonly host: ReactiveControllerHost
  private readonly listen: (source: Source) => () => void
  private source: Source | undefined
  private unlisten: (() => void) | undefined
  private connected = false

  constructor(host: ReactiveControllerHost, listen: (source: Source) => () => void) {
    this.host = host
    this.listen = listen
    host.addController(this)
  }

  follow(source: Source | undefined): void {
    if (source === this.source) return
    this.detach()
    this.source = source
    if (this.connected) this.attach()
  }

  hostConnected(): void {
    this.connected = true
    this.attach()
    this.host.requestUpdate()
  }

  hostDisconnected(): void {
    this.connected = false
    this.detach()
  }

  private attach(): void {
    if (this.source !== undefined && !this.unlisten) this.unlisten = this.listen(this.source)
  }

  private detach(): void {
    this.unlisten?.()
    this.unlisten = undefined
  }
}

/** The common `listen` of a SourceFollower: the host renders again on each `type` event of its source. */
export function renderOn(host: ReactiveControllerHost, type: string): (source: EventTarget) => () => void {
  return (source) => {
    const onEvent = () => host.requestUpdate()
    source.addEventListener(type, onEvent)
    return () => source.removeEventListener(type, onEvent)
  }
}
