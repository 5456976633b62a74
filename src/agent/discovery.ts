// Which processes the agent profiles, looked up in /proc at every scan: a PID list (with
// each PID's descendants, so a gunicorn master's recycled workers are followed), a regular
// expression over command lines, or a cgroup (path, systemd unit or container scope).
// A scan reads the command line or cgroup of PIDs it has not seen before only (and again
// every RELOOK_MS); a PID that disappears from /proc, or that the agent saw exit, is
// forgotten, so a reused PID is looked at afresh.

import * as fs from 'node:fs'
import { serviceFromCgroup, serviceFromCommandLine } from './labels'

export interface Selection {
  pids: number[]
  match: RegExp | undefined
  cgroup: string | undefined
}

/** A process to profile and what selecting it says about it. */
export interface Found {
  pid: number
  /** Service name derived from the command line or cgroup (used without --service). */
  service: string
  /** Short container id when the process runs in a container (from its cgroup path). */
  containerId?: string
}

interface Seen {
  selected: boolean
  found?: Found
  /** When it was looked at (ms); a process not selected is looked at again later. */
  at: number
}

/** A process may exec another program after it was first seen: look again this often. */
const RELOOK_MS = 30_000

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

export function listPids(): number[] {
  const pids: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) pids.push(Number(name))
  }
  return pids
}

export function commandLine(pid: number): string[] | undefined {
  const raw = readText(`/proc/${pid}/cmdline`)
  if (raw === undefined || raw === '') return undefined
  return raw.replace(/\0$/, '').split('\0')
}

/** The cgroup paths of a process: one per hierarchy (v1) or the single v2 path. */
export function cgroupPaths(pid: number): string[] {
  const raw = readText(`/proc/${pid}/cgroup`)
  if (raw === undefined) return []
  const paths: string[] = []
  for (const line of raw.split('\n')) {
    const path = line.split(':').slice(2).join(':')
    if (path) paths.push(path)
  }
  return paths
}

/** Whether `cgroupPath` is the wanted cgroup or under it; a name without `/` matches a path component. */
export function cgroupMatches(wanted: string, cgroupPath: string): boolean {
  if (!wanted.includes('/')) return cgroupPath.split('/').includes(wanted)
  const prefix = wanted.replace(/\/+$/, '')
  return cgroupPath === prefix || cgroupPath.startsWith(prefix + '/')
}

/** Docker, containerd and podman put the 64-hex container id in the cgroup path. */
export function containerIdOf(paths: string[]): string | undefined {
  for (const p of paths) {
    const id = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:\/|$)/.exec(p)
    if (id) return id[1].slice(0, 12)
  }
  return undefined
}

/** Children of a process, from each of its threads' `children` file (undefined: no such process). */
export function childrenOf(pid: number): number[] | undefined {
  let tids: string[]
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return undefined
  }
  const children: number[] = []
  for (const tid of tids) {
    const text = readText(`/proc/${pid}/task/${tid}/children`)
    if (text) for (const child of text.trim().split(/\s+/)) if (child) children.push(Number(child))
  }
  return children
}

export class ProcessFinder {
  private readonly seen = new Map<number, Seen>()

  constructor(
    private readonly selection: Selection,
    /** Never selected: the agent itself (its own command line may match the pattern). */
    private readonly selfPid = process.pid,
  ) {}

  /** Whether any of the listed PIDs (not their descendants) still runs. */
  listedAlive(): boolean {
    return this.selection.pids.some((pid) => fs.existsSync(`/proc/${pid}`))
  }

  /** The processes selected now, by PID. */
  find(): Map<number, Found> {
    return this.selection.pids.length > 0 ? this.findTrees() : this.findByScan()
  }

  private findTrees(): Map<number, Found> {
    const found = new Map<number, Found>()
    const frontier = [...this.selection.pids]
    const now = Date.now()
    while (frontier.length > 0) {
      const pid = frontier.pop()!
      if (found.has(pid) || pid === this.selfPid) continue
      // A process already in the tree is not read again (its command line and cgroup stay
      // what they were) until RELOOK_MS have passed or the agent saw it exit (`forget`):
      // only its children are listed, to find new workers.
      let seen = this.seen.get(pid)
      if (seen === undefined || !seen.found || now - seen.at > RELOOK_MS) {
        const argv = commandLine(pid)
        // Kernel threads and zombies have no command line.
        if (argv === undefined) {
          this.seen.delete(pid)
          continue
        }
        seen = { selected: true, at: now, found: { pid, service: serviceFromCommandLine(argv), containerId: containerIdOf(cgroupPaths(pid)) } }
        this.seen.set(pid, seen)
      }
      const children = childrenOf(pid)
      // Gone since it was last read (its task list cannot be listed any more).
      if (children === undefined) {
        this.seen.delete(pid)
        continue
      }
      found.set(pid, seen.found!)
      frontier.push(...children)
    }
    for (const pid of this.seen.keys()) if (!found.has(pid)) this.seen.delete(pid)
    return found
  }

  /** A process the agent saw exit: read afresh if its PID shows up again (reused). */
  forget(pid: number): void {
    this.seen.delete(pid)
  }

  private findByScan(): Map<number, Found> {
    const found = new Map<number, Found>()
    const alive = new Set<number>()
    for (const pid of listPids()) {
      alive.add(pid)
      if (pid === this.selfPid) continue
      let seen = this.seen.get(pid)
      if (seen !== undefined && !seen.selected && Date.now() - seen.at > RELOOK_MS) seen = undefined
      if (seen === undefined) {
        seen = this.look(pid)
        // A process whose command line could not be read yet (just forked) is looked at again.
        if (seen === undefined) continue
        this.seen.set(pid, seen)
      }
      if (seen.selected && seen.found) found.set(pid, seen.found)
    }
    for (const pid of this.seen.keys()) if (!alive.has(pid)) this.seen.delete(pid)
    return found
  }

  private look(pid: number): Seen | undefined {
    const argv = commandLine(pid)
    if (argv === undefined) return undefined
    const at = Date.now()
    const { match, cgroup } = this.selection
    const paths = cgroupPaths(pid)
    if (match) {
      if (!match.test(argv.join(' '))) return { selected: false, at }
      return { selected: true, at, found: { pid, service: serviceFromCommandLine(argv), containerId: containerIdOf(paths) } }
    }
    if (cgroup) {
      const path = paths.find((p) => cgroupMatches(cgroup, p))
      if (path === undefined) return { selected: false, at }
      return { selected: true, at, found: { pid, service: serviceFromCgroup(cgroup), containerId: containerIdOf(paths) } }
    }
    return { selected: false, at }
  }
}
