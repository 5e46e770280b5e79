import { describe, expect, it } from 'vitest';
import { OutputCollector } from './output';

describe('OutputCollector', () => {
  it('keeps everything under the cap, in arrival order', () => {
    const output = new OutputCollector(100);
    output.push(Buffer.from('out 1\n'));
    output.push(Buffer.from('err 1\n'));
    expect(output.text()).toBe('out 1\nerr 1\n');
    expect(output.truncated).toBe(false);
  });

  it('cuts at the cap and ends with a note', () => {
    const output = new OutputCollector(10);
    output.push(Buffer.from('0123456'));
    output.push(Buffer.from('789abcdef'));
    output.push(Buffer.from('more'));
    expect(output.truncated).toBe(true);
    expect(output.text()).toBe('0123456789\n[output truncated after 10 bytes]\n');
  });

  it('keeps the end of the output past the cap for recognising how it ended', () => {
    const output = new OutputCollector(4);
    output.push(Buffer.alloc(100_000, 'x'));
    output.push(Buffer.from('\nJavaScript heap out of memory\n'));
    expect(output.tail().endsWith('JavaScript heap out of memory\n')).toBe(true);
    expect(output.tail().length).toBeLessThanOrEqual(8 * 1024);
  });
});
