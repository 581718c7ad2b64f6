// Bounded concurrency for jobs over many domains: at most `limit` at a time, results in input order.

import { Semaphore } from 'async-mutex';

export function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const semaphore = new Semaphore(Math.max(1, limit));
  return Promise.all(items.map((item) => semaphore.runExclusive(() => work(item))));
}
