// The load-client process: forked by the runner, it holds the clients and
// answers the runner's steps over IPC (see ../ipc.ts). Its own CPU time goes
// back with every mark, so a report can tell a client bottleneck from a server one.
import { emit, serveCalls } from '../ipc.ts'
import { autocannonHandlers } from './autocannon.ts'
import { crowdHandlers } from './crowd.ts'
import { deadHandlers } from './dead.ts'
import { deliveryHandlers } from './delivery.ts'
import { floodHandlers } from './flood.ts'
import { slowHandlers } from './slow.ts'
import { tickerHandlers } from './ticker.ts'

serveCalls({
  ...deliveryHandlers,
  ...crowdHandlers,
  ...autocannonHandlers,
  ...floodHandlers,
  ...slowHandlers,
  ...deadHandlers,
  ...tickerHandlers,
  cpu: () => process.cpuUsage(),
})
emit('ready', { pid: process.pid })
