// Number formatting shared by the elements: one way to print bytes, rates and latencies.
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '—'
  if (bytes < 1024) return `${Math.round(bytes)} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

/**
 * Bytes for the narrow panel counters, in formatBytes' units (B, KiB, MiB: one style on every tab), with
 * fewer digits: 812 B, 3.1 KiB, 42 KiB, 1.2 MiB.
 */
export function formatBytesShort(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '—'
  if (bytes < 1000) return `${Math.round(bytes)} B`
  if (bytes < 10_240) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1_024_000) return `${Math.round(bytes / 1024)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—'
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n))
}

/** Latency with 0.1 ms resolution, as the same-page clock allows. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—'
  return `${ms.toFixed(1)} ms`
}

export function formatRatio(part: number, whole: number): string {
  if (!whole) return '—'
  return `${((part / whole) * 100).toFixed(0)}%`
}

/** A span of time in words, for a caption: "5 min", "90 s". */
export function formatSpan(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`
}
