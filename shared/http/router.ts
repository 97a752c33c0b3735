// Routing an HTTP function's requests by their route key (or, from a function URL, by method and path),
// from a table that covers exactly its declared routes.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConfigurationError } from '#shared/config';
import { MethodNotAllowedError, NotFoundError } from '#shared/errors';
import { type FunctionName, functions, type RouteKey, type Trigger } from '#shared/wiring/topology';
import { httpHandler } from './middleware';
import { matchRoute, methodsMatching, parseRouteKey } from './routes';

export type RouteHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The functions triggered by HTTP routes. */
export type HttpFunctionName = {
  [N in FunctionName]: (typeof functions)[N]['trigger'] extends { kind: 'http' } ? N : never;
}[FunctionName];

/** The route keys the wiring declares for an HTTP function, as a union of literals. */
export type DeclaredRoute<N extends HttpFunctionName> = (typeof functions)[N]['trigger'] extends {
  routes: readonly (infer R extends string)[];
}
  ? R
  : never;

/** One call per declared route: the compiler refuses a table that misses a route or adds one. */
export type RouteTable<N extends HttpFunctionName> = { readonly [R in DeclaredRoute<N>]: RouteHandler };

/**
 * The route key of an event that matched no route: a Lambda function URL's (which has no routes), or an
 * API Gateway `$default` route's.
 */
export const DEFAULT_ROUTE_KEY = '$default';

/** Paths are echoed in a refusal up to this length: enough to recognise, not a mirror for a flood. */
const ECHOED_PATH_CHARS = 100;

/**
 * The handler of an HTTP function: API Gateway's `routeKey` picks the call, as middy's http-router
 * does from its table, so the routes are written once, in the wiring. An event with the `$default` key
 * (a function URL's) is matched on its method and path against the same declared routes, as API
 * Gateway would match them (trailing `/` or not), and reaches the call with the route key and path
 * parameters API Gateway would have sent. A route key outside the table, or a path that is no route,
 * is a 404 in Rollbar's shape; a route's path with another method is a 405.
 */
export function routedHandler<N extends HttpFunctionName>(name: N, table: RouteTable<N>) {
  // A map, not the object: a route key such as `constructor` must not find Object.prototype's.
  const routes = new Map<string, RouteHandler>(Object.entries<RouteHandler>(table));
  const trigger: Trigger = functions[name].trigger;
  const declared: readonly string[] = trigger.kind === 'http' ? trigger.routes : [];
  // The compiler holds the table to the declaration; a cast that slips past it fails the cold start.
  const missing = declared.filter((route) => !routes.has(route));
  const undeclared = [...routes.keys()].filter((route) => !declared.includes(route));
  if (missing.length > 0 || undeclared.length > 0) {
    throw new ConfigurationError(
      `${name}'s routes differ from its declaration: missing ${missing.join(', ') || 'none'}; undeclared ${undeclared.join(', ') || 'none'}`,
    );
  }
  const patterns = declared.map((routeKey) => ({ routeKey, pattern: parseRouteKey(routeKey as RouteKey) }));
  return httpHandler(async (event, context) => {
    const routed = event.routeKey === DEFAULT_ROUTE_KEY ? routeByPath(patterns, event) : event;
    const route = routes.get(routed.routeKey);
    if (!route) throw new NotFoundError(`no such route: ${event.routeKey}`);
    return route(routed, context);
  });
}

/** The event as API Gateway would have sent it for the declared route its method and path match. */
function routeByPath(
  patterns: readonly { routeKey: string; pattern: ReturnType<typeof parseRouteKey> }[],
  event: APIGatewayProxyEventV2,
): APIGatewayProxyEventV2 {
  const method = event.requestContext?.http?.method ?? '';
  const path = event.rawPath ?? '/';
  const match = matchRoute(patterns, method, path);
  if (!match) {
    const shown = path.length > ECHOED_PATH_CHARS ? `${path.slice(0, ECHOED_PATH_CHARS)}…` : path;
    const allowed = methodsMatching(patterns, path);
    if (allowed.length > 0) throw new MethodNotAllowedError(method, shown, allowed);
    throw new NotFoundError(`no such route: ${method} ${shown}`);
  }
  const { routeKey } = match.route;
  return {
    ...event,
    routeKey,
    requestContext: { ...event.requestContext, routeKey },
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
  };
}
