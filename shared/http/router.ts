// Routing an HTTP function's requests by their route key, from a table that covers exactly its declared routes.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConfigurationError } from '#shared/config';
import { NotFoundError } from '#shared/errors';
import { type FunctionName, functions, type Trigger } from '#shared/wiring/topology';
import { httpHandler } from './middleware';

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
 * The handler of an HTTP function: API Gateway's `routeKey` picks the call, as middy's http-router
 * does from its table, so the routes are written once, in the wiring. A route key outside the table
 * (an API Gateway `$default` route, a local caller) is a 404 in Rollbar's shape.
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
  return httpHandler(async (event, context) => {
    const route = routes.get(event.routeKey);
    if (!route) throw new NotFoundError(`no such route: ${event.routeKey}`);
    return route(event, context);
  });
}
