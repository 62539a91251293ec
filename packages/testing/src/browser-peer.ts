/** A browser page as a peer: its own browser context (so its own IndexedDB), driven through the harness page. */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { BrowserPeerConfig } from './harness/api.ts';
import type { PeerCommand } from './peer-commands.ts';
import { TestPeer } from './test-peer.ts';

export class BrowserPeer extends TestPeer {
  readonly kind = 'browser';
  readonly config: BrowserPeerConfig;
  readonly #browser: Browser;
  readonly #url: string;
  #context: BrowserContext | undefined;
  #page: Page | undefined;
  #id = '';
  #offline = false;

  private constructor(browser: Browser, url: string, config: BrowserPeerConfig) {
    super();
    this.#browser = browser;
    this.#url = url;
    this.config = config;
  }

  /** Opens a new context and page on the harness and starts a peer in it. */
  static async start(browser: Browser, url: string, config: BrowserPeerConfig): Promise<BrowserPeer> {
    const peer = new BrowserPeer(browser, url, config);
    peer.#context = await browser.newContext();
    await peer.#open();
    return peer;
  }

  get id(): string {
    return this.#id;
  }

  get running(): boolean {
    return this.#page !== undefined && !this.#page.isClosed();
  }

  /** The page the peer runs in. */
  get page(): Page {
    if (this.#page === undefined) throw new Error('browser peer not running');
    return this.#page;
  }

  get context(): BrowserContext {
    if (this.#context === undefined) throw new Error('browser peer not running');
    return this.#context;
  }

  async #open(): Promise<void> {
    const fresh = this.#page === undefined;
    const page = this.#page ?? (await this.context.newPage());
    this.#page = page;
    if (fresh) {
      page.on('pageerror', (err) => process.stderr.write(`[browser ${this.#id.slice(-6)}] ${err.message}\n`));
      // TESSERA_BROWSER_DEBUG=<namespaces> (e.g. libp2p:*): the page's debug logs, on this process's stderr.
      const namespaces = process.env.TESSERA_BROWSER_DEBUG;
      if (namespaces) {
        await page.addInitScript((debug) => localStorage.setItem('debug', debug), namespaces);
        page.on('console', (message) =>
          process.stderr.write(`[browser ${this.#id.slice(-6)}] ${message.text()}\n`),
        );
      }
    }
    await page.goto(this.#url);
    await page.waitForFunction(() => window.tesseraHarness !== undefined);
    const started = await page.evaluate((config) => window.tesseraHarness!.start(config), this.config);
    if (this.#id !== '' && this.config.storage === 'indexeddb' && started.id !== this.#id)
      throw new Error(`browser peer came back as ${started.id}, expected ${this.#id}`);
    this.#id = started.id;
  }

  run<T>(command: PeerCommand): Promise<T> {
    return this.page.evaluate((c) => window.tesseraHarness!.run(c), command) as Promise<T>;
  }

  /** A put through the page's write queue (kept and retried while offline). */
  queuedPut(key: string, value: unknown): Promise<{ queued: boolean }> {
    return this.page.evaluate(([k, v]) => window.tesseraHarness!.queuedPut(k as string, v), [key, value]);
  }

  /** Writes still waiting in the page's write queue. */
  queuedWrites(): Promise<number> {
    return this.page.evaluate(() => window.tesseraHarness!.queuedWrites());
  }

  /**
   * Takes the page off the network: the browser context goes offline and the
   * peer refuses (and closes) connections to every peer in `peers`, because
   * Chromium's offline mode does not close loopback sockets already open.
   */
  async goOffline(peers: readonly string[]): Promise<void> {
    this.#offline = true;
    await this.context.setOffline(true);
    await this.block(peers);
  }

  /** Back online: the peer's bootstrap redial reconnects it. */
  async goOnline(): Promise<void> {
    this.#offline = false;
    await this.context.setOffline(false);
    await this.unblock();
  }

  get offline(): boolean {
    return this.#offline;
  }

  /** Reloads the page: the peer is gone and starts again from its store (IndexedDB keeps data and id). */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.waitForFunction(() => window.tesseraHarness !== undefined);
    const started = await this.page.evaluate((config) => window.tesseraHarness!.start(config), this.config);
    if (this.config.storage === 'indexeddb' && started.id !== this.#id)
      throw new Error(`browser peer came back as ${started.id}, expected ${this.#id}`);
    this.#id = started.id;
  }

  /** Closes the whole context: the peer disappears without a goodbye and its IndexedDB with it. */
  async kill(): Promise<void> {
    const context = this.#context;
    this.#context = undefined;
    this.#page = undefined;
    await context?.close();
  }

  /** A new context and page; with `memory` storage this is a new peer id. */
  async restart(): Promise<void> {
    await this.kill();
    this.#context = await this.#browser.newContext();
    await this.#open();
  }

  /** Stops the peer cleanly (it publishes `exiting`) and closes its context. */
  async stop(): Promise<void> {
    if (this.running) await this.page.evaluate(() => window.tesseraHarness!.stop()).catch(() => {});
    await this.kill();
  }
}
