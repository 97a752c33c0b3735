// GET / and the dashboard's pages and assets: the web dashboard, served from the API's own origin.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  assetResponse,
  DASHBOARD_DIR_VAR,
  loadDashboardFiles,
  pageResponse,
} from '#shared/dashboard/serving';
import { type RouteHandler, routedHandler } from '#shared/http/router';

// In Lambda the build is bundled beside the handler (infra/stacks/regional-stack.ts); locally the
// stack builds it and names the folder.
const files = loadDashboardFiles(
  process.env[DASHBOARD_DIR_VAR] ?? join(dirname(fileURLToPath(import.meta.url)), 'dashboard'),
);

const acceptEncoding = (event: APIGatewayProxyEventV2) => event.headers['accept-encoding'];
const page: RouteHandler = async (event) => pageResponse(files, acceptEncoding(event));

export const handler = routedHandler('serveDashboard', {
  'GET /': page,
  'GET /items': page,
  'GET /items/{counter}': page,
  'GET /deploys': page,
  'GET /notifications': page,
  'GET /operations': page,
  'GET /assets/{file}': async (event) =>
    assetResponse(files, event.pathParameters?.file, acceptEncoding(event)),
});
