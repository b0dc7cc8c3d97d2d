import { css } from 'lit'

/** What every chart element shares: its section, caption, chart frame and table of numbers. */
export const chartSectionStyles = css`
  :host {
    display: block;
  }
  section {
    display: flex;
    flex-direction: column;
    gap: 0.35rem;
  }
  h2 {
    font-size: 1.1rem;
    margin: 0;
  }
  .caption {
    margin: 0;
    color: #3d4450;
    max-width: 75rem;
  }
  .pair {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    gap: 1rem;
  }
  figure {
    margin: 0;
    min-width: 0;
  }
  figcaption {
    font-weight: 600;
    margin-bottom: 0.2rem;
  }
  .chart {
    position: relative;
    height: 250px;
    background: #fff;
    border: 1px solid #d5dbe3;
    border-radius: 4px;
    padding: 0.3rem;
  }
  .chart.tall {
    height: 300px;
  }
  .chart canvas {
    display: block;
  }
  details summary {
    cursor: pointer;
    width: fit-content;
  }
  details summary:focus-visible {
    outline: 3px solid #ffbf47;
    outline-offset: 1px;
  }
  /* The numbers scroll sideways inside their box on a narrow screen, never the page. */
  details {
    overflow-x: auto;
  }
  @media (max-width: 700px) {
    .pair {
      grid-template-columns: minmax(0, 1fr);
    }
  }
  table {
    border-collapse: collapse;
    margin-top: 0.3rem;
    background: #fff;
  }
  th,
  td {
    padding: 0.2rem 0.7rem;
    border-bottom: 1px solid #e3e7ec;
    text-align: left;
  }
  .num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
`
