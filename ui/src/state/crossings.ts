// The Cluster view's list of messages: for each, the instance it was sent on
// (its sender's `from.instance`) and, for each of this page's panels that got
// it, the instance that delivered it (the panel's welcome's `instance`), so a
// class sees a message cross from one server to another. Pure: the unit tests
// run it in Node.
import type { ChatMessage } from '../../../server/core/protocol.ts'
import type { TransportName } from '../../../server/core/names.ts'

export interface Crossing {
  /** The message's room and seq: one row however many panels got it. */
  key: string
  room: string
  seq: number
  name: string
  text: string
  /** The instance its sender was on; undefined when the server did not say (a server alone). */
  sentOn: string | undefined
  /** Panel -> the instance it was connected to when the message reached it. */
  deliveredBy: Partial<Record<TransportName, string>>
}

/** Rows kept: a projector shows a dozen; the rest only costs memory. */
export const CROSSINGS_KEPT = 20

export class CrossingLog {
  /** Oldest first. */
  readonly rows: Crossing[] = []

  /**
   * A panel received `entry` while connected to `deliveredBy`. Only a message that names its instance is kept:
   * a server alone says none, and the page then keeps nothing. A resume's backlog only adds to a row still
   * listed, so that a reconnect does not fill the list with old messages. Returns whether the list changed.
   */
  add(panel: TransportName, entry: ChatMessage, deliveredBy: string | undefined, backfilled = false): boolean {
    if (entry.from.instance === undefined || deliveredBy === undefined) return false
    const key = `${entry.room}#${entry.epoch}#${entry.seq}`
    let row = this.rows.find((r) => r.key === key)
    if (!row) {
      if (backfilled) return false
      row = {
        key,
        room: entry.room,
        seq: entry.seq,
        name: entry.from.name,
        text: entry.text,
        sentOn: entry.from.instance,
        deliveredBy: {},
      }
      this.rows.push(row)
      if (this.rows.length > CROSSINGS_KEPT) this.rows.splice(0, this.rows.length - CROSSINGS_KEPT)
    }
    row.deliveredBy[panel] = deliveredBy
    return true
  }
}

/** Whether a panel's copy crossed instances: sent on one, delivered by another. */
export function crossed(row: Crossing, panel: TransportName): boolean {
  const by = row.deliveredBy[panel]
  return by !== undefined && row.sentOn !== undefined && by !== row.sentOn
}
