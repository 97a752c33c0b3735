// The search service on DynamoDB Local, with the DynamoDB engine: candidates re-checked against the
// items table (a lagging index never shows a stale status), ordered by the exact last occurrence,
// paged, the API's filters combined with the query, and bad input refused with a 422; and the plain
// listing by counter and `item_by_counter`, which the index serves.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { ValidationError } from '#shared/errors';
import type { ItemRecord } from '#shared/items/item';
import { emptyFacets } from '#shared/search/document';
import type { SearchIndexReader } from '#shared/search/engine';
import { createSearchService, MAX_SEARCH_PAGE, type SearchParameters } from '#shared/search/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { anItem, indexItems, putItemRows } from '../../support/search-items';

/** 2025-11-24T16:00:00Z, a multiple of the index's step. */
const T0 = 1_764_000_000;

let dynamo: Dynamo & { tableNames: Record<'items' | 'search', string> };
let documents: DynamoDBDocumentClient;
let index: DynamoDBSearchIndex;
let items: DynamoDBItemRepository;
/** The limits the service asked the engine for, search by search. */
let asked: number[] = [];
/** The limits the listing asked the engine for, listing by listing. */
let listed: number[] = [];
let service: ReturnType<typeof createSearchService>;
let nextProject = 100;
let nextItemId = 10_000;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('searchservice');
  documents = createDocumentClient(dynamo.client);
  index = new DynamoDBSearchIndex(documents, dynamo.tableNames.search);
  items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
  // The engine itself, with the limits it is asked for written down.
  const recording: SearchIndexReader = {
    candidates: (projectId, query, options) => {
      asked.push(options.limit);
      return index.candidates(projectId, query, options);
    },
    countDocuments: (projectId) => index.countDocuments(projectId),
    itemsByCounter: (projectId, options) => {
      listed.push(options.limit);
      return index.itemsByCounter(projectId, options);
    },
    itemIdOfCounter: (projectId, counter) => index.itemIdOfCounter(projectId, counter),
  };
  service = createSearchService({ engine: recording, items });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A new project's items, written to the items table and indexed as they are. */
async function seed(count: number, fields: (at: number) => Partial<ItemRecord> = () => ({})) {
  const projectId = nextProject++;
  const seeded = Array.from({ length: count }, (_, at) =>
    anItem({ id: nextItemId++, project_id: projectId, ...fields(at) }),
  );
  await putItemRows(documents, dynamo.tableNames.items, seeded);
  await indexItems(index, seeded);
  return { projectId, items: seeded };
}

/** The items table changes, the index does not (the indexer has not run yet). */
async function changeInItemsTableOnly(changed: ItemRecord[]) {
  await putItemRows(documents, dynamo.tableNames.items, changed);
}

async function search(projectId: number, parameters: Partial<SearchParameters> & { query: string }) {
  asked = [];
  return service.search(projectId, { page: 1, ...parameters });
}

const idsOf = (found: { items: ItemRecord[] }) => found.items.map((item) => item.id);

describe('a lagging index never shows a stale item', () => {
  it('an item resolved a moment ago leaves status:active results at once', async () => {
    const {
      projectId,
      items: [resolved, active],
    } = await seed(2, (at) => ({
      last_occurrence_timestamp: T0 + at * 600,
    }));
    await changeInItemsTableOnly([{ ...resolved!, status: 'resolved', resolved_timestamp: T0 + 2000 }]);

    expect(idsOf(await search(projectId, { query: 'status:active' }))).toEqual([active!.id]);
    // Found by a search that does not ask for its status, it shows the status it has now.
    const found = await search(projectId, { query: 'error' });
    expect(found.items.map((item) => [item.id, item.status])).toEqual([
      [active!.id, 'active'],
      [resolved!.id, 'resolved'],
    ]);
  });

  it('shows the level, counts and last occurrence the items table holds now', async () => {
    const {
      projectId,
      items: [item],
    } = await seed(1, () => ({ last_occurrence_timestamp: T0 }));
    const now = {
      ...item!,
      level: 'critical' as const,
      total_occurrences: 42,
      last_occurrence_timestamp: T0 + 90,
    };
    await changeInItemsTableOnly([now]);

    expect((await search(projectId, { query: 'error' })).items).toEqual([now]);
    expect(idsOf(await search(projectId, { query: 'level:error' }))).toEqual([]);
  });

  it('leaves out an item the items table no longer holds, or holds for another project', async () => {
    const { projectId, items: seeded } = await seed(3);
    const [, moved, kept] = seeded;
    // Indexed but never written (or gone), and written under another project.
    const ghost = anItem({ id: nextItemId++, project_id: projectId });
    await indexItems(index, [ghost]);
    await changeInItemsTableOnly([{ ...moved!, project_id: projectId + 1000 }]);

    const found = await search(projectId, { query: '' });
    expect(idsOf(found).sort()).toEqual([seeded[0]!.id, kept!.id].sort());
  });

  it('asks the engine again when the re-check drops too many candidates', async () => {
    // 200 items; the newest 130 were resolved after they were indexed.
    const { projectId, items: seeded } = await seed(200, (at) => ({
      last_occurrence_timestamp: T0 + at * 600,
    }));
    const newest = seeded.slice(70);
    await changeInItemsTableOnly(newest.map((item) => ({ ...item, status: 'resolved' })));

    const found = await search(projectId, { query: 'status:active' });
    expect(idsOf(found)).toEqual(
      seeded
        .slice(0, 70)
        .map((item) => item.id)
        .reverse(),
    );
    expect(found.more).toBe(false);
    expect(asked.length).toBeGreaterThan(1);
  });
});

describe('results, newest activity first, a page at a time', () => {
  it('orders items by their exact last occurrence, which the index only knows to 10 minutes', async () => {
    // One 10-minute step: the index cannot tell them apart, the items table can.
    const { projectId, items: seeded } = await seed(3, (at) => ({
      last_occurrence_timestamp: T0 + [500, 10, 300][at]!,
    }));
    expect(idsOf(await search(projectId, { query: 'error' }))).toEqual([
      seeded[0]!.id,
      seeded[2]!.id,
      seeded[1]!.id,
    ]);
  });

  it('evaluates last_seen: on the exact time, not the rounded one', async () => {
    const { projectId, items: seeded } = await seed(2, (at) => ({
      last_occurrence_timestamp: T0 + [100, 500][at]!,
    }));
    // 16:05 UTC: the first item was last seen at 16:01:40, the second at 16:08:20.
    expect(idsOf(await search(projectId, { query: 'last_seen:>2025-11-24T16:05:00Z' }))).toEqual([
      seeded[1]!.id,
    ]);
  });

  it('pages through 250 matching items, 100 a page, each once, newest first', async () => {
    const { projectId, items: seeded } = await seed(250, (at) => ({
      // Several items a step, out of id order within it.
      last_occurrence_timestamp: T0 + Math.floor(at / 3) * 600 + ((at * 7) % 3) * 100,
    }));
    const expected = [...seeded]
      .sort((a, b) => b.last_occurrence_timestamp - a.last_occurrence_timestamp || b.id - a.id)
      .map((item) => item.id);

    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push(await search(projectId, { query: 'number', page }));
    expect(pages.map((found) => found.items.length)).toEqual([100, 100, 50, 0]);
    expect(pages.map((found) => found.more)).toEqual([true, true, false, false]);
    expect(pages.flatMap(idsOf)).toEqual(expected);
  });

  it('finds the newest items of a page even when hundreds were seen within the same 10 minutes', async () => {
    // 300 items in one step, the lowest ids seen last: the index gives them last.
    const { projectId, items: seeded } = await seed(300, (at) => ({
      last_occurrence_timestamp: T0 + 599 - at,
    }));
    const found = await search(projectId, { query: 'error' });
    expect(idsOf(found)).toEqual(seeded.slice(0, 100).map((item) => item.id));
    expect(found.more).toBe(true);
  });

  it('says there is no more when the page holds the last item', async () => {
    const { projectId } = await seed(3);
    expect(await search(projectId, { query: 'error' })).toMatchObject({ page: 1, more: false });
    expect(await search(projectId, { query: 'error', page: 2 })).toEqual({ items: [], page: 2, more: false });
  });
});

describe("the API's filters with the query", () => {
  it.each<[string, Partial<SearchParameters>, string, number[]]>([
    ['a status filter and a word', { status: 'resolved' }, 'error', [1]],
    ['a level filter and a word', { level: 'warning' }, 'error', [2]],
    ['an environment filter and a negated word', { environment: 'staging' }, '-payment', [4]],
    ['a framework filter and a status qualifier', { framework: 'rails' }, 'status:active', [0]],
    ['a framework filter that the query contradicts', { framework: 'rails' }, 'framework:django', []],
    [
      'every filter at once',
      { status: 'active', level: 'error', environment: 'production', framework: 'rails' },
      'order',
      [0],
    ],
    ['a status filter and a status qualifier that disagree', { status: 'active' }, 'status:resolved', []],
  ])('%s', async (_case, filters, query, expected) => {
    const { projectId, items: seeded } = await seed(5, (at) => ({
      ...[
        { title: 'OrderError: not paid', framework: 'rails' },
        { title: 'TypeError: x', status: 'resolved' as const },
        { title: 'RangeError: too far', level: 'warning' as const },
        { title: 'Error: payment refused', environment: 'staging' },
        { title: 'Error: shipping late', environment: 'staging' },
      ][at],
      last_occurrence_timestamp: T0 + at * 600,
    }));
    const found = await search(projectId, { query, ...filters });
    expect(idsOf(found)).toEqual(expected.map((at) => seeded[at]!.id).reverse());
  });

  it('an environment filter is compared as stored', async () => {
    const { projectId } = await seed(1);
    expect(idsOf(await search(projectId, { query: 'error', environment: 'Production' }))).toEqual([]);
  });
});

describe('bad input is refused with a 422 and reads nothing', () => {
  it.each([
    ['an unknown level', 'level:fatal', 'level'],
    ['an unknown status', 'status:open', 'status'],
    ['an unclosed quote', '"not closed', 'quote'],
    ['a date that is not one', 'first_seen:>yesterday', 'first_seen'],
    ['a query too long', 'a'.repeat(1_001), 'characters'],
    ['too many terms', Array.from({ length: 40 }, (_, at) => `w${at}`).join(' '), 'terms'],
  ])('%s', async (_case, query, named) => {
    asked = [];
    const refused = service.search(1, { query, page: 1 });
    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toThrow(named);
    expect(asked).toEqual([]);
  });

  it.each([0, MAX_SEARCH_PAGE + 1, 1.5])('page %s', async (page) => {
    asked = [];
    await expect(service.search(1, { query: 'error', page })).rejects.toThrow(
      /page: a search shows pages 1 to 100/,
    );
    expect(asked).toEqual([]);
  });
});

describe('facets', () => {
  it('re-checks a facet qualifier against the facets the index holds', async () => {
    const { projectId, items: seeded } = await seed(2, (at) => ({
      last_occurrence_timestamp: T0 + at * 600,
    }));
    await index.putFacets(projectId, [
      { item_id: seeded[0]!.id, facets: { ...emptyFacets(), hosts: ['web-7'] } },
    ]);
    expect(idsOf(await search(projectId, { query: 'host:web' }))).toEqual([seeded[0]!.id]);
    expect(idsOf(await search(projectId, { query: '-host:web' }))).toEqual([seeded[1]!.id]);
  });
});

describe('the plain listing, newest item first', () => {
  /** Items numbered 1 to `count`, in an order of ids that is not the counters'. */
  const numbered = (count: number, fields: (at: number) => Partial<ItemRecord> = () => ({})) =>
    seed(count, (at) => ({ counter: ((at * 7) % count) + 1, ...fields(at) }));
  const countersOf = (listedItems: ItemRecord[]) => listedItems.map((item) => item.counter);
  const descending = (from: number, to: number) =>
    Array.from({ length: from - to + 1 }, (_, at) => from - at);

  it('pages through 250 items by counter, 100 a page, each once, as the items table holds them', async () => {
    const { projectId, items: seeded } = await numbered(250);
    // The index lags: the items table holds a newer count than the entry was written with.
    await changeInItemsTableOnly([{ ...seeded[0]!, total_occurrences: 42 }]);

    const pages = await Promise.all([1, 2, 3, 4].map((page) => service.listByCounter(projectId, { page })));

    expect(pages.map(countersOf)).toEqual([descending(250, 151), descending(150, 51), descending(50, 1), []]);
    expect(pages.flat().find((item) => item.id === seeded[0]!.id)?.total_occurrences).toBe(42);
  });

  it('walks down to a deep page a thousand items at a time (OpenSearch answers 10,000 hits at most)', async () => {
    const { projectId } = await numbered(1150);
    listed = [];
    const page11 = await service.listByCounter(projectId, { page: 11 });
    expect(countersOf(page11)).toEqual(descending(150, 51));
    expect(listed).toEqual([1000, 100]);
  });

  it("leaves out another project's items", async () => {
    const mine = await numbered(3);
    await numbered(3);
    expect(countersOf(await service.listByCounter(mine.projectId, { page: 1 }))).toEqual([3, 2, 1]);
  });

  it('compares the filters with the item rows, not with the index, which may lag', async () => {
    const { projectId, items: seeded } = await numbered(4);
    const [resolvedNow, stillActive] = seeded;
    await changeInItemsTableOnly([{ ...resolvedNow!, status: 'resolved' }]);
    // The index says resolved, the items table active: the index is behind a reopen.
    await indexItems(index, [{ ...stillActive!, status: 'resolved' }]);

    const resolved = await service.listByCounter(projectId, { page: 1, status: 'resolved' });
    expect(resolved.map((item) => item.id)).toEqual([resolvedNow!.id]);
  });

  it('a filtered listing reads on, as many items as the rate they pass asks for, until its page is full', async () => {
    // One item in three is a warning: 100 warnings among 300 items fill page 1 exactly.
    const { projectId } = await numbered(300, (at) => ({ level: at % 3 === 0 ? 'warning' : 'error' }));
    listed = [];
    const warnings = await service.listByCounter(projectId, { page: 1, level: 'warning' });

    expect(warnings).toHaveLength(100);
    expect(warnings.every((item) => item.level === 'warning')).toBe(true);
    const counters = countersOf(warnings) as number[];
    expect(counters).toEqual([...counters].sort((a, b) => b - a));
    // 100 first; then as many as the warnings still wanted at the rate the first 100 passed.
    expect(listed[0]).toBe(100);
    const passedFirst = counters.filter((counter) => counter > 200).length;
    expect(listed[1]).toBe(Math.ceil(((100 - passedFirst) * 100) / passedFirst));
    expect(await service.listByCounter(projectId, { page: 2, level: 'warning' })).toEqual([]);
  });
});

describe('an item by its counter', () => {
  it('is found through the index and read from the items table', async () => {
    const { projectId, items: seeded } = await seed(3, (at) => ({ counter: at + 1 }));
    await changeInItemsTableOnly([{ ...seeded[1]!, status: 'muted' }]);
    expect(await service.itemByCounter(projectId, 2)).toMatchObject({ id: seeded[1]!.id, status: 'muted' });
  });

  it("is not found for a counter the project has not given, nor for another project's", async () => {
    const { projectId } = await seed(2, (at) => ({ counter: at + 1 }));
    const other = await seed(3, (at) => ({ counter: at + 1 }));
    expect(await service.itemByCounter(projectId, 3)).toBeUndefined();
    expect(await service.itemByCounter(other.projectId, 3)).toMatchObject({ project_id: other.projectId });
  });

  it('is not found when the item row names another project than its index entry', async () => {
    const { projectId, items: seeded } = await seed(1, () => ({ counter: 1 }));
    await changeInItemsTableOnly([{ ...seeded[0]!, project_id: projectId + 1_000 }]);
    expect(await service.itemByCounter(projectId, 1)).toBeUndefined();
  });
});
