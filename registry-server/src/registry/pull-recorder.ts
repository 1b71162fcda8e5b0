import type { MetadataStore } from '../meta/metadata-store.ts';

/**
 * Remembers manifest pulls and writes them in one transaction every few seconds, so a pull costs
 * no database write (ECR's lastRecordedPullTime is approximate in the same way).
 */
export class PullRecorder {
  private pending = new Map<string, { repositoryId: number; digest: string; at: Date }>();
  private readonly meta: MetadataStore;
  private readonly timer: NodeJS.Timeout;

  constructor(meta: MetadataStore, intervalMs = 5000) {
    this.meta = meta;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  record(repositoryId: number, digest: string): void {
    this.pending.set(`${repositoryId}\0${digest}`, { repositoryId, digest, at: new Date() });
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    await this.meta.recordPulls(batch);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
