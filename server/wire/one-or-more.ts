// A map from a connection id to what was opened there: nearly always one
// thing, now and then two (a page that opened two transports on one
// keep-alive connection). Every idle connection keeps an entry for as long
// as it lives, so a lone value is kept as itself; an array (an object and
// its elements, about 60 bytes) is made only for the second.

export type OneOrMore<T> = T | T[]

/** What `key` holds, as a list (a fresh one only when there is a single value). */
export function allOf<T extends object>(map: Map<string, OneOrMore<T>>, key: string): readonly T[] {
  const held = map.get(key)
  return held === undefined ? [] : Array.isArray(held) ? held : [held]
}

/** Adds `item` under `key` unless it is there already. */
export function addTo<T extends object>(map: Map<string, OneOrMore<T>>, key: string, item: T): void {
  const held = map.get(key)
  if (held === undefined) map.set(key, item)
  else if (!Array.isArray(held)) {
    if (held !== item) map.set(key, [held, item])
  } else if (!held.includes(item)) held.push(item)
}

/** Takes `item` out from under `key`; false when it was not there. */
export function removeFrom<T extends object>(map: Map<string, OneOrMore<T>>, key: string, item: T): boolean {
  const held = map.get(key)
  if (held === undefined) return false
  if (!Array.isArray(held)) {
    if (held !== item) return false
    map.delete(key)
    return true
  }
  const at = held.indexOf(item)
  if (at < 0) return false
  held.splice(at, 1)
  if (held.length === 1) map.set(key, held[0]!)
  return true
}
