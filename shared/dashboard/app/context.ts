// What every page reads: the API bound to the session, and whether the token may change things.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api';

export interface AppContext {
  api: Api;
  canWrite: boolean;
  signOut(): void;
}

export const App = createContext<AppContext | undefined>(undefined);

export function useApp(): AppContext {
  const app = useContext(App);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
}
