// One colour per transport, the same in every panel and chart: the Okabe–Ito
// palette, which stays distinguishable for colour-blind viewers and on projectors.
import type { TransportName } from '../../../server/core/protocol.ts'

export const TRANSPORT_COLORS: Record<TransportName, string> = {
  'short-polling': '#E69F00',
  'long-polling': '#56B4E9',
  sse: '#009E73',
  websocket: '#0072B2',
  'socket.io': '#CC79A7',
}
