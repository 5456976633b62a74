// `pyflame-ts agent`: continuous profiling of the Python processes of a host, pushed to a
// Grafana Pyroscope server. See ARCHITECTURE.md ("The agent") for the data flow.

export { startAgent } from './agent'
export type { AgentHandle } from './agent'
export type { AgentOptions } from './options'
export type { AgentStats, AgentTarget } from './report'
