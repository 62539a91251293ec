import { existsSync } from 'node:fs';

/** Where Debian's chromium lives; Playwright cannot download its own browsers here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch options for Debian's Chromium in a sandboxless, offline container. */
export function chromiumLaunchOptions(): { executablePath?: string; args: string[] } {
  return {
    ...(existsSync(CHROMIUM_PATH) ? { executablePath: CHROMIUM_PATH } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  };
}
