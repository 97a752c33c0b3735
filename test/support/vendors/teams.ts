// A Microsoft Teams Workflows webhook ("When a Teams webhook request is received") as documented: POST
// JSON `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
// "content":{"type":"AdaptiveCard",…}}]}` to the flow's URL with its `sig`; 202 Accepted; a wrong or
// missing signature 401; a body that is not an Adaptive Card message 400; 429 with Retry-After.
import { isObject, jsonOf, startVendorServer, type VendorServer } from './vendor-server';

export const TEAMS_FLOW_PATH = '/workflows/0f4e1c2d3b4a59687766554433221100/triggers/manual/paths/invoke';
const SIGNATURE = 'Sig-0123456789abcdef';

export interface TeamsWorkflow extends VendorServer {
  url: string;
}

const error = (status: number, code: string, message: string) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: { code, message } }),
});

export async function startTeamsWorkflow(): Promise<TeamsWorkflow> {
  const server = await startVendorServer({
    check(request) {
      if (request.method !== 'POST' || request.path !== TEAMS_FLOW_PATH) {
        return error(404, 'WorkflowNotFound', 'The workflow could not be found.');
      }
      if (request.query.get('sig') !== SIGNATURE) {
        return error(401, 'DirectApiAuthorizationRequired', 'The request must be authenticated.');
      }
      const body = jsonOf(request.body);
      if (!request.headers['content-type']?.startsWith('application/json') || !isObject(body)) {
        return error(400, 'InvalidRequestContent', 'The request content is not valid JSON.');
      }
      const attachment = Array.isArray(body.attachments) ? body.attachments[0] : undefined;
      const card = isObject(attachment) ? attachment.content : undefined;
      if (
        body.type !== 'message' ||
        !isObject(attachment) ||
        attachment.contentType !== 'application/vnd.microsoft.card.adaptive' ||
        !isObject(card) ||
        card.type !== 'AdaptiveCard' ||
        typeof card.version !== 'string' ||
        !Array.isArray(card.body)
      ) {
        return error(400, 'InvalidTemplate', 'Expected a message with an Adaptive Card attachment.');
      }
      return undefined;
    },
    success: () => ({ status: 202 }),
  });
  return {
    ...server,
    url: `${server.origin}${TEAMS_FLOW_PATH}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIGNATURE}`,
  };
}
