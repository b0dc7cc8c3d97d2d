// Presenter mode belongs to the machine on the projector, not to one visit:
// it is kept in localStorage, so a reload (or tomorrow's class) finds it as it was left.
export const PRESENTER_KEY = 'transport-lab:presenter'

export function presenterRemembered(): boolean {
  try {
    return localStorage.getItem(PRESENTER_KEY) === 'on'
  } catch {
    // Storage refused (a locked-down browser): the page starts in the ordinary view.
    return false
  }
}

export function rememberPresenter(on: boolean): void {
  try {
    if (on) localStorage.setItem(PRESENTER_KEY, 'on')
    else localStorage.removeItem(PRESENTER_KEY)
  } catch {
    // Not kept across reloads, but the mode still applies to this page.
  }
}
