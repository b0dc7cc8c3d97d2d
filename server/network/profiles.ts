// The networks a page can put itself behind. Fixed rather than configurable:
// a class compares the same four, and the lesson names them.
export interface NetworkProfile {
  id: string
  label: string
  /** Round trip added: half of it on the way in, half on the way out. */
  rttMs: number
  /** Bandwidth each way, in kbit/s; 0 leaves the bandwidth as it is. */
  kbitps: number
}

export const NETWORK_PROFILES: readonly NetworkProfile[] = [
  { id: 'lan', label: 'LAN 2 ms', rttMs: 2, kbitps: 100_000 },
  { id: '4g', label: '4G 50 ms', rttMs: 50, kbitps: 0 },
  { id: '3g', label: '3G 150 ms · 1.6 Mbit/s', rttMs: 150, kbitps: 1600 },
  { id: 'gprs', label: 'GPRS 500 ms · 80 kbit/s', rttMs: 500, kbitps: 80 },
]
