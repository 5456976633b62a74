// Each command's module, loaded only when that command runs (or for the full help).
// The build makes one bundle of the clipanion CLI per command, with this map cut to that
// command (scripts/bundle-cli.mjs): keep it a plain map of `import()`s.

import type { BaseContext, CommandClass } from 'clipanion'

export type CommandModule = Promise<{ default: CommandClass<BaseContext> }>

export const COMMANDS: Record<string, () => CommandModule> = {
  record: () => import('../commands/record'),
  dump: () => import('../commands/dump'),
  render: () => import('../commands/render'),
  diff: () => import('../commands/diff'),
  top: () => import('../commands/top'),
  agent: () => import('../commands/agent'),
}
