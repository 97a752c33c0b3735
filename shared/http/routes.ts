// API Gateway HTTP API's route selection: route keys parsed into patterns, and the most specific match
// for a request with its path parameters. The local HTTP adapter plays API Gateway with it, and the
// router picks a route with it for a function URL's events, which carry no route key.
import type { RouteKey } from '#shared/wiring/topology';

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

export interface RoutePattern {
  method: string;
  segments: Segment[];
}

export function parseRouteKey(routeKey: RouteKey): RoutePattern {
  const [method = '', path = ''] = routeKey.split(' ');
  const segments = path
    .split('/')
    .filter((part) => part !== '')
    .map((part): Segment => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (!param) return { kind: 'literal', value: part };
      return param[2] ? { kind: 'greedy', name: param[1] ?? '' } : { kind: 'param', name: param[1] ?? '' };
    });
  return { method, segments };
}

/**
 * The route API Gateway would pick: the most specific match, literal segments before `{param}`
 * before `{proxy+}`. A trailing `/` on the request is ignored, since route paths never end in one.
 */
export function matchRoute<R extends { pattern: RoutePattern }>(
  routes: readonly R[],
  method: string,
  pathname: string,
): { route: R; pathParameters: Record<string, string> | undefined } | undefined {
  const parts = pathname.split('/').filter((part) => part !== '');
  let best: { route: R; pathParameters: Record<string, string>; rank: number[] } | undefined;
  for (const route of routes) {
    if (route.pattern.method !== method) continue;
    const matched = matchSegments(route.pattern.segments, parts);
    if (!matched) continue;
    if (!best || compareRanks(matched.rank, best.rank) < 0) best = { route, ...matched };
  }
  if (!best) return undefined;
  const hasParameters = Object.keys(best.pathParameters).length > 0;
  return { route: best.route, pathParameters: hasParameters ? best.pathParameters : undefined };
}

/** The methods of the routes whose path matches `pathname`: what a request of another method may use. */
export function methodsMatching<R extends { pattern: RoutePattern }>(
  routes: readonly R[],
  pathname: string,
): string[] {
  const parts = pathname.split('/').filter((part) => part !== '');
  const methods = routes
    .filter((route) => matchSegments(route.pattern.segments, parts) !== undefined)
    .map((route) => route.pattern.method);
  return [...new Set(methods)];
}

function matchSegments(
  segments: Segment[],
  parts: string[],
): { pathParameters: Record<string, string>; rank: number[] } | undefined {
  const pathParameters: Record<string, string> = {};
  const rank: number[] = [];
  for (const [index, segment] of segments.entries()) {
    const part = parts[index];
    if (segment.kind === 'greedy') {
      // `{proxy+}` takes the rest of the path, at least one segment.
      if (part === undefined) return undefined;
      pathParameters[segment.name] = parts.slice(index).map(decode).join('/');
      rank.push(2);
      return { pathParameters, rank };
    }
    if (part === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (segment.value !== part) return undefined;
      rank.push(0);
    } else {
      pathParameters[segment.name] = decode(part);
      rank.push(1);
    }
  }
  return parts.length === segments.length ? { pathParameters, rank } : undefined;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return b.length - a.length;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
