// A local Jira Cloud REST v3: checks Basic auth (`email:api_token`), the create-issue fields as Jira
// documents them (a known project key and issue type, a summary under 255 characters without
// newlines, an Atlassian Document description) and comment bodies; numbers issues OPS-1, OPS-2…
// and keeps their comments. Errors come in Jira's `{errorMessages, errors}` shape.
import {
  isObject,
  type RecordedRequest,
  route,
  startTrackerServer,
  type TrackerServer,
  type VendorAnswer,
} from './tracker-server';

export interface JiraIssue {
  id: string;
  key: string;
  summary: string;
  issueType: string;
  description: unknown;
  comments: unknown[];
}

export interface JiraServer extends TrackerServer {
  issues: JiraIssue[];
}

const refused = (errors: Record<string, string>, errorMessages: string[] = []): VendorAnswer => ({
  status: 400,
  body: { errorMessages, errors },
});

/** An Atlassian Document at its outermost level: `{type: 'doc', version: 1, content: [...]}` with typed nodes. */
function isDocument(value: unknown): boolean {
  if (!isObject(value) || value.type !== 'doc' || value.version !== 1 || !Array.isArray(value.content))
    return false;
  const nodesValid = (nodes: unknown[]): boolean =>
    nodes.every(
      (node) =>
        isObject(node) &&
        typeof node.type === 'string' &&
        (node.type !== 'text' || (typeof node.text === 'string' && node.text.length > 0)) &&
        (node.content === undefined || (Array.isArray(node.content) && nodesValid(node.content))),
    );
  return nodesValid(value.content);
}

export async function startJira(options: {
  email: string;
  apiToken: string;
  projectKey: string;
  issueTypes?: string[];
}): Promise<JiraServer> {
  const issues: JiraIssue[] = [];
  const issueTypes = options.issueTypes ?? ['Bug', 'Task'];
  const basic = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;

  const vendor = (request: RecordedRequest): VendorAnswer => {
    if (request.headers.authorization !== basic)
      return {
        status: 401,
        body: {
          errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
          errors: {},
        },
      };
    const body = request.json;
    if (request.method === 'POST' && request.path === '/rest/api/3/issue') {
      const fields = isObject(body) ? body.fields : undefined;
      if (!isObject(fields)) return refused({}, ['No fields given']);
      const errors: Record<string, string> = {};
      if (!isObject(fields.project) || fields.project.key !== options.projectKey)
        errors.project = 'valid project is required';
      if (!isObject(fields.issuetype) || !issueTypes.includes(String(fields.issuetype.name)))
        errors.issuetype = 'Specify a valid issue type';
      if (typeof fields.summary !== 'string' || !fields.summary.trim())
        errors.summary = 'You must specify a summary of the issue.';
      else if (fields.summary.length > 254) errors.summary = 'Summary must be less than 255 characters.';
      else if (/[\r\n]/.test(fields.summary))
        errors.summary = 'The summary is invalid because it contains newline characters.';
      if (fields.description !== undefined && !isDocument(fields.description))
        errors.description =
          'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
      if (Object.keys(errors).length) return refused(errors);
      const issue: JiraIssue = {
        id: String(10_000 + issues.length),
        key: `${options.projectKey}-${issues.length + 1}`,
        summary: String(fields.summary),
        issueType: String((fields.issuetype as Record<string, unknown>).name),
        description: fields.description,
        comments: [],
      };
      issues.push(issue);
      return {
        status: 201,
        body: { id: issue.id, key: issue.key, self: `https://jira.test/rest/api/3/issue/${issue.id}` },
      };
    }
    const commentOn = route(request.path, '/rest/api/3/issue/:key/comment');
    if (request.method === 'POST' && commentOn) {
      const issue = issues.find(
        (candidate) => candidate.key === commentOn.key || candidate.id === commentOn.key,
      );
      if (!issue)
        return {
          status: 404,
          body: {
            errorMessages: ['Issue does not exist or you do not have permission to see it.'],
            errors: {},
          },
        };
      if (!isObject(body) || !isDocument(body.body))
        return refused({ comment: 'Comment body can not be empty!' });
      issue.comments.push(body.body);
      return { status: 201, body: { id: String(20_000 + issue.comments.length), body: body.body } };
    }
    return { status: 404, body: { errorMessages: ['Not found'], errors: {} } };
  };

  const server = await startTrackerServer(vendor);
  return { ...server, issues };
}

/** The text of an Atlassian Document, paragraphs joined by newlines (for assertions). */
export function textOfDocument(document: unknown): string {
  if (!isObject(document) || !Array.isArray(document.content)) return '';
  return document.content
    .map((paragraph) =>
      isObject(paragraph) && Array.isArray(paragraph.content)
        ? paragraph.content.map((node) => (isObject(node) ? String(node.text ?? '') : '')).join('')
        : '',
    )
    .join('\n');
}
