// The dashboard's entry: sign in, then the pages of the signed-in app under one navigation bar.
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { createApi } from './api';
import { App } from './context';
import { DeploysPage } from './pages/deploys';
import { ItemPage } from './pages/item';
import { ItemsPage } from './pages/items';
import { NotificationsPage } from './pages/notifications';
import { OperationsPage } from './pages/operations';
import { SignIn } from './pages/sign-in';
import { onLinkClick, type Route, useRoute } from './router';
import { clearSession, loadSession, type Session, saveSession } from './session';

function Dashboard() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const route = useRoute();
  const signOut = () => {
    clearSession();
    setSession(undefined);
  };
  const app = useMemo(
    () => (session ? { api: createApi(session, signOut), canWrite: session.canWrite, signOut } : undefined),
    // signOut only closes over setters: the session alone decides.
    [session],
  );

  if (!app) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          saveSession(signedIn);
          setSession(signedIn);
        }}
      />
    );
  }
  return (
    <App.Provider value={app}>
      <header class="top">
        <a href="/items" class="brand">
          Faultline
        </a>
        <nav aria-label="Pages">
          <a
            href="/items"
            aria-current={route.page === 'items' || route.page === 'item' ? 'page' : undefined}
          >
            Items
          </a>
          <a href="/deploys" aria-current={route.page === 'deploys' ? 'page' : undefined}>
            Deploys
          </a>
          <a href="/notifications" aria-current={route.page === 'notifications' ? 'page' : undefined}>
            Notifications
          </a>
          <a href="/operations" aria-current={route.page === 'operations' ? 'page' : undefined}>
            Operations
          </a>
        </nav>
        <span class="who">
          <span class="badge" title="What this token may do">
            {app.canWrite ? 'read & write' : 'read only'}
          </span>
          <button type="button" class="link-button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <Page route={route} />
    </App.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'items':
      return <ItemsPage />;
    case 'item':
      return <ItemPage key={route.counter} counter={route.counter} occurrence={route.occurrence} />;
    case 'deploys':
      return <DeploysPage />;
    case 'operations':
      return <OperationsPage />;
    case 'notifications':
      return <NotificationsPage />;
    default:
      return (
        <main>
          <h1>Not found</h1>
          <a href="/items">Back to the items</a>
        </main>
      );
  }
}

document.addEventListener('click', onLinkClick);
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<Dashboard />, root);
}
