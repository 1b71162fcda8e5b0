/**
 * Work repeated every `intervalSeconds` on whichever replica `claim`s it (holds its lease); a run
 * still going when the next is due makes that one skip. Timers never keep the process alive.
 */
export class PeriodicJob {
  private readonly timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(intervalSeconds: number, claim: () => Promise<boolean>, run: () => Promise<void>, onError: (err: unknown) => void) {
    if (intervalSeconds <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = claim()
        .then((mine) => (mine ? run() : undefined))
        .catch(onError)
        .finally(() => {
          this.running = undefined;
        });
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a run in progress. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
