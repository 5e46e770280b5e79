import { describe, expect, it } from 'vitest';
import { LEDGER_PROMPT, LEDGER_TARGET, ledgerFiles } from './ledger-repository';

describe('the ledger example repository', () => {
  it('has over 500 files in eight packages, and the same files every time', () => {
    const files = ledgerFiles();
    expect(files.size).toBeGreaterThanOrEqual(500);
    expect(new Set([...files.keys()].filter((f) => f.startsWith('packages/')).map((f) => f.split('/')[1])).size).toBe(8);
    expect([...ledgerFiles()]).toEqual([...files]);
  });

  it('holds the refund bug in a module the task does not name', () => {
    const source = ledgerFiles().get(LEDGER_TARGET.module)!;
    expect(source).toContain('function formatAmount(minor, currency)');
    for (const named of ['formatAmount', 'format-amount', 'billing', 'money/']) expect(LEDGER_PROMPT).not.toContain(named);
  });
});
