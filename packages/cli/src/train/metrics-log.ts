/**
 * OUT/metrics.jsonl, one JSON record per line, each epoch exactly once: a resumed run repeats the
 * epochs after its checkpoint, and logging one again replaces it and everything logged after it
 * (rewritten atomically: the file is small). A record that cannot be written is a warning, never
 * the end of a run.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@siamese/core';

export interface LogRecord {
  readonly type: string;
  readonly epoch?: number;
  readonly stage?: string;
  readonly [field: string]: unknown;
}

export class MetricsLog {
  private constructor(
    readonly path: string,
    private records: LogRecord[],
    private readonly warn: (line: string) => void,
  ) {}

  /** Opens the log; a fresh run starts it empty, a resumed one keeps its records. */
  static async open(path: string, resume: boolean, warn: (line: string) => void): Promise<MetricsLog> {
    const text = resume ? await readFile(path, 'utf8').catch(() => '') : '';
    const records = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogRecord];
        } catch {
          return []; // a line cut short by a kill
        }
      });
    return new MetricsLog(path, records, warn);
  }

  /**
   * Makes the stage's epoch records exactly `history` (the loop's own record, restored from the
   * checkpoint on resume): an epoch logged just before a kill -9 may never have reached the file.
   */
  async syncStage(stage: string | undefined, history: readonly { readonly epoch: number }[]): Promise<void> {
    const first = this.records.findIndex((r) => r.type === 'epoch' && r.stage === stage);
    const at = first >= 0 ? first : this.records.length;
    const before = this.records.slice(0, at).filter((r) => r.type !== 'test');
    const after = this.records
      .slice(at)
      .filter((r) => r.type !== 'test' && !(r.type === 'epoch' && r.stage === stage));
    const own = history.map((h) => ({ type: 'epoch', ...h, ...(stage ? { stage } : {}) }));
    this.records = [...before, ...own, ...after];
    await this.write();
  }

  private async write(): Promise<void> {
    const text = this.records.map((r) => `${JSON.stringify(r)}\n`).join('');
    await writeFileAtomic(this.path, new TextEncoder().encode(text)).catch((e: unknown) =>
      this.warn(`warning: cannot write ${this.path}: ${(e as Error).message}`),
    );
  }

  /** Appends `record`; an epoch record first drops the same stage's records from that epoch on. */
  async log(record: LogRecord): Promise<void> {
    if (record.type === 'epoch') {
      const stage = record.stage;
      const at = this.records.findIndex(
        (r) =>
          r.type === 'test' ||
          (r.type === 'epoch' && r.stage === stage && (r.epoch ?? 0) >= (record.epoch ?? 0)),
      );
      if (at >= 0) this.records = this.records.slice(0, at);
    }
    this.records.push(record);
    await this.write();
  }
}
