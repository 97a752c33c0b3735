// Who is signed in: the access token and what it may do, kept in this tab's session storage only.
// An identity provider (Amazon Cognito) would replace this module: the pages only ask for
// `requestHeaders()` and `canWrite`, never for the token itself.

const STORAGE_KEY = 'faultline.session';

export interface Session {
  /** A project access token: 32 hexadecimal characters. */
  token: string;
  /** The token has the write scope: items may be resolved, muted and re-levelled, rules changed. */
  canWrite: boolean;
}

export function loadSession(): Session | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Session> | null;
    if (saved && typeof saved.token === 'string' && typeof saved.canWrite === 'boolean') {
      return { token: saved.token, canWrite: saved.canWrite };
    }
  } catch {
    // Unreadable storage is no session.
  }
  return undefined;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The token travels in a header, never in a cookie or a URL (URLs end up in logs and histories). */
export function requestHeaders(session: Pick<Session, 'token'>): Record<string, string> {
  return { 'X-Rollbar-Access-Token': session.token };
}
