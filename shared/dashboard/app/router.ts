// The dashboard's pages by path (the serving function answers the page at each of them): links
// change the path without reloading, and the back button works.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'items' }
  | { page: 'item'; counter: number; occurrence: string | undefined }
  | { page: 'deploys' }
  | { page: 'notifications' }
  | { page: 'operations' }
  | { page: 'not-found' };

export function routeOf(location: { pathname: string; search: string }): Route {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/items') return { page: 'items' };
  if (path === '/deploys') return { page: 'deploys' };
  if (path === '/notifications') return { page: 'notifications' };
  if (path === '/operations') return { page: 'operations' };
  const item = /^\/items\/(\d{1,15})$/.exec(path);
  if (item) {
    const occurrence = new URLSearchParams(location.search).get('occurrence') ?? undefined;
    return { page: 'item', counter: Number(item[1]), occurrence };
  }
  return { page: 'not-found' };
}

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
  if (!options.replace) scrollTo(0, 0);
}

/** The current route; re-renders on links, back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location));
  useEffect(() => {
    const update = () => setRoute(routeOf(location));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** Same-origin links open in place; a modified click (new tab) is left to the browser. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
    return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || anchor.target || anchor.origin !== location.origin || anchor.hasAttribute('download'))
    return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
