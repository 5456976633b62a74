import * as fs from 'node:fs'
import * as path from 'node:path'

/** The version in package.json (read at run time so it never drifts from the package). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', 'package.json')
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version
}
