// One focus ring for every control: yellow inside a dark band, so that it
// shows on the white panels and on the dark header alike (WCAG 2.2 asks 3:1
// against what is around it, which the browser's thin default ring does not
// always reach on a projector).
import { css } from 'lit'

export const focusRing = css`
  button:focus-visible,
  select:focus-visible,
  input:focus-visible,
  a:focus-visible,
  [tabindex]:focus-visible {
    outline: 3px solid #ffbf47;
    outline-offset: 0;
    box-shadow: 0 0 0 6px #1b1f24;
  }
`
