// The look of a button an element puts in the workbench's dark header (Invite, Change name), shared by those elements.
import { css } from 'lit'

export const headerButton = css`
  .header-button {
    font: inherit;
    background: transparent;
    color: #dfe6ee;
    border: 1px solid #7b8a9b;
    border-radius: 4px;
    padding: 0.25rem 0.7rem;
    cursor: pointer;
    white-space: nowrap;
  }
  .header-button:focus-visible {
    outline: 3px solid #ffbf47;
    outline-offset: 1px;
  }
`
