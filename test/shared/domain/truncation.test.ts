// Keeping stored payloads under their size limit without losing what identifies the error.
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
