import { describe, expect, it } from 'vitest';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { notifyAll, type Notifier } from './notifier';

/** A notifier whose sends all end the way `send` does, recording that they were tried. */
function notifier(name: string, send: () => Promise<void>, tried: string[]): Notifier {
  const run = async () => {
    tried.push(name);
    await send();
  };
  return { name, approvalRequested: run, taskEnded: run };
}

const ok = () => Promise.resolve();
const fail = (err: Error) => () => Promise.reject(err);

describe('notifyAll', () => {
  it('sends to every notifier and resolves when all succeed', async () => {
    const tried: string[] = [];
    await notifyAll([notifier('a', ok, tried), notifier('b', ok, tried)], (n) => n.taskEnded({} as never));
    expect(tried).toEqual(['a', 'b']);
  });

  it('sends to the others when one fails, then rethrows its failure', async () => {
    const tried: string[] = [];
    const outage = new Error('slack is down');
    const notifiers = [notifier('a', fail(outage), tried), notifier('b', ok, tried), notifier('c', ok, tried)];
    await expect(notifyAll(notifiers, (n) => n.taskEnded({} as never))).rejects.toBe(outage);
    expect(tried).toEqual(['a', 'b', 'c']);
  });

  it('rethrows a retryable failure before a non-retryable one, whatever their order', async () => {
    const config = nonRetryable(FailureType.InvalidConfig, 'webhook URL is not a URL');
    const outage = new AdoError(FailureType.RepositoryError, 'receiver answered 503');
    const plain = new Error('socket hang up');
    for (const [failures, expected] of [
      [[config, outage], outage],
      [[outage, config], outage],
      [[config, plain], plain],
      [[config, config, plain, outage], plain],
    ] as const) {
      const tried: string[] = [];
      const notifiers = failures.map((err, i) => notifier(`n${i}`, fail(err), tried));
      await expect(notifyAll(notifiers, (n) => n.approvalRequested({} as never))).rejects.toBe(expected);
      expect(tried).toHaveLength(failures.length);
    }
  });

  it('rethrows the first failure when none is retryable', async () => {
    const first = nonRetryable(FailureType.InvalidConfig, 'no Slack token');
    const second = nonRetryable(FailureType.InvalidConfig, 'no webhook secret');
    const tried: string[] = [];
    await expect(notifyAll([notifier('a', fail(first), tried), notifier('b', fail(second), tried)], (n) => n.taskEnded({} as never))).rejects.toBe(first);
  });
});
