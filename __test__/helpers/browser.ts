// Headless Chromium for the flame graph tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser is ever downloaded). Tests skip, visibly, only when it is absent.

import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export function hasChromium(): boolean {
  return existsSync(CHROMIUM)
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  })
}
