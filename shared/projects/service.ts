// Projects and access tokens: creating, listing and revoking them, and checking a request's token and scope.

import type { GroupingVersion } from '#shared/domain/fingerprint';
import { AccessDeniedError, MissingTokenError } from '#shared/errors';
import { effectiveRateLimit, isValidRateLimit, MAX_RATE_LIMIT_PER_MINUTE } from '#shared/rate-limits/limits';
import type { AccessTokenRecord, Project, ProjectRepository } from '#shared/store/projects';
import { generateAccessToken, hashAccessToken, SCOPES, type Scope } from './access-tokens';
import {
  AccessTokenNotFoundError,
  AmbiguousAccessTokenError,
  InvalidRateLimitError,
  ProjectNotFoundError,
} from './errors';
import { checkProjectName } from './project-names';
import { ExpiringLru } from './token-cache';

/** How long a container trusts a token it has looked up: a revoked token works at most this long. */
export const TOKEN_CACHE_MS = 60_000;
/** How long a container remembers that a token is unknown: a repeated bad token costs a read this often. */
export const UNKNOWN_TOKEN_CACHE_MS = 5_000;

/** The shortest hash prefix that can name a token to revoke (as short as git's abbreviations). */
export const MIN_TOKEN_HASH_PREFIX = 4;

export interface ProjectServiceDeps {
  projects: ProjectRepository;
  now?: () => number;
  /** How long a container trusts a token it has looked up; revocation takes at most this long. */
  tokenCacheMs?: number;
  /** How long a container remembers that a token is unknown. */
  unknownTokenCacheMs?: number;
  /** How many known tokens a container remembers; the least recently used are forgotten first. */
  tokenCacheSize?: number;
  /** How many unknown tokens a container remembers: small, as a flood of random tokens fills it. */
  unknownTokenCacheSize?: number;
}

export interface AuthorizedProject {
  project: Project;
  scopes: Scope[];
  /** The token's SHA-256: what its rate limit is counted by. */
  tokenHash: string;
  /** Calls per minute the token may make: its own limit, else its project's, else the default. */
  rateLimitPerMinute: number;
}

/** A limit as given to be stored: 0 (or undefined) removes it, anything else is whole calls per minute. */
function checkRateLimit(perMinute: number | undefined): number | undefined {
  if (perMinute === undefined) return undefined;
  if (!isValidRateLimit(perMinute)) {
    throw new InvalidRateLimitError(
      `a rate limit is a whole number of calls per minute, 1 to ${MAX_RATE_LIMIT_PER_MINUTE} (0 or default: not set)`,
    );
  }
  return perMinute === 0 ? undefined : perMinute;
}

export type ProjectService = ReturnType<typeof createProjectService>;

export function createProjectService(deps: ProjectServiceDeps) {
  const now = deps.now ?? Date.now;
  const tokenCacheMs = deps.tokenCacheMs ?? TOKEN_CACHE_MS;
  const unknownTokenCacheMs = deps.unknownTokenCacheMs ?? UNKNOWN_TOKEN_CACHE_MS;
  // Keyed by the token's hash, never the token: a heap dump of a container shows no token.
  const knownTokens = new ExpiringLru<AuthorizedProject>(deps.tokenCacheSize ?? 10_000);
  const unknownTokens = new ExpiringLru<true>(deps.unknownTokenCacheSize ?? 1_000);
  // Concurrent requests with the same token share one lookup; settled lookups leave the map.
  const lookups = new Map<string, Promise<AuthorizedProject | undefined>>();

  async function createAccessToken(
    projectId: number,
    scopes: Scope[],
    name: string,
    rateLimitPerMinute?: number,
  ): Promise<string> {
    const limit = checkRateLimit(rateLimitPerMinute);
    const token = generateAccessToken();
    const tokenHash = hashAccessToken(token);
    await deps.projects.putAccessToken({
      tokenHash,
      projectId,
      scopes,
      name,
      createdAt: now(),
      ...(limit ? { rateLimitPerMinute: limit } : {}),
    });
    unknownTokens.delete(tokenHash);
    return token;
  }

  /** A new project with one token per scope, as Rollbar creates them. */
  async function createProject(input: {
    name: string;
    groupingVersion?: GroupingVersion;
  }): Promise<{ project: Project; tokens: Record<Scope, string> }> {
    const project = await deps.projects.createProject({
      name: checkProjectName(input.name),
      groupingVersion: input.groupingVersion ?? 2,
      now: now(),
    });
    const tokens = {} as Record<Scope, string>;
    for (const scope of SCOPES) tokens[scope] = await createAccessToken(project.projectId, [scope], scope);
    return { project, tokens };
  }

  async function projectNamed(name: string): Promise<Project> {
    const project = await deps.projects.findProjectByName(name);
    if (!project) throw new ProjectNotFoundError(name);
    return project;
  }

  /**
   * The project's token with this name, or whose SHA-256 starts with this prefix. A name or prefix
   * that several tokens answer to is refused, so a guess never changes or revokes the wrong token.
   */
  async function tokenNamed(
    projectName: string,
    nameOrHashPrefix: string,
  ): Promise<{ project: Project; token: AccessTokenRecord }> {
    const project = await projectNamed(projectName);
    const tokens = await deps.projects.listAccessTokens(project.projectId);
    const named = tokens.filter((token) => token.name === nameOrHashPrefix);
    const prefix = nameOrHashPrefix.toLowerCase();
    const matching =
      named.length > 0
        ? named
        : /^[0-9a-f]+$/.test(prefix) && prefix.length >= MIN_TOKEN_HASH_PREFIX
          ? tokens.filter((token) => token.tokenHash.startsWith(prefix))
          : [];
    const [token, ...others] = matching;
    if (!token) {
      throw new AccessTokenNotFoundError(
        `project ${projectName} has no token named ${nameOrHashPrefix} or whose sha256 starts with it` +
          ` (hash prefixes have at least ${MIN_TOKEN_HASH_PREFIX} hex digits)`,
      );
    }
    if (others.length > 0) {
      const hashes = matching.map((match) => `${match.tokenHash.slice(0, 12)}…`).join(', ');
      throw new AmbiguousAccessTokenError(
        `${matching.length} tokens of project ${projectName} match ${nameOrHashPrefix} (${hashes}): name one by a longer sha256 prefix`,
      );
    }
    return { project, token };
  }

  /**
   * Revokes the project's token with this name, or whose SHA-256 starts with this prefix.
   * Other containers stop accepting the token once their cache of it expires (`TOKEN_CACHE_MS`).
   */
  async function revokeAccessToken(
    projectName: string,
    nameOrHashPrefix: string,
  ): Promise<AccessTokenRecord> {
    const { project, token } = await tokenNamed(projectName, nameOrHashPrefix);
    await deps.projects.deleteAccessToken(project.projectId, token.tokenHash);
    knownTokens.delete(token.tokenHash);
    return token;
  }

  /**
   * Sets the calls per minute every token of the project may make unless it sets its own (0 or
   * undefined: back to the default). Ingest containers apply it within `TOKEN_CACHE_MS`.
   */
  async function setProjectRateLimit(projectName: string, perMinute: number | undefined): Promise<Project> {
    const limit = checkRateLimit(perMinute);
    const project = await projectNamed(projectName);
    if (!(await deps.projects.setProjectRateLimit(project.projectId, limit))) {
      throw new ProjectNotFoundError(projectName);
    }
    const { rateLimitPerMinute: _previous, ...rest } = project;
    return limit ? { ...rest, rateLimitPerMinute: limit } : rest;
  }

  /** Sets the calls per minute this token may make (0 or undefined: its project's limit again). */
  async function setAccessTokenRateLimit(
    projectName: string,
    nameOrHashPrefix: string,
    perMinute: number | undefined,
  ): Promise<{ project: Project; token: AccessTokenRecord }> {
    const limit = checkRateLimit(perMinute);
    const { project, token } = await tokenNamed(projectName, nameOrHashPrefix);
    if (!(await deps.projects.setAccessTokenRateLimit(project.projectId, token.tokenHash, limit))) {
      throw new AccessTokenNotFoundError(
        `the token ${nameOrHashPrefix} of project ${projectName} was revoked`,
      );
    }
    knownTokens.delete(token.tokenHash);
    const { rateLimitPerMinute: _previous, ...rest } = token;
    return { project, token: limit ? { ...rest, rateLimitPerMinute: limit } : rest };
  }

  async function readAccessToken(tokenHash: string): Promise<AuthorizedProject | undefined> {
    const record = await deps.projects.findAccessToken(tokenHash);
    const project = record ? await deps.projects.getProject(record.projectId) : undefined;
    if (record && project) {
      const authorized: AuthorizedProject = {
        project,
        scopes: record.scopes,
        tokenHash,
        rateLimitPerMinute: effectiveRateLimit(record.rateLimitPerMinute, project.rateLimitPerMinute)
          .perMinute,
      };
      knownTokens.set(tokenHash, authorized, now() + tokenCacheMs);
      return authorized;
    }
    unknownTokens.set(tokenHash, true, now() + unknownTokenCacheMs);
    return undefined;
  }

  /**
   * At most one read per token per cache time. Each different unknown token costs one read (there
   * is nothing to remember it by before reading it), but none stays in memory past the small
   * bound of the unknown tokens' cache.
   */
  async function lookUp(tokenHash: string): Promise<AuthorizedProject | undefined> {
    const known = knownTokens.get(tokenHash, now());
    if (known) return known;
    if (unknownTokens.get(tokenHash, now())) return undefined;
    const pending = lookups.get(tokenHash);
    if (pending) return pending;
    const lookup = readAccessToken(tokenHash).finally(() => lookups.delete(tokenHash));
    lookups.set(tokenHash, lookup);
    return lookup;
  }

  /** The token's project, when the token grants one of `anyOf`; otherwise a client error. */
  async function authorize(token: string | undefined, anyOf: readonly Scope[]): Promise<AuthorizedProject> {
    if (!token) throw new MissingTokenError();
    if (!/^[0-9a-f]{32}$/i.test(token)) throw new AccessDeniedError('invalid access token');
    const authorized = await lookUp(hashAccessToken(token.toLowerCase()));
    if (!authorized) throw new AccessDeniedError('invalid access token');
    if (!authorized.scopes.some((scope) => anyOf.includes(scope))) {
      throw new AccessDeniedError(`access token lacks the required scope (${anyOf.join(' or ')})`);
    }
    return authorized;
  }

  return {
    createProject,
    createAccessToken,
    revokeAccessToken,
    setProjectRateLimit,
    setAccessTokenRateLimit,
    authorize,
    findProjectByName: (name: string) => deps.projects.findProjectByName(name),
    /** The project with this name, or `ProjectNotFoundError`. */
    projectNamed,
    listProjects: () => deps.projects.listProjects(),
    setGroupingVersion: (projectId: number, version: GroupingVersion) =>
      deps.projects.setGroupingVersion(projectId, version),
    listAccessTokens: (projectId: number) => deps.projects.listAccessTokens(projectId),
  };
}
