// A local GitHub REST API for one repository's issues: checks the Bearer token (401 "Bad
// credentials"), the media type and API version headers, and the bodies GitHub documents; keeps
// issues with numbers, open or closed, and their comments. A repository with issues disabled
// answers 410; an unknown repository or issue 404.
import {
  isObject,
  type RecordedRequest,
  route,
  startTrackerServer,
  type TrackerServer,
  type VendorAnswer,
} from './tracker-server';

export interface GitHubIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  assignees: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  comments: string[];
}

export interface GitHubServer extends TrackerServer {
  issues: GitHubIssue[];
  /** Issues disabled in the repository: every issue request answers 410. */
  disableIssues(): void;
}

const DOCS = 'https://docs.github.com/rest';

export async function startGitHub(options: {
  token: string;
  owner: string;
  repo: string;
  /** GitHub Enterprise Server serves the API under `/api/v3`. */
  basePath?: string;
}): Promise<GitHubServer> {
  const issues: GitHubIssue[] = [];
  let issuesDisabled = false;
  const issueJson = (issue: GitHubIssue) => ({
    id: 1000 + issue.number,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    state_reason: issue.state_reason,
    labels: issue.labels.map((name) => ({ name })),
    assignees: issue.assignees.map((login) => ({ login })),
    html_url: `https://github.test/${options.owner}/${options.repo}/issues/${issue.number}`,
  });
  const notFound: VendorAnswer = {
    status: 404,
    body: { message: 'Not Found', documentation_url: DOCS, status: '404' },
  };

  const vendor = (request: RecordedRequest): VendorAnswer => {
    if (request.headers.authorization !== `Bearer ${options.token}`)
      return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
    if (request.headers.accept !== 'application/vnd.github+json')
      return { status: 415, body: { message: 'Unsupported media type in Accept', documentation_url: DOCS } };
    if (request.headers['x-github-api-version'] !== '2022-11-28')
      return { status: 400, body: { message: 'Unsupported API version', documentation_url: DOCS } };
    const basePath = options.basePath ?? '';
    if (!request.path.startsWith(`${basePath}/`)) return notFound;
    const path = request.path.slice(basePath.length);
    const repo =
      route(path, '/repos/:owner/:repo/issues') ??
      route(path, '/repos/:owner/:repo/issues/:number') ??
      route(path, '/repos/:owner/:repo/issues/:number/comments');
    if (!repo || repo.owner !== options.owner || repo.repo !== options.repo) return notFound;
    if (issuesDisabled)
      return {
        status: 410,
        body: { message: 'Issues are disabled for this repo', documentation_url: DOCS, status: '410' },
      };
    const body = request.json;
    if (!isObject(body))
      return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } };

    if (repo.number === undefined) {
      if (request.method !== 'POST') return notFound;
      if (typeof body.title !== 'string' || !body.title)
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }],
          },
        };
      const issue: GitHubIssue = {
        number: issues.length + 1,
        title: body.title,
        body: typeof body.body === 'string' ? body.body : '',
        labels: Array.isArray(body.labels) ? body.labels.map(String) : [],
        assignees: Array.isArray(body.assignees) ? body.assignees.map(String) : [],
        state: 'open',
        state_reason: null,
        comments: [],
      };
      issues.push(issue);
      return { status: 201, body: issueJson(issue) };
    }
    const issue = issues.find((candidate) => String(candidate.number) === repo.number);
    if (!issue) return notFound;
    if (request.path.endsWith('/comments')) {
      if (request.method !== 'POST') return notFound;
      if (typeof body.body !== 'string' || !body.body)
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }],
          },
        };
      issue.comments.push(body.body);
      return { status: 201, body: { id: 5000 + issue.comments.length, body: body.body } };
    }
    if (request.method !== 'PATCH') return notFound;
    if (body.state !== undefined) {
      if (body.state !== 'open' && body.state !== 'closed')
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'Issue', code: 'invalid', field: 'state' }],
          },
        };
      if (
        body.state_reason !== undefined &&
        !['completed', 'not_planned', 'reopened', null].includes(body.state_reason as string)
      )
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'Issue', code: 'invalid', field: 'state_reason' }],
          },
        };
      if (issue.state !== body.state)
        issue.state_reason =
          body.state === 'open' ? 'reopened' : ((body.state_reason as string) ?? 'completed');
      issue.state = body.state;
    }
    return { status: 200, body: issueJson(issue) };
  };

  const server = await startTrackerServer(vendor);
  return {
    ...server,
    issues,
    disableIssues: () => {
      issuesDisabled = true;
    },
  };
}
