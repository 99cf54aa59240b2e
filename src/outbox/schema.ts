import { z } from 'zod';
import { duration } from '../core/duration';

export const outboxSchema = z
  .strictObject({
    maxMB: z.number().positive().default(256).describe('Disk budget of the outbox in MB, database and WAL together; past it telemetry is evicted oldest first. Space freed by a drain is handed back.'),
    maxRows: z.number().int().positive().default(5_000_000).describe('Readings kept at most; past it telemetry is evicted oldest first.'),
    synchronous: z
      .enum(['normal', 'full'])
      .default('normal')
      .describe('SQLite sync policy. normal: a power cut may lose the last committed batches (never corrupts). full: survives power cut, more SD-card writes.'),
    flushInterval: duration('How long readings wait in memory before their batch is committed.').default(200),
    flushRows: z.number().int().min(1).default(1000).describe('Commit a batch as soon as it has this many readings.'),
  })
  .describe('Store-and-forward buffer (SQLite, WAL) in the state directory.');

export type OutboxConfig = z.infer<typeof outboxSchema>;
