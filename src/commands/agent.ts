// `pyflame-ts agent`: profile the Python processes of this host continuously and push each
// window to a Grafana Pyroscope server. Runs until SIGINT/SIGTERM, then sends the last window.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { startAgent } from '../agent'
import type { AgentOptions } from '../agent'
import { invalidArgument } from '../errors'
import { parsePid } from '../options'
import { parseServerUrl } from '../agent/options'

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw invalidArgument(`${name} takes a number of seconds, got ${JSON.stringify(value)}`)
  return n
}

export default class AgentCommand extends PyflameCommand {
  static paths = [['agent']]

  static usage = Command.Usage({
    description: 'Profile Python processes continuously and push the profiles to Grafana Pyroscope',
    details: `
      Finds the Python processes to profile — \`-p PID\` (each with its descendants, so a gunicorn
      master's recycled workers are followed), \`--match REGEX\` over command lines, or \`--cgroup\`
      (a cgroup path, a systemd unit or a container's scope) — and samples them all on one thread
      without pausing them. Every \`--window\` seconds each process's samples are pushed to
      Pyroscope's \`/ingest\` as pprof, labelled service_name, host, pid, python_version and any
      \`--tag\`, with the time they were recorded: windows sent late after an outage land where
      they belong. Up to \`--buffer\` windows wait while the server is unreachable (the oldest is
      dropped beyond, and counted); pushes are retried with exponential backoff.

      A self-report (windows sent/dropped/retried, CPU and memory used) goes to stderr every
      \`--report-interval\` seconds and, as JSON lines, to \`--metrics-file\`. SIGINT or SIGTERM
      stops sampling, sends the last window and exits (SIGHUP too).
    `,
    examples: [
      ['Every gunicorn worker of a service', '$0 agent --server http://pyroscope:4040 --service shop -p $(cat /run/gunicorn.pid)'],
      ['Every process of a systemd unit, tagged', '$0 agent --server http://pyroscope:4040 --cgroup shop.service --tag env=prod'],
      ['Matching command lines, behind an authenticating proxy', '$0 agent --server https://profiles.example.com --match "celery worker" --bearer-token "$TOKEN"'],
    ],
  })

  server = Option.String('--server', { description: 'Pyroscope base URL, e.g. http://pyroscope:4040' })
  service = Option.String('--service', { description: 'service_name label (default: the cgroup/unit or the program)' })
  pids = Option.Array('-p,--pid', { description: 'PID to profile, with its descendants (repeatable)' })
  match = Option.String('--match', { description: 'Profile processes whose command line matches this regular expression' })
  cgroup = Option.String('--cgroup', { description: 'Profile the processes of this cgroup path, systemd unit or container scope' })
  window = Option.String('--window', { description: 'Seconds per pushed window (default 10)' })
  rate = Option.String('-r,--rate', { description: 'Seconds between samples (default 0.01)' })
  hz = Option.String('--hz', { description: 'Samples per second (instead of -r)' })
  tags = Option.Array('--tag', { description: 'Extra label KEY=VALUE on every profile (repeatable)' })
  basicAuth = Option.String('--basic-auth', { description: 'user:password for HTTP basic auth' })
  bearerToken = Option.String('--bearer-token', { description: 'Token sent as Authorization: Bearer' })
  tenantId = Option.String('--tenant-id', { description: 'Tenant sent as X-Scope-OrgID' })
  caFile = Option.String('--ca-file', { description: 'PEM of a private CA to trust for an https server' })
  buffer = Option.String('--buffer', { description: 'Windows kept while the server is unreachable (default 1024)' })
  threadLabels = Option.Boolean('--thread-labels', false, { description: "Label samples with their thread's name" })
  perfEvents = Option.Boolean('--perf-events', true, { description: "Log quiet threads' context switches with perf events (--no-perf-events: read schedstat instead)" })
  scanInterval = Option.String('--scan-interval', { description: 'Seconds between looks for new processes (default 2)' })
  reportInterval = Option.String('--report-interval', { description: 'Seconds between self-reports on stderr (default 60; 0: only at exit)' })
  metricsFile = Option.String('--metrics-file', { description: 'Append each self-report to this file as a JSON line' })
  flushTimeout = Option.String('--flush-timeout', { description: 'Seconds to keep sending at exit (default 10)' })
  pythonVersion = Option.String('--python-version', { description: 'Override version detection, e.g. 3.11' })

  async run(): Promise<number> {
    const tags: Record<string, string> = {}
    for (const tag of this.tags ?? []) {
      const eq = tag.indexOf('=')
      if (eq <= 0) throw invalidArgument(`--tag ${JSON.stringify(tag)} must be KEY=VALUE, e.g. --tag env=prod`)
      tags[tag.slice(0, eq)] = tag.slice(eq + 1)
    }
    let bufferWindows: number | undefined
    if (this.buffer !== undefined) {
      bufferWindows = Number(this.buffer)
      if (!/^\d+$/.test(this.buffer.trim())) throw invalidArgument(`--buffer takes a whole number of windows, got ${JSON.stringify(this.buffer)}`)
    }
    const options: AgentOptions = {
      server: this.server ?? '',
      service: this.service,
      pids: (this.pids ?? []).map((pid) => parsePid(pid)),
      match: this.match,
      cgroup: this.cgroup,
      windowSeconds: seconds('--window', this.window),
      rate: this.rate === undefined ? undefined : Number(this.rate),
      hz: this.hz === undefined ? undefined : Number(this.hz),
      tags,
      basicAuth: this.basicAuth,
      bearerToken: this.bearerToken,
      tenantId: this.tenantId,
      caFile: this.caFile,
      bufferWindows,
      threadLabels: this.threadLabels,
      perfEvents: this.perfEvents,
      scanSeconds: seconds('--scan-interval', this.scanInterval),
      reportSeconds: seconds('--report-interval', this.reportInterval),
      metricsFile: this.metricsFile,
      flushTimeoutSeconds: seconds('--flush-timeout', this.flushTimeout),
      pythonVersion: this.pythonVersion,
      log: (line) => this.context.stderr.write(line + '\n'),
    }
    if (this.rate !== undefined && !Number.isFinite(options.rate)) throw invalidArgument(`invalid interval ${JSON.stringify(this.rate)}: -r is the time between samples in seconds, e.g. -r 0.01`)
    const agent = startAgent(options)
    this.context.stderr.write(`pyflame-ts agent: pushing to ${parseServerUrl(options.server).label} every ${options.windowSeconds ?? 10} s\n`)

    let signals = 0
    const onSignal = () => {
      signals += 1
      // A second signal means now: what was not sent is lost.
      if (signals > 1) process.exit(130)
      void agent.stop()
    }
    // SIGHUP too: a closed terminal must not lose the last window either.
    const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
    for (const name of stopSignals) process.on(name, onSignal)
    try {
      await agent.done
      return 0
    } finally {
      for (const name of stopSignals) process.off(name, onSignal)
    }
  }
}
