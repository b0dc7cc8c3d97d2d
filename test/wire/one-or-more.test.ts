// What a connection id maps to in the wire meter and the handshake log: one
// thing kept as itself, several as a list, back to itself when one is left.
import { describe, expect, it } from 'vitest'
import { addTo, allOf, removeFrom, type OneOrMore } from '../../server/wire/one-or-more.ts'

const a = { name: 'a' }
const b = { name: 'b' }

describe('one or more per connection', () => {
  it('keeps a lone value as itself, and makes a list only for a second', () => {
    const map = new Map<string, OneOrMore<{ name: string }>>()
    addTo(map, 'c1', a)
    expect(map.get('c1')).toBe(a)
    addTo(map, 'c1', a)
    expect(allOf(map, 'c1')).toEqual([a])
    addTo(map, 'c1', b)
    expect(allOf(map, 'c1')).toEqual([a, b])
  })

  it('goes back to the lone value when one of two is taken out, and forgets the id with the last', () => {
    const map = new Map<string, OneOrMore<{ name: string }>>()
    addTo(map, 'c1', a)
    addTo(map, 'c1', b)
    expect(removeFrom(map, 'c1', a)).toBe(true)
    expect(map.get('c1')).toBe(b)
    expect(removeFrom(map, 'c1', a)).toBe(false)
    expect(removeFrom(map, 'c1', b)).toBe(true)
    expect(map.has('c1')).toBe(false)
    expect(allOf(map, 'c1')).toEqual([])
  })
})
