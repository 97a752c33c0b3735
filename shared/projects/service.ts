// Projects and access tokens: creating them, and checking a request's token and scope.

import type { GroupingVersion } from '#shared/domain/fingerprint';
import { AccessDeniedError, MissingTokenError } from '#shared/errors';
import type { Project, ProjectRepository } from '#shared/store/projects';
import { generateAccessToken, hashAccessToken, SCOPES, type Scope } from './access-tokens';

export interface ProjectServiceDeps {
  projects: ProjectRepository;
  now?: () => number;
  /** How long a container trusts a token it has looked up; revocation takes at most this long. */
  tokenCacheMs?: number;
}

export interface AuthorizedProject {
  project: Project;
  scopes: Scope[];
}

export type ProjectService = ReturnType<typeof createProjectService>;

export function createProjectService(deps: ProjectServiceDeps) {
  const now = deps.now ?? Date.now;
  const tokenCacheMs = deps.tokenCacheMs ?? 60_000;
  const cache = new Map<string, { value: AuthorizedProject | undefined; expires: number }>();

  async function createAccessToken(projectId: number, scopes: Scope[], name: string): Promise<string> {
    const token = generateAccessToken();
    await deps.projects.putAccessToken({
      tokenHash: hashAccessToken(token),
      projectId,
      scopes,
      name,
      createdAt: now(),
    });
    return token;
  }

  /** A new project with one token per scope, as Rollbar creates them. */
  async function createProject(input: {
    name: string;
    groupingVersion?: GroupingVersion;
  }): Promise<{ project: Project; tokens: Record<Scope, string> }> {
    const project = await deps.projects.createProject({
      name: input.name,
      groupingVersion: input.groupingVersion ?? 2,
      now: now(),
    });
    const tokens = {} as Record<Scope, string>;
    for (const scope of SCOPES) tokens[scope] = await createAccessToken(project.projectId, [scope], scope);
    return { project, tokens };
  }

  async function lookUp(token: string): Promise<AuthorizedProject | undefined> {
    const cached = cache.get(token);
    if (cached && cached.expires > now()) return cached.value;
    const record = await deps.projects.findAccessToken(hashAccessToken(token));
    const project = record ? await deps.projects.getProject(record.projectId) : undefined;
    const value = record && project ? { project, scopes: record.scopes } : undefined;
    cache.set(token, { value, expires: now() + tokenCacheMs });
    return value;
  }

  /** The token's project, when the token grants one of `anyOf`; otherwise a client error. */
  async function authorize(token: string | undefined, anyOf: readonly Scope[]): Promise<AuthorizedProject> {
    if (!token) throw new MissingTokenError();
    if (!/^[0-9a-f]{32}$/i.test(token)) throw new AccessDeniedError('invalid access token');
    const authorized = await lookUp(token.toLowerCase());
    if (!authorized) throw new AccessDeniedError('invalid access token');
    if (!authorized.scopes.some((scope) => anyOf.includes(scope))) {
      throw new AccessDeniedError(`access token lacks the required scope (${anyOf.join(' or ')})`);
    }
    return authorized;
  }

  return {
    createProject,
    createAccessToken,
    authorize,
    findProjectByName: (name: string) => deps.projects.findProjectByName(name),
    setGroupingVersion: (projectId: number, version: GroupingVersion) =>
      deps.projects.setGroupingVersion(projectId, version),
    listAccessTokens: (projectId: number) => deps.projects.listAccessTokens(projectId),
  };
}
