// The default fingerprint: the same error across deploys and machines is one item; a different error is not.
import { describe, expect, it } from 'vitest';
import { type Grouping, groupOccurrence } from '#shared/domain/fingerprint';
import { normalizeFilename, normalizeMethod } from '#shared/domain/frame-normalization';
import { type ItemData, itemDataSchema } from '#shared/domain/payload';

interface FrameInput {
  filename: string;
  method?: string;
  lineno?: number;
  colno?: number;
}

function traceItem(
  frames: readonly FrameInput[],
  options: { className?: string; message?: string; root?: string } = {},
): ItemData {
  return itemDataSchema.parse({
    environment: 'production',
    platform: 'linux',
    language: 'javascript',
    ...(options.root ? { server: { root: options.root } } : {}),
    body: {
      trace: {
        frames,
        exception: { class: options.className ?? 'TypeError', message: options.message ?? 'boom' },
      },
    },
  });
}

function group(data: ItemData): Grouping {
  return groupOccurrence(data, { groupingVersion: 2 });
}

const CHECKOUT: readonly FrameInput[] = [
  { filename: '/var/task/src/handler.js', method: 'handler', lineno: 10, colno: 3 },
  { filename: '/var/task/src/checkout.js', method: 'placeOrder', lineno: 42, colno: 7 },
  { filename: '/var/task/src/payments.js', method: 'charge', lineno: 88, colno: 12 },
];

describe('the default fingerprint', () => {
  it('is a 40-character SHA-1 computed from the trace', () => {
    const grouping = group(traceItem(CHECKOUT));
    expect(grouping.method).toBe('trace');
    expect(grouping.fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });

  it('the same error across line changes is one group', () => {
    const moved = CHECKOUT.map((frame, index) => ({
      ...frame,
      lineno: (frame.lineno ?? 0) + 5 * index + 1,
      colno: 1,
    }));
    expect(group(traceItem(moved))).toEqual(group(traceItem(CHECKOUT)));
  });

  it('a different message with the same trace is one group', () => {
    expect(group(traceItem(CHECKOUT, { message: 'order 41 failed' }))).toEqual(
      group(traceItem(CHECKOUT, { message: 'card declined for customer 7' })),
    );
  });

  it('another exception class is another group', () => {
    expect(group(traceItem(CHECKOUT, { className: 'RangeError' }))).not.toEqual(group(traceItem(CHECKOUT)));
  });

  it('frames in a different order are another group', () => {
    expect(group(traceItem([...CHECKOUT].reverse()))).not.toEqual(group(traceItem(CHECKOUT)));
  });

  it('another method in the trace is another group', () => {
    const refund = CHECKOUT.map((frame) =>
      frame.method === 'charge' ? { ...frame, method: 'refund' } : frame,
    );
    expect(group(traceItem(refund))).not.toEqual(group(traceItem(CHECKOUT)));
  });

  it('another file in the trace is another group', () => {
    const moved = CHECKOUT.map((frame) =>
      frame.method === 'charge' ? { ...frame, filename: '/var/task/src/billing.js' } : frame,
    );
    expect(group(traceItem(moved))).not.toEqual(group(traceItem(CHECKOUT)));
  });

  it('an extra frame at the top is another group: the whole trace counts, not the last frame', () => {
    const deeper = [...CHECKOUT, { filename: '/var/task/src/payments.js', method: 'validate', lineno: 3 }];
    expect(group(traceItem(deeper))).not.toEqual(group(traceItem(CHECKOUT)));
  });

  it('recursion cut at another depth is one group', () => {
    const recurse = (depth: number) => [
      ...CHECKOUT,
      ...Array.from({ length: depth }, () => ({
        filename: '/var/task/src/tree.js',
        method: 'walk',
        lineno: 5,
      })),
    ];
    expect(group(traceItem(recurse(9)))).toEqual(group(traceItem(recurse(14))));
  });

  it('a chain of exceptions includes every trace', () => {
    const trace = { frames: CHECKOUT, exception: { class: 'CheckoutError', message: 'failed' } };
    const cause = {
      frames: CHECKOUT.slice(0, 2),
      exception: { class: 'TimeoutError', message: 'timed out' },
    };
    const chain = (traces: unknown[]) =>
      group(itemDataSchema.parse({ environment: 'production', body: { trace_chain: traces } }));
    const withCause = chain([trace, cause]);
    expect(withCause).not.toEqual(chain([trace]));
    expect(withCause).not.toEqual(
      chain([trace, { ...cause, exception: { class: 'DnsError', message: 'x' } }]),
    );
    expect(chain([trace])).toEqual(
      group(itemDataSchema.parse({ environment: 'production', body: { trace } })),
    );
  });

  it('does not depend on the grouping version for a multi-frame trace', () => {
    expect(groupOccurrence(traceItem(CHECKOUT), { groupingVersion: 1 })).toEqual(group(traceItem(CHECKOUT)));
  });
});

describe('a group survives redeploys and other machines', () => {
  it.each([
    [
      'cache-busted bundle names',
      'https://cdn.example.com/static/js/app.3f9a2b1c.js',
      'https://cdn.example.com/static/js/app.9e8d7c6b.js',
    ],
    ['a hash after a dash', '/assets/main-3f9a2b1c.js', '/assets/main-0d1e2f3a.js'],
    ["Vite's base64 hashes", '/assets/index-BUf0xz7M.js', '/assets/index-C2a9kLp1.js'],
    ['query strings', 'https://example.com/bundle.js?v=123', 'https://example.com/bundle.js?v=124'],
    ['a hash-named directory', '/static/3f9a2b1c4d/app.js', '/static/9e8d7c6b5a/app.js'],
    ['a versioned directory', '/assets/1.4.2/app.js', '/assets/1.5.0/app.js'],
    ['another CDN host and port', 'https://cdn-a.example.com/app.js', 'http://localhost:8080/app.js'],
    ['webpack schemes', 'webpack:///./src/App.tsx', 'webpack-internal:///./src/App.tsx'],
    ['a webpack namespace', 'webpack://shop/./src/App.tsx', 'webpack:///./src/App.tsx'],
    [
      'file URLs and home directories',
      'file:///Users/ana/code/shop/src/main.js',
      '/home/ana/code/shop/src/main.js',
    ],
    ['Lambda and container roots', '/var/task/src/handler.js', '/app/src/handler.js'],
    [
      'Capistrano releases',
      '/var/www/shop/releases/20240101120000/app/models/user.rb',
      '/var/www/shop/releases/20240202093000/app/models/user.rb',
    ],
    [
      'Windows drive letters and backslashes',
      'C:\\Users\\ana\\shop\\src\\app.js',
      '/home/ana/shop/src/app.js',
    ],
    [
      'pnpm dependency versions',
      '/app/node_modules/.pnpm/express@4.18.2/node_modules/express/lib/router/index.js',
      '/var/task/node_modules/.pnpm/express@4.19.0/node_modules/express/lib/router/index.js',
    ],
    [
      'site-packages in another Python',
      '/usr/local/lib/python3.11/site-packages/django/core/handlers/base.py',
      '/home/u/.venv/lib/python3.12/site-packages/django/core/handlers/base.py',
    ],
    [
      'the Python version of the standard library',
      '/usr/lib/python3.11/json/decoder.py',
      '/usr/local/lib/python3.12/json/decoder.py',
    ],
    [
      'gem versions',
      '/usr/local/bundle/gems/rails-7.0.4/lib/rails.rb',
      '/home/app/vendor/bundle/ruby/3.1.0/gems/rails-7.0.8/lib/rails.rb',
    ],
    [
      'Go module versions',
      '/go/pkg/mod/github.com/acme/kit@v1.2.3/log.go',
      '/root/go/pkg/mod/github.com/acme/kit@v1.3.0/log.go',
    ],
  ])('%s group', (_case, first, second) => {
    expect(normalizeFilename(first)).toBe(normalizeFilename(second));
    const item = (filename: string) => traceItem([{ filename, method: 'render', lineno: 1 }]);
    expect(group(item(first))).toEqual(group(item(second)));
  });

  it.each([
    ['bundle.js?v=123', 'bundle.js'],
    ['https://cdn.example.com/js/app.js', 'js/app.js'],
    ['https://example.com/app/main.js', 'app/main.js'],
    ['webpack:///./src/App.tsx', 'src/App.tsx'],
    ['C:\\Users\\ana\\shop\\src\\app.js', 'shop/src/app.js'],
    ['file:///C:/Users/ana/shop/src/app.js', 'shop/src/app.js'],
    ['/var/task/src/handler.js', 'src/handler.js'],
    ['/app/app/models/user.rb', 'app/models/user.rb'],
    ['app/models/user.rb', 'app/models/user.rb'],
    ['/var/www/shop/releases/20240101120000/app/models/user.rb', 'app/models/user.rb'],
    [
      '/app/node_modules/.pnpm/express@4.18.2/node_modules/express/lib/router/index.js',
      'node_modules/express/lib/router/index.js',
    ],
    [
      '/usr/local/lib/python3.11/site-packages/django/core/handlers/base.py',
      'site-packages/django/core/handlers/base.py',
    ],
    ['/usr/lib/python3.11/json/decoder.py', 'python/json/decoder.py'],
    ['/usr/local/bundle/gems/rails-7.0.4/lib/rails.rb', 'gems/rails/lib/rails.rb'],
    ['/assets/1.4.2/app.js', 'assets/app.js'],
    ['/static/3f9a2b1c4d/app.js', 'static/app.js'],
    ['app.3f9a2b1c.js', 'app.js'],
    ['main-3f9a2b1c.js', 'main.js'],
    ['index-BUf0xz7M.js', 'index.js'],
    ['react-dom.production.min.js', 'react-dom.production.min.js'],
  ])('the file %s is named %s', (filename, normalized) => {
    expect(normalizeFilename(filename)).toBe(normalized);
  });

  it('the server root the client sends is cut from file names', () => {
    const here = traceItem([{ filename: '/srv/builds/8812/src/app.js', method: 'run' }], {
      root: '/srv/builds/8812',
    });
    const there = traceItem([{ filename: 'D:\\ci\\work\\src\\app.js', method: 'run' }], {
      root: 'D:\\ci\\work',
    });
    expect(group(here)).toEqual(group(there));
  });

  it.each([
    ['different files', 'https://example.com/app.3f9a2b1c.js', 'https://example.com/vendor.3f9a2b1c.js'],
    ['different directories', '/var/task/src/orders/index.js', '/var/task/src/users/index.js'],
    ['different packages', 'node_modules/react-dom/index.js', 'node_modules/preact/index.js'],
  ])('%s stay apart', (_case, first, second) => {
    expect(normalizeFilename(first)).not.toBe(normalizeFilename(second));
  });

  it.each([
    ['one-letter minified names', 't', 'e'],
    ['two-letter minified names', 'Xe', 'Qa'],
    ["V8's anonymous functions", 'Object.<anonymous>', '<anonymous>'],
    ["SDKs' unknown methods", '?', ''],
    ['minified receivers', 't.render', 'n.render'],
    ["V8's call-site aliases", 'Router.handle [as handle_request]', 'Router.handle'],
    ['async markers', 'async loadUser', 'loadUser'],
  ])('%s do not split a group', (_case, first, second) => {
    expect(normalizeMethod(first)).toBe(normalizeMethod(second));
  });

  it('real method names are kept', () => {
    expect(normalizeMethod('OrderService.placeOrder')).toBe('OrderService.placeOrder');
    expect(normalizeMethod('placeOrder')).not.toBe(normalizeMethod('cancelOrder'));
  });
});

describe('overrides and other bodies', () => {
  it('a client fingerprint wins over everything', () => {
    const item = itemDataSchema.parse({ ...traceItem(CHECKOUT), fingerprint: 'checkout-timeout' });
    expect(groupOccurrence(item, { groupingVersion: 1 })).toEqual({
      fingerprint: 'checkout-timeout',
      method: 'client',
    });
    const browser = itemDataSchema.parse({
      environment: 'production',
      platform: 'browser',
      fingerprint: 'my-group',
      body: { trace: { frames: [], exception: { class: 'ReferenceError', message: 'gtag is not defined' } } },
    });
    expect(groupOccurrence(browser, { groupingVersion: 2 })).toEqual({
      fingerprint: 'my-group',
      method: 'client',
    });
  });

  it('log messages group by their normalized text', () => {
    const message = (body: string) =>
      group(itemDataSchema.parse({ environment: 'production', body: { message: { body } } }));
    expect(message('Payment 8812 failed for ana@example.com').method).toBe('message');
    expect(message('Payment 8812 failed for ana@example.com')).toEqual(
      message('Payment 9 failed for bo@example.org'),
    );
    expect(message('Payment 8812 failed')).not.toEqual(message('Refund 8812 failed'));
  });

  it('a message never shares a fingerprint with a trace', () => {
    const asMessage = group(
      itemDataSchema.parse({ environment: 'production', body: { message: { body: 'trace' } } }),
    );
    const asTrace = group(
      itemDataSchema.parse({ environment: 'p', body: { trace: { frames: [], exception: { class: '' } } } }),
    );
    expect(asMessage.fingerprint).not.toBe(asTrace.fingerprint);
  });

  const appleCrash = (incident: string, address: string, exceptionType: string) =>
    [
      `Incident Identifier: ${incident}`,
      'CrashReporter Key:   9c2f0e4a1b',
      'Hardware Model:      iPhone14,2',
      'Process:             Shop [4312]',
      '',
      `Exception Type:  ${exceptionType}`,
      `Exception Codes: KERN_INVALID_ADDRESS at ${address}`,
      '',
      'Thread 0 Crashed:',
      `0   Shop                          ${address} -[CartViewController checkout:] + 120`,
      `1   UIKitCore                     0x00000001a4b2c3d4 -[UIApplication sendAction:to:from:forEvent:] + 96`,
      '',
      'Thread 1:',
      '0   libsystem_kernel.dylib        0x00000001b0c1d2e3 mach_msg_trap + 8',
    ].join('\n');
  const crash = (raw: string) =>
    group(itemDataSchema.parse({ environment: 'production', body: { crash_report: { raw } } }));

  it('crash reports group by exception type and crashed frames, not by incident or address', () => {
    const first = crash(
      appleCrash('8A1F5C2E-0B7D-4E3A-9C6F-1D2E3F4A5B6C', '0x0000000104a8c123', 'EXC_BAD_ACCESS (SIGSEGV)'),
    );
    const second = crash(
      appleCrash('1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9', '0x0000000102f0e456', 'EXC_BAD_ACCESS (SIGSEGV)'),
    );
    expect(first.method).toBe('crash-report');
    expect(first).toEqual(second);
    expect(
      crash(appleCrash('1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9', '0x01', 'EXC_CRASH (SIGABRT)')),
    ).not.toEqual(first);
  });

  it('other crash reports group by their first line', () => {
    expect(crash('Fatal signal 11 (SIGSEGV) at 0x7ffd1234\nbacktrace...')).toEqual(
      crash('Fatal signal 11 (SIGSEGV) at 0x7ffe9876\nother backtrace'),
    );
    expect(crash('Fatal signal 11 (SIGSEGV)')).not.toEqual(crash('Fatal signal 6 (SIGABRT) in abort'));
  });
});
