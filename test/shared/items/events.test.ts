// Which notification triggers a change of an item fires, read from its old and new images.
import { describe, expect, it } from 'vitest';
import { type ItemImage, itemEventsOf, milestonesBetween } from '#shared/items/events';

const numbered = (image: ItemImage): ItemImage => ({
  counter: 7,
  status: 'active',
  total_occurrences: 1,
  ...image,
});

describe('item events', () => {
  it.each<[string, ItemImage | undefined, ItemImage | undefined, string[]]>([
    [
      'a created item not yet numbered tells nothing',
      undefined,
      { status: 'active', total_occurrences: 3 },
      [],
    ],
    [
      'numbering announces the new item',
      { status: 'active', total_occurrences: 3 },
      numbered({ total_occurrences: 3 }),
      ['new_item'],
    ],
    [
      'a new item created with 12 occurrences is announced with its 10th',
      { total_occurrences: 12 },
      numbered({ total_occurrences: 12 }),
      ['new_item', 'occurrence_milestone'],
    ],
    [
      'another occurrence is no event',
      numbered({ total_occurrences: 4 }),
      numbered({ total_occurrences: 5 }),
      [],
    ],
    [
      'the 10th occurrence',
      numbered({ total_occurrences: 9 }),
      numbered({ total_occurrences: 10 }),
      ['occurrence_milestone'],
    ],
    [
      'past the 100th in one batch',
      numbered({ total_occurrences: 95 }),
      numbered({ total_occurrences: 130 }),
      ['occurrence_milestone'],
    ],
    [
      'resolving',
      numbered({}),
      numbered({ status: 'resolved', status_changed_by: 'user' }),
      ['resolved_item'],
    ],
    [
      'an occurrence reactivates a resolved item',
      numbered({ status: 'resolved' }),
      numbered({ status: 'active', status_changed_by: 'occurrence', total_occurrences: 2 }),
      ['reactivated_item'],
    ],
    [
      'reopening by hand',
      numbered({ status: 'resolved' }),
      numbered({ status: 'active', status_changed_by: 'user' }),
      ['reopened_item'],
    ],
    [
      'unmuting by hand is a reopening',
      numbered({ status: 'muted' }),
      numbered({ status: 'active', status_changed_by: 'user' }),
      ['reopened_item'],
    ],
    ['muting', numbered({}), numbered({ status: 'muted', status_changed_by: 'user' }), ['muted_item']],
    ['a deleted item tells nothing', numbered({}), undefined, []],
  ])('%s', (_name, before, after, expected) => {
    expect(itemEventsOf(before, after).map((event) => event.type)).toEqual(expected);
  });

  it('names each power of ten crossed', () => {
    expect(milestonesBetween(5, 1500)).toEqual([10, 100, 1000]);
    expect(milestonesBetween(10, 99)).toEqual([]);
    expect(milestonesBetween(0, 9)).toEqual([]);
  });
});
