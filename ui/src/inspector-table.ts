// The look shared by the Inspector's tables of what crossed the wire (the frame headers, the SSE events):
// a note, a placeholder while there is nothing yet, and a scrolling table with its header kept in view.
import { css } from 'lit'

export const inspectorTable = css`
  :host {
    display: flex;
    flex-direction: column;
    gap: 0.3rem;
  }
  p {
    margin: 0;
  }
  .placeholder {
    padding: 0.6rem;
    color: #4a5260;
    background: #fff;
    border: 1px dashed #c9d0d9;
    border-radius: 4px;
  }
  .note {
    color: #4a5260;
    font-size: 0.9rem;
  }
  .scroller {
    max-height: 18rem;
    overflow: auto;
    background: #fff;
    border: 1px solid #c9d0d9;
    border-radius: 4px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-size: 14px;
  }
  th,
  td {
    text-align: left;
    padding: 0.2rem 0.45rem;
    border-bottom: 1px solid #eef1f5;
  }
  th {
    position: sticky;
    top: 0;
    background: #eef1f5;
  }
  code {
    font-family: ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
  }
`
