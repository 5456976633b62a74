// Where scripts/ci/async-servers.sh installed the aiohttp for a server's Python minor version:
// 3.7 and 3.8 have their last aiohttp releases with wheels for them, 3.15 the first with cp315.
const ROOT = `${process.env.PYFLAME_CACHE ?? '/var/cache/pyflame-ts'}/async-servers`

export function aiohttpSite(minor) {
  const key = { 7: 'aiohttp-3.8.6-cp37m', 8: 'aiohttp-3.10.11-cp38', 15: 'aiohttp-3.14.5-cp315' }[minor] ?? `aiohttp-3.13.5-cp3${minor}`
  return `${ROOT}/${key}/site`
}
