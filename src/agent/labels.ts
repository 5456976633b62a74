// Pyroscope's series labels: the `name` of an ingest request is `SERVICE{key=value,...}`.
// Its parser ends a value at `,` or `}`, label names take letters, digits, `_` and `.`, and
// service names also `-` and `/` (pyroscope api/model/labelset).

import * as path from 'node:path'
import { invalidArgument } from '../errors'

const LABEL_NAME = /^[A-Za-z0-9_.]+$/
const SERVICE_NAME = /^[A-Za-z0-9_.\-/]+$/

export function validateLabelName(name: string): void {
  if (!LABEL_NAME.test(name)) {
    throw invalidArgument(`label name ${JSON.stringify(name)} is not allowed: use letters, digits, "_" and "." (e.g. --tag env=prod)`)
  }
}

export function validateServiceName(name: string): void {
  if (!SERVICE_NAME.test(name)) {
    throw invalidArgument(`service name ${JSON.stringify(name)} is not allowed: use letters, digits, "_", ".", "-" and "/"`)
  }
}

/** A value the ingest name can carry: the characters its parser stops at become `_`. */
export function labelValue(value: string): string {
  return value.replace(/[,{}=\s\u0000-\u001f\u007f]/g, '_') || '_'
}

/** A service name made of anything: disallowed characters become `_`. */
export function serviceName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[/]+/, '') || 'python'
}

/** `SERVICE{k=v,...}` as `/ingest?name=` takes it. */
export function ingestName(service: string, labels: [string, string][]): string {
  return `${service}{${labels.map(([k, v]) => `${k}=${v}`).join(',')}}`
}

/**
 * A service name from a command line: the script or module Python runs (`app.py` → `app`,
 * `-m celery` → `celery`), or the program itself (`gunicorn`, `uwsgi`).
 */
export function serviceFromCommandLine(argv: string[]): string {
  if (argv.length === 0) return 'python'
  // Forked workers rename themselves (`gunicorn: worker [app]`); keep the program's name.
  const program = path.basename(argv[0].split(/[\s:]/)[0] || argv[0])
  if (!/^python[\d.]*[a-z]*$/.test(program)) return serviceName(program.replace(/\.py$/, ''))
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '-m' && argv[i + 1]) return serviceName(argv[i + 1])
    if (arg === '-c') return serviceName(program)
    // Options that take a value.
    if (arg === '-W' || arg === '-X' || arg === '-Q') {
      i++
      continue
    }
    if (arg.startsWith('-')) continue
    const script = path.basename(arg)
    return serviceName(script === '__main__.py' ? path.basename(path.dirname(arg)) : script.replace(/\.pyw?$/, ''))
  }
  return serviceName(program)
}

/** A service name from a cgroup path: its last part without the systemd suffix (`app.service` → `app`). */
export function serviceFromCgroup(cgroupPath: string): string {
  const last = cgroupPath.split('/').filter(Boolean).pop() ?? 'python'
  return serviceName(last.replace(/\.(service|scope|slice)$/, ''))
}
