import { randomUUID } from 'node:crypto';
import { loadConfig } from '@cwo/config';
import { retryDelayMs } from './queue';

// The retry schedule with the deployment's defaults: exponential, spread, over about a day.

const HOUR_MS = 3600 * 1000;

describe('the retry schedule', () => {
  const config = loadConfig({ ...process.env, WEBHOOK_MAX_ATTEMPTS: undefined, WEBHOOK_BACKOFF_SECONDS: undefined });
  /** The delays after attempts 1 … max-1 of one delivery. */
  const delays = (id: string) =>
    Array.from({ length: config.WEBHOOK_MAX_ATTEMPTS - 1 }, (_, i) =>
      retryDelayMs(config.WEBHOOK_BACKOFF_SECONDS, i + 1, id),
    );

  it('spans about a day by default, doubling at each attempt', () => {
    for (let n = 0; n < 50; n++) {
      const schedule = delays(randomUUID());
      const total = schedule.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(22 * HOUR_MS);
      expect(total).toBeLessThan(28 * HOUR_MS);
      expect(schedule[0]).toBeGreaterThanOrEqual(40_000);
      expect(schedule[0]).toBeLessThanOrEqual(48_000);
      for (let i = 1; i < schedule.length; i++) {
        const ratio = schedule[i]! / schedule[i - 1]!;
        expect(ratio).toBeGreaterThanOrEqual(2 / 1.2);
        expect(ratio).toBeLessThanOrEqual(2 * 1.2);
      }
    }
  });

  it('spreads deliveries that failed together, and gives one delivery the same delay each time it is asked', () => {
    const id = randomUUID();
    expect(delays(id)).toEqual(delays(id));
    const firstDelays = new Set(Array.from({ length: 20 }, () => retryDelayMs(40, 1, randomUUID())));
    expect(firstDelays.size).toBeGreaterThan(10);
  });
});
