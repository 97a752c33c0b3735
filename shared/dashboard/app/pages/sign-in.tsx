// Sign in with a project access token: checked with one read before anything is shown.
import { useState } from 'preact/hooks';
import { ApiError, checkToken } from '../api';
import type { Session } from '../session';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string>();
  const [checking, setChecking] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const trimmed = token.trim();
    if (!/^[0-9a-f]{32}$/i.test(trimmed)) {
      setProblem('An access token is 32 hexadecimal characters, as `faultline project create` printed it.');
      return;
    }
    setChecking(true);
    setProblem(undefined);
    try {
      const { canWrite } = await checkToken(trimmed);
      onSignedIn({ token: trimmed, canWrite });
    } catch (error) {
      setProblem(refusal(error));
    } finally {
      setChecking(false);
    }
  }

  return (
    <main class="sign-in">
      <h1>Faultline</h1>
      <form onSubmit={submit} class="card">
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="muted">
          A project token with the <code>read</code> scope browses; one with <code>read</code> and{' '}
          <code>write</code> may also resolve, mute and re-level items and change notification rules. It is
          kept in this tab only and sent in the <code>X-Rollbar-Access-Token</code> header.
        </p>
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.message.includes('lacks the required scope')) {
      return 'This token cannot read. Sign in with a read token, or create one that reads and writes: npx faultline token create <project> --scope read,write';
    }
    if (error.status === 403) return 'This token is not known (or was revoked).';
    return `The API refused: ${error.message}`;
  }
  return 'The API could not be reached.';
}
