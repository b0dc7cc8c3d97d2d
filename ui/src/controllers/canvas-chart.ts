import type { ReactiveController, ReactiveElement } from 'lit'
import { Chart, type ChartConfiguration, type ChartType, type DefaultDataPoint } from 'chart.js'

/**
 * One Chart.js chart on a canvas of the host's shadow root. It is made after
 * the first render that shows the canvas and given new numbers after every
 * render; the chart and its datasets stay, so a series hidden from the legend
 * stays hidden. Chart.js keeps a resize observer on the canvas, so the chart is
 * destroyed when the host leaves the page and made again when it comes back.
 */
export class CanvasChart<
  TType extends ChartType,
  TData = DefaultDataPoint<TType>,
  TLabel = unknown,
> implements ReactiveController {
  private readonly host: ReactiveElement
  private readonly canvasId: string
  private readonly config: () => ChartConfiguration<TType, TData, TLabel>
  private readonly fill: (chart: Chart<TType, TData, TLabel>) => void
  private chart: Chart<TType, TData, TLabel> | undefined

  constructor(
    host: ReactiveElement,
    canvasId: string,
    config: () => ChartConfiguration<TType, TData, TLabel>,
    fill: (chart: Chart<TType, TData, TLabel>) => void,
  ) {
    this.host = host
    this.canvasId = canvasId
    this.config = config
    this.fill = fill
    host.addController(this)
  }

  hostConnected(): void {
    if (this.host.hasUpdated) this.host.requestUpdate()
  }

  hostDisconnected(): void {
    this.chart?.destroy()
    this.chart = undefined
  }

  hostUpdated(): void {
    if (!this.host.isConnected) return
    const canvas = this.host.renderRoot.querySelector<HTMLCanvasElement>(`#${this.canvasId}`)
    if (!canvas) return
    if (this.chart?.canvas !== canvas) {
      this.chart?.destroy()
      this.chart = new Chart(canvas, this.config())
    }
    this.fill(this.chart)
    this.chart.update('none')
  }
}
