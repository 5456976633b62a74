// Each command's module, loaded only when that command runs (or for the full help).
// The build makes a bundle of the clipanion CLI with this map cut to `record` alone
// (scripts/bundle-cli.mjs reads it): keep it a plain map of `import()`s, one a line.

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
