// What managing projects and access tokens refuses, as named classes: the CLI maps each to one line.

/** A request to manage projects or tokens that cannot be carried out as asked; nothing was changed. */
export abstract class ProjectAdminError extends Error {}

export class InvalidProjectNameError extends ProjectAdminError {
  override readonly name = 'InvalidProjectNameError';
}

export class ProjectNameTakenError extends ProjectAdminError {
  override readonly name = 'ProjectNameTakenError';
}

export class ProjectNotFoundError extends ProjectAdminError {
  override readonly name = 'ProjectNotFoundError';
  constructor(projectName: string) {
    super(`no project named ${projectName}`);
  }
}

export class AccessTokenNotFoundError extends ProjectAdminError {
  override readonly name = 'AccessTokenNotFoundError';
}

/** More than one token answers to the name or hash prefix given: revoking a guess is not safe. */
export class AmbiguousAccessTokenError extends ProjectAdminError {
  override readonly name = 'AmbiguousAccessTokenError';
}

/** A rate limit that is not a whole number of calls per minute within the allowed range. */
export class InvalidRateLimitError extends ProjectAdminError {
  override readonly name = 'InvalidRateLimitError';
}
