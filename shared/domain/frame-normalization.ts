// Normalizes stack-frame file names and method names so a group survives redeploys, rebuilds and other machines.
// Both are at most 2,048 characters (the payload schema refuses longer), and every pattern below runs in time
// linear in them: each starts at a separator or an anchor and scans no further than the segment it names.

/**
 * Normalized file names are cached: the same few hundred files appear in almost every trace a project sends,
 * so the regex work below runs once per file, not once per frame. The bound keeps memory flat; clearing the
 * whole map when full is cheaper than LRU bookkeeping and the cache refills within a few items.
 */
const FILENAME_CACHE_MAX = 20_000;
const filenameCache = new Map<string, string>();

// Query strings and fragments carry cache busters (`bundle.js?v=123`) and never name a different file.
const QUERY_OR_FRAGMENT = /[?#]/;
// Origins and bundler schemes differ between CDN, staging and dev servers; the path below them is the file.
const SCHEME_PREFIX =
  /^(?:blob:)?(?:webpack-internal:\/\/\/|webpack:\/\/[^/]*\/|file:\/\/(?:localhost)?|(?:https?|app|capacitor|ionic):\/\/[^/]*)/i;
const WINDOWS_DRIVE = /^\/?[a-z]:\//i;
// Where applications live on servers and laptops: the part of the path that changes with the machine.
const MACHINE_ROOT =
  /^\/(?:var\/task|var\/runtime|usr\/src\/app|opt\/app|srv\/app|app|workspace|root|home\/[^/]+|Users\/[^/]+)(?=\/)/;
// Capistrano-style release directories change on every deploy.
const RELEASE_DIR = /\/releases\/[^/]+\//;
const PYTHON_STDLIB = /\/(?:lib\/)?python\d+(?:\.\d+)*\//i;
const RUBY_STDLIB = /\/ruby\/\d+(?:\.\d+)+\//;
const GEM_VERSION = /^([^/]+?)-\d[^/]*/;
// `pkg@1.2.3`, Go's `module@v1.2.3`: the version is not part of the file's identity.
const AT_VERSION = /@v?\d[^/]*/g;
// A whole directory named by a version or a build hash: `/assets/1.2.3/app.js`, `/static/3f9a2b1c/app.js`.
const VERSION_OR_HASH_DIR = /\/(?:v?\d+(?:\.\d+)+|(?=[a-f]*\d)(?=\d*[a-f])[\da-f]{6,}|\d{6,})(?=\/)/gi;
// A hash inside a file name: `app.3f9a2b1c.js`, `main-3f9a2b1c.js`, Vite's `index-BUf0xz7M.js`. The lookaheads
// of the 8-character form look no further than its 8 characters: unbounded, they would scan the rest of a
// name like `-a-a-a-…` from each of its dashes.
const NAME_HASH =
  /[.\-_~](?:(?=[a-f]*\d)[\da-f]{6,}|(?=[a-z_-]{0,7}\d)(?=[\d_-]{0,7}[a-z])[\w-]{8})(?=[./]|$)/gi;
// A file named by nothing but its hash: `static/js/3f9a2b1c.js`.
const BARE_HASH_NAME = /\/(?=[a-f]*\d)[\da-f]{8,}(?=\.)/gi;

function normalizeUncached(filename: string): string {
  let name = filename;
  const cut = name.search(QUERY_OR_FRAGMENT);
  if (cut >= 0) name = name.slice(0, cut);
  if (name.includes('\\')) name = name.replaceAll('\\', '/');
  // Machine roots mean something only in an absolute file-system path: in a URL or a relative path,
  // `/app/` is a directory the application chose.
  const scheme = SCHEME_PREFIX.exec(name)?.[0];
  if (scheme !== undefined) name = name.slice(scheme.length);
  const onDisk =
    scheme === undefined ? name.startsWith('/') || WINDOWS_DRIVE.test(name) : /^file:/i.test(scheme);
  name = name.replace(WINDOWS_DRIVE, '/');
  if (!name.startsWith('/')) name = `/${name}`;

  // Dependencies: everything before the last `node_modules/` (pnpm's `.pnpm/pkg@1.2.3/`, a Lambda layer,
  // a checkout directory) depends on the installer and the machine, not on the code that failed.
  const nodeModules = name.lastIndexOf('/node_modules/');
  const sitePackages = Math.max(name.lastIndexOf('/site-packages/'), name.lastIndexOf('/dist-packages/'));
  const gems = name.lastIndexOf('/gems/');
  if (nodeModules >= 0) {
    name = name.slice(nodeModules);
  } else if (sitePackages >= 0) {
    name = `/site-packages/${name.slice(sitePackages + 15)}`;
  } else if (gems >= 0) {
    // `gems/rails-7.0.4/lib/…` → `gems/rails/lib/…`: the installed version changes with every bundle update.
    name = `/gems/${name.slice(gems + 6).replace(GEM_VERSION, '$1')}`;
  } else {
    const python = PYTHON_STDLIB.exec(name);
    const ruby = python ? null : RUBY_STDLIB.exec(name);
    if (python) name = `/python/${name.slice(python.index + python[0].length)}`;
    else if (ruby) name = `/ruby/${name.slice(ruby.index + ruby[0].length)}`;
    else if (onDisk) {
      const release = RELEASE_DIR.exec(name);
      name = release ? name.slice(release.index + release[0].length - 1) : name.replace(MACHINE_ROOT, '');
    }
  }

  name = name
    .replace(AT_VERSION, '')
    .replace(VERSION_OR_HASH_DIR, '')
    .replace(BARE_HASH_NAME, '/')
    .replace(NAME_HASH, '');
  // One spelling for the same relative path: no leading `/` or `./`.
  let start = 0;
  while (start < name.length && (name[start] === '/' || (name[start] === '.' && name[start + 1] === '/'))) {
    start += name[start] === '.' ? 2 : 1;
  }
  return start > 0 ? name.slice(start) : name;
}

/** Prepares `data.server.root` once per item: the prefix to cut from file names, with a trailing slash. */
export function normalizeServerRoot(root: string | null | undefined): string | undefined {
  if (!root) return undefined;
  return root.endsWith('/') || root.endsWith('\\') ? root : `${root}${root.includes('\\') ? '\\' : '/'}`;
}

/**
 * Caches keyed by the file name as sent, one per server root, so a hit costs one lookup of a string
 * the payload already holds (cutting the root first would hash a new string on every frame).
 */
const rootedFilenameCaches = new Map<string, Map<string, string>>();
const ROOTS_CACHED_MAX = 64;

function cacheFor(serverRoot: string | undefined): Map<string, string> {
  if (serverRoot === undefined) return filenameCache;
  let cache = rootedFilenameCaches.get(serverRoot);
  if (!cache) {
    if (rootedFilenameCaches.size >= ROOTS_CACHED_MAX) rootedFilenameCaches.clear();
    cache = new Map();
    rootedFilenameCaches.set(serverRoot, cache);
  }
  return cache;
}

/** The file name as it takes part in a fingerprint: no origin, machine root, version, hash or query. */
export function normalizeFilename(filename: string, serverRoot?: string): string {
  const cache = cacheFor(serverRoot);
  const cached = cache.get(filename);
  if (cached !== undefined) return cached;
  const name =
    serverRoot !== undefined && filename.startsWith(serverRoot)
      ? filename.slice(serverRoot.length)
      : filename;
  const normalized = normalizeUncached(name);
  if (cache.size >= FILENAME_CACHE_MAX) cache.clear();
  cache.set(filename, normalized);
  return normalized;
}

// Names engines and SDKs give to functions without one; they carry nothing and differ between engines.
const ANONYMOUS_METHODS = new Set([
  '',
  '?',
  '<anonymous>',
  'anonymous',
  '<unknown>',
  'unknown',
  '(anonymous function)',
  'Anonymous function',
  '{anonymous}()',
  '<anonymous function>',
]);

function isMeaningless(segment: string): boolean {
  // One- and two-letter names are what minifiers produce (`t`, `e`, `Xe`) and change with every build.
  return segment.length <= 2 || ANONYMOUS_METHODS.has(segment);
}

// Method names repeat as much as file names; the same bounded cache spares the splitting below.
const methodCache = new Map<string, string>();

/** The method name as it takes part in a fingerprint, or '' when it carries nothing stable. */
export function normalizeMethod(method: string | null | undefined): string {
  if (!method) return '';
  const cached = methodCache.get(method);
  if (cached !== undefined) return cached;
  const normalized = normalizeMethodUncached(method);
  if (methodCache.size >= FILENAME_CACHE_MAX) methodCache.clear();
  methodCache.set(method, normalized);
  return normalized;
}

function withoutTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return text.slice(0, end);
}

function normalizeMethodUncached(method: string): string {
  let name = method;
  // V8 adds `[as alias]` for the property a function was called through; the function is the same.
  const alias = name.indexOf(' [as ');
  if (alias > 0) name = name.slice(0, alias);
  if (name.startsWith('async ')) name = name.slice(6);
  else if (name.startsWith('new ')) name = name.slice(4);
  // SpiderMonkey names nested anonymous functions `outer/<`; the suffix depends on the engine. Cut by hand:
  // `/\/*<+$/` would rescan a run of slashes from each of them when no `<` follows it.
  if (name.endsWith('<')) name = withoutTrailing(withoutTrailing(name, '<'), '/');
  if (!name.includes('.')) return isMeaningless(name) ? '' : name;
  // `Object.<anonymous>`, `t.render`, `Object.Xe`: keep the parts a minifier and V8's receiver naming leave alone.
  let kept = '';
  for (const segment of name.split('.')) {
    if (isMeaningless(segment) || segment === 'Object') continue;
    kept = kept === '' ? segment : `${kept}.${segment}`;
  }
  return kept;
}
