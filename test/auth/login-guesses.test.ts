// Guessing the class code: wrong codes are limited per address, right ones
// are not, so a whole class behind one address can log in at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../support/server.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ classCode: 'right-code', maxClientsPerAddress: 0 })
})
afterAll(() => server.close())

const login = (code: string, name: string) =>
  fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  })

describe('logging in', () => {
  it('lets forty students in from one address, but not an eleventh wrong code in a row', async () => {
    const students = await Promise.all(Array.from({ length: 40 }, (_, i) => login('right-code', `student-${i}`)))
    expect(students.map((res) => res.status)).toEqual(students.map(() => 200))

    const wrong = []
    for (let i = 0; i < 10; i++) wrong.push((await login(`guess-${i}`, 'mallory')).status)
    expect(wrong).toEqual(wrong.map(() => 401))

    const eleventh = await login('guess-10', 'mallory')
    expect(eleventh.status).toBe(429)
    expect(Number(eleventh.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await eleventh.json()).toMatchObject({ code: 'LAB_ERR_RATE_LIMIT', message: /wrong codes/ })
    // Even the right code waits now: the limit would mean nothing if a guess could tell.
    expect((await login('right-code', 'late')).status).toBe(429)
  })
})
