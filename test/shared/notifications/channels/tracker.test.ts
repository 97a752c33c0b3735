// What the tracker channels share, without a vendor: which step each event takes on the item's
// issue, and credentials kept out of what an outcome says.
import { describe, expect, it } from 'vitest';
import {
  fencedMarkdown,
  issueTitleOf,
  trackerStepOf,
  withoutSecrets,
} from '#shared/notifications/channels/tracker';
import type { TriggerName } from '#shared/notifications/model';
import { eventOf, itemOf } from '../../../support/tracker-delivery';

describe('the step a tracker takes for an event', () => {
  it.each<[TriggerName, boolean, string]>([
    ['new_item', false, 'create'],
    ['new_item', true, 'filed'],
    ['reactivated_item', false, 'create'],
    ['reactivated_item', true, 'reopen'],
    ['reopened_item', true, 'reopen'],
    ['resolved_item', false, 'skip'],
    ['resolved_item', true, 'resolve'],
    ['exp_repeat_item', false, 'create'],
    ['exp_repeat_item', true, 'comment'],
    ['occurrence', true, 'comment'],
    ['occurrence_rate', false, 'create'],
    ['occurrence_rate', true, 'comment'],
  ])('%s with an issue filed: %s → %s', (trigger, linked, step) => {
    expect(trackerStepOf(eventOf(trigger, itemOf()), linked)).toBe(step);
  });

  it('an event without an item (a deploy) is skipped', () => {
    expect(trackerStepOf(eventOf('deploy', undefined), false)).toBe('skip');
  });

  it('a `rules test` sample always files a new issue, whatever its trigger', () => {
    expect(trackerStepOf(eventOf('resolved_item', itemOf(), { sample: true }), true)).toBe('create');
  });
});

describe('the words of an issue', () => {
  it('a title is one line, cut with an ellipsis, and marked when it is a test', () => {
    const item = itemOf({ counter: 7, title: 'a\nb\r\nc' });
    expect(issueTitleOf(eventOf('new_item', item), item, 100)).toBe('#7 a b c');
    expect(issueTitleOf(eventOf('new_item', item, { sample: true }), item, 10)).toBe('[test] #7…');
  });

  it('client text sits in a fence longer than any backtick run in it', () => {
    expect(fencedMarkdown(['a ````` b'], undefined)).toBe('``````text\na ````` b\n``````');
    expect(fencedMarkdown(['plain'], 'https://f.test/items/1')).toBe(
      '```text\nplain\n```\n\n[Open in Faultline](https://f.test/items/1)',
    );
  });
});

describe('credentials in an outcome', () => {
  it.each([
    ['as sent', 's3cr3t-token', 'got s3cr3t-token'],
    ['URL-encoded', 'a/b+c=d', `got ${encodeURIComponent('a/b+c=d')}`],
    [
      'base64-encoded (Basic auth)',
      'me@x.test:tok',
      `got ${Buffer.from('me@x.test:tok').toString('base64')}`,
    ],
  ])('a credential echoed %s is masked', (_how, secret, response) => {
    expect(withoutSecrets({ status: 'failed', httpStatus: 400, response }, [secret]).response).toBe(
      'got ***',
    );
  });
});
