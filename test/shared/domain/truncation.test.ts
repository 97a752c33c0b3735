// Keeping stored payloads under their size limit without losing what identifies the error.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_STORED_PAYLOAD_BYTES, truncatePayload } from '#shared/domain/truncation';
import { errorData } from '../../support/occurrences';

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('payload truncation', () => {
  it('keeps a payload under the limit as it is', () => {
    const data = errorData();
    expect(truncatePayload(data)).toEqual({ data, truncated: false });
  });

  it('trims a deep trace to its first and last frames before anything else', () => {
    const frames = Array.from({ length: 5000 }, (_, index) => ({
      filename: `/app/module-${index}.js`,
      lineno: index,
      method: `call${index}`,
    }));
    const data = errorData();
    const deep = { ...data, body: { trace: { ...data.body.trace!, frames } } };
    const { data: stored, truncated } = truncatePayload(deep);
    expect(truncated).toBe(true);
    const kept = (stored.body as { trace: { frames: Array<{ method: string }> } }).trace.frames;
    expect(kept).toHaveLength(40);
    expect(kept[0]?.method).toBe('call0');
    expect(kept.at(-1)?.method).toBe('call4999');
    expect(size(stored)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
  });

  it('cuts long strings, then drops all but the essential fields, and says so', () => {
    const huge = 'x'.repeat(200_000);
    const data = { ...errorData(), custom: { blob: huge }, request: { body: huge } };
    const { data: stored, truncated } = truncatePayload(data);
    expect(truncated).toBe(true);
    expect(stored._truncated).toBe(true);
    expect(size(stored)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
    expect(stored.environment).toBe('production');
    expect((stored.body as { trace: { exception: { class: string } } }).trace.exception.class).toBe(
      'TypeError',
    );
  });
});

describe('payload truncation always fits', () => {
  const randomText = (length: number) => randomBytes(length).toString('base64').slice(0, length);

  it('506 KB of short incompressible strings inside a frame fit the limit', () => {
    const data = errorData();
    const strings = Array.from({ length: 506 * 64 }, () => randomText(14));
    const frames = [{ filename: 'app.js', method: 'run', vars: strings }];
    const { data: stored, truncated } = truncatePayload({
      ...data,
      body: { trace: { ...data.body.trace!, frames } },
    });
    expect(truncated).toBe(true);
    expect(size(stored)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
    expect(
      (stored.body as { trace: { frames: Array<{ filename: string }> } }).trace.frames[0]?.filename,
    ).toBe('app.js');
  });

  it('keys of 100 KB are cut, even in the body', () => {
    const message = { body: 'hello', [randomText(100_000)]: 1, [randomText(100_000)]: 2 };
    const data = { ...errorData(), body: { message } };
    const { data: stored } = truncatePayload(data);
    expect(size(stored)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
  });

  it('3,500 levels of nesting with 200 KB of padding are stored without overflowing the stack', () => {
    let deep: unknown = { padding: randomText(200_000) };
    for (let level = 0; level < 3500; level++) deep = [deep];
    const { data: stored, truncated } = truncatePayload({ ...errorData(), custom: { deep } });
    expect(truncated).toBe(true);
    expect(size(stored)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
  });

  it('a limit too small for anything else keeps what groups the occurrence', () => {
    const { data: stored } = truncatePayload(errorData({ fingerprint: 'checkout' }), 200);
    expect(stored).toMatchObject({ environment: 'production', fingerprint: 'checkout', _truncated: true });
    expect(size(stored)).toBeLessThanOrEqual(200);
  });
});
