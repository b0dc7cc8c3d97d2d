/** The page clock in ms with sub-ms resolution; one clock for sentAt and receipt, so their difference is a latency. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}
