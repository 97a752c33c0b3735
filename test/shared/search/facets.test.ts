// What one occurrence gives the search index's facets, from payloads as SDKs send them and as
// hostile clients might.
import { describe, expect, it } from 'vitest';
import { emptyFacets, FACET_LIMITS, type Facets, MAX_FACET_VALUE_CHARS } from '#shared/search/document';
import { facetsOfOccurrence, MAX_FRAMES_READ } from '#shared/search/facets';

const frames = (...files: string[]) => files.map((filename, index) => ({ filename, lineno: index + 1 }));

const cases: Array<{ name: string; data: unknown; facets: Partial<Facets> }> = [
  {
    name: 'a server error gives its host, context, code version and person',
    data: {
      environment: 'production',
      context: 'orders#create',
      code_version: 'abc123',
      server: { host: 'web-1', code_version: 'ignored' },
      person: { id: '42', username: 'alice', email: 'alice@example.com' },
      body: { message: { body: 'boom' } },
    },
    facets: {
      hosts: ['web-1'],
      contexts: ['orders#create'],
      code_versions: ['abc123'],
      person_ids: ['42'],
      usernames: ['alice'],
      emails: ['alice@example.com'],
    },
  },
  {
    name: "the server's code version is taken when the payload gives none",
    data: { server: { code_version: 'v2.0.1' } },
    facets: { code_versions: ['v2.0.1'] },
  },
  {
    name: "a browser client's code version is taken last (where rollbar.js puts it)",
    data: { client: { javascript: { code_version: 'web-77' } } },
    facets: { code_versions: ['web-77'] },
  },
  {
    name: 'a numeric person id becomes text',
    data: { person: { id: 1234 } },
    facets: { person_ids: ['1234'] },
  },
  {
    name: "a trace's files come most recent call first (Rollbar lists it last), each once",
    data: { body: { trace: { frames: frames('lib/a.js', 'app/models/user.rb', 'lib/a.js', 'app/top.rb') } } },
    facets: { files: ['app/top.rb', 'lib/a.js', 'app/models/user.rb'] },
  },
  {
    name: "a trace chain's files come trace after trace, each most recent first",
    data: {
      body: {
        trace_chain: [{ frames: frames('outer/a.py', 'outer/b.py') }, { frames: frames('inner/c.py') }],
      },
    },
    facets: { files: ['outer/b.py', 'outer/a.py', 'inner/c.py'] },
  },
  {
    name: 'files stop at their limit, the most recent calls kept',
    data: {
      body: { trace: { frames: frames(...Array.from({ length: 12 }, (_, index) => `f${index}.js`)) } },
    },
    facets: { files: ['f11.js', 'f10.js', 'f9.js', 'f8.js', 'f7.js', 'f6.js', 'f5.js', 'f4.js'] },
  },
  {
    name: 'a long path keeps its end, the file name',
    data: { body: { trace: { frames: frames(`/${'deep/'.repeat(40)}handler.js`) } } },
    facets: { files: [`${`/${'deep/'.repeat(40)}handler.js`.slice(-MAX_FACET_VALUE_CHARS)}`] },
  },
  {
    name: 'a long host keeps its start',
    data: { server: { host: `web-${'x'.repeat(300)}` } },
    facets: { hosts: [`web-${'x'.repeat(MAX_FACET_VALUE_CHARS - 4)}`] },
  },
  {
    name: 'empty and blank strings are no values',
    data: {
      context: '',
      server: { host: '   ' },
      person: { id: '', username: ' ', email: '' },
      code_version: '',
    },
    facets: {},
  },
  {
    name: 'values of the wrong type are ignored',
    data: {
      context: 12,
      server: { host: ['web-1'] },
      person: { id: { nested: 1 }, username: true, email: null },
      code_version: 3.5,
      body: { trace: { frames: [null, 7, 'app.js', { filename: 42 }, { filename: 'ok.js' }] } },
    },
    facets: { files: ['ok.js'] },
  },
  {
    name: 'a person id that is not a finite number is no value',
    data: { person: { id: Number.NaN } },
    facets: {},
  },
  {
    name: 'structures of the wrong type are ignored',
    data: {
      server: 'web-1',
      person: 'alice',
      client: [1],
      body: { trace: 'x', trace_chain: { frames: [] } },
    },
    facets: {},
  },
];

describe('the facets of one occurrence', () => {
  it.each(cases)('$name', ({ data, facets }) => {
    expect(facetsOfOccurrence(data)).toEqual({ ...emptyFacets(), ...facets });
  });

  it.each([null, undefined, 'text', 42, [], [{ server: { host: 'web-1' } }]])(
    'a payload that is not an object (%j) gives no values',
    (data) => {
      expect(facetsOfOccurrence(data)).toEqual(emptyFacets());
    },
  );

  it('a cut never leaves half of a character outside the basic plane', () => {
    const host = `${'h'.repeat(MAX_FACET_VALUE_CHARS - 1)}😀tail`;
    const file = `head😀${'f'.repeat(MAX_FACET_VALUE_CHARS - 1)}`;
    const facets = facetsOfOccurrence({ server: { host }, body: { trace: { frames: frames(file) } } });
    expect(facets.hosts).toEqual(['h'.repeat(MAX_FACET_VALUE_CHARS - 1)]);
    expect(facets.files).toEqual(['f'.repeat(MAX_FACET_VALUE_CHARS - 1)]);
  });

  it('a huge trace is read only as far as its most recent frames', () => {
    // 100,000 frames of one file, then (at the start: the oldest calls) a second file never reached.
    const huge = [
      { filename: 'oldest.js' },
      ...Array.from({ length: 100_000 }, () => ({ filename: 'hot.js' })),
    ];
    const started = performance.now();
    const facets = facetsOfOccurrence({ body: { trace: { frames: huge } } });
    expect(facets.files).toEqual(['hot.js']);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('a long trace chain is read only to its limits', () => {
    const chain = Array.from({ length: 10_000 }, (_, index) => ({ frames: frames(`t${index}.js`) }));
    const facets = facetsOfOccurrence({ body: { trace_chain: chain } });
    expect(facets.files).toEqual(['t0.js', 't1.js', 't2.js', 't3.js', 't4.js', 't5.js', 't6.js', 't7.js']);
    expect(facets.files.length).toBeLessThanOrEqual(FACET_LIMITS.files);
  });

  it(`frames read stop at ${MAX_FRAMES_READ}, over every trace`, () => {
    // Traces of empty file names use up the frames read; a file after them is not reached.
    const blank = { frames: Array.from({ length: MAX_FRAMES_READ }, () => ({ filename: '' })) };
    const facets = facetsOfOccurrence({
      body: { trace: blank, trace_chain: [{ frames: frames('late.js') }] },
    });
    expect(facets.files).toEqual([]);
  });
});
