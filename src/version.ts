/** The version in package.json (read at run time so it never drifts from the package). */
export function packageVersion(): string {
  // `../package.json` from src/ and dist/; the CLI bundle rewrites the path for its own place.
  return (require('../package.json') as { version: string }).version
}
