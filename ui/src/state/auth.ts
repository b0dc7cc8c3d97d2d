// The page's side of the class code: what GET /api/auth says (is a code
// needed, who am I), POST /api/login and POST /api/logout. The token itself
// never reaches a script: /api/login sets it as an HttpOnly cookie, and the
// browser sends that with every transport's requests and upgrades.

export type Role = 'student' | 'instructor'

/** Who the cookie says this browser is. */
export interface Session {
  name: string
  role: Role
  expiresAt: number
  channel: string
}

/** GET /api/auth. */
export interface AuthState {
  /** CLASS_CODE is set: no transport takes this page without a login. */
  classCode: boolean
  /** INSTRUCTOR_CODE is set: the instructor's actions need an instructor's login. */
  instructorCode: boolean
  session: Session | null
  /** Why the token this page showed is no good (expired, revoked, from before a restart). */
  problem?: string
}

export type LoginResult = { ok: true; session: Session } | { ok: false; code: string; message: string }

/** What a server from before class codes (no /api/auth), or one that cannot be reached, amounts to: an open lab. */
const OPEN: AuthState = { classCode: false, instructorCode: false, session: null }

export async function readAuth(baseUrl: string): Promise<AuthState> {
  try {
    const res = await fetch(`${baseUrl}/api/auth`, { cache: 'no-store' })
    return res.ok ? ((await res.json()) as AuthState) : OPEN
  } catch {
    return OPEN
  }
}

export async function login(baseUrl: string, code: string, name: string): Promise<LoginResult> {
  try {
    const res = await fetch(`${baseUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name }),
    })
    const body = (await res.json().catch(() => ({}))) as Partial<Session> & { code?: string; message?: string }
    if (res.ok && body.name && body.role && body.expiresAt)
      return { ok: true, session: { name: body.name, role: body.role, expiresAt: body.expiresAt, channel: 'cookie' } }
    return { ok: false, code: body.code ?? `HTTP ${res.status}`, message: body.message ?? res.statusText }
  } catch (error) {
    return { ok: false, code: 'unreachable', message: error instanceof Error ? error.message : String(error) }
  }
}

/** Revokes this browser's token (the server ends every connection that holds it) and clears the cookie. */
export async function logout(baseUrl: string): Promise<void> {
  try {
    await fetch(`${baseUrl}/api/logout`, { method: 'POST' })
  } catch {
    // Unreachable: the token runs out by itself, and the page has already stopped using it.
  }
}

/** A login refusal as the prompt says it: in the reader's terms, with the server's reason. */
export function refusalText(result: Extract<LoginResult, { ok: false }>): string {
  if (result.code === 'LAB_ERR_AUTH') return `The server refused the code: ${result.message}.`
  if (result.code === 'LAB_ERR_NAME_TAKEN') return "That name is taken by someone else's login: choose another."
  return `Could not log in: ${result.message || result.code}.`
}
