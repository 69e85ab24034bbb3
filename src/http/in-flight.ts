/**
 * The request handlers still running. Shutdown waits for them after closing the
 * connections, so a cut-off upload finishes its cleanup (removing its partial
 * file) before the store closes and the process exits.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();

  track(handler: Promise<void>): void {
    this.running.add(handler);
    void handler.finally(() => this.running.delete(handler));
  }

  /** Resolves once every handler running now has settled, or after `ms`. */
  async settled(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
    await Promise.race([Promise.allSettled([...this.running]), bound]);
    clearTimeout(timer);
  }
}
