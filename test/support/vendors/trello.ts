// A local Trello REST API: checks the key and token in the query string (401 "invalid key" /
// "invalid token" in plain text, as Trello answers), a known idList and the card's name; keeps
// cards with their list, position and comments.
import {
  isObject,
  type RecordedRequest,
  route,
  startTrackerServer,
  type TrackerServer,
  type VendorAnswer,
} from './tracker-server';

export interface TrelloCard {
  id: string;
  idList: string;
  name: string;
  desc: string;
  pos: unknown;
  comments: string[];
}

export interface TrelloServer extends TrackerServer {
  cards: TrelloCard[];
}

export async function startTrello(options: {
  key: string;
  token: string;
  listId: string;
}): Promise<TrelloServer> {
  const cards: TrelloCard[] = [];

  const vendor = (request: RecordedRequest): VendorAnswer => {
    if (request.query.key !== options.key) return { status: 401, body: 'invalid key' };
    if (request.query.token !== options.token) return { status: 401, body: 'invalid token' };
    const body = isObject(request.json) ? request.json : {};
    // Trello reads parameters from the query string or the body alike.
    const param = (name: string) => body[name] ?? request.query[name];
    if (request.method === 'POST' && request.path === '/1/cards') {
      if (param('idList') !== options.listId) return { status: 400, body: 'invalid value for idList' };
      const name = param('name');
      if (name !== undefined && typeof name !== 'string')
        return { status: 400, body: 'invalid value for name' };
      const card: TrelloCard = {
        id: (0x5f00000000 + cards.length + 1).toString(16).padStart(24, '0'),
        idList: options.listId,
        name: name ?? '',
        desc: String(param('desc') ?? ''),
        pos: param('pos'),
        comments: [],
      };
      cards.push(card);
      return {
        status: 200,
        body: {
          id: card.id,
          name: card.name,
          desc: card.desc,
          idList: card.idList,
          shortUrl: `https://trello.test/c/${card.id}`,
        },
      };
    }
    const commentOn = route(request.path, '/1/cards/:id/actions/comments');
    if (request.method === 'POST' && commentOn) {
      const card = cards.find((candidate) => candidate.id === commentOn.id);
      if (!card) return { status: 404, body: 'The requested resource was not found.' };
      const text = param('text');
      if (typeof text !== 'string' || !text) return { status: 400, body: 'invalid value for text' };
      card.comments.push(text);
      return {
        status: 200,
        body: { id: `a${card.comments.length}`, type: 'commentCard', data: { text, card: { id: card.id } } },
      };
    }
    return { status: 404, body: 'Cannot POST' };
  };

  const server = await startTrackerServer(vendor);
  return { ...server, cards };
}
