// Presence is kept by the server per connection (a member is one transport of
// one page), but a class counts people: the members folded by name, each with
// the transports they are on, in the panels' order.
import type { Member } from '../../../server/core/protocol.ts'
import { TRANSPORTS, isTransportName } from '../../../server/core/names.ts'

export interface Person {
  name: string
  /** One per member, in the panels' order (a name on two pages is on a transport twice). */
  transports: string[]
}

const rank = (t: string) => (isTransportName(t) ? TRANSPORTS.indexOf(t) : TRANSPORTS.length)

/** People in the order the server lists their first member (the order they came in). */
export function peopleOf(members: readonly Member[]): Person[] {
  const byName = new Map<string, Person>()
  for (const member of members) {
    const person = byName.get(member.name)
    if (person) person.transports.push(member.transport)
    else byName.set(member.name, { name: member.name, transports: [member.transport] })
  }
  for (const person of byName.values()) person.transports.sort((a, b) => rank(a) - rank(b))
  return [...byName.values()]
}
