// A ONCE Campfire room's bot endpoint as its source has it: POST the message as the raw body to
// /rooms/{room_id}/{bot_key}/messages; 201 Created with the message's Location; an unknown room or
// bot key 404. Campfire stores the body as rich text (HTML), so the receiver records it as sent.
import { startVendorServer, type VendorServer } from './vendor-server';

export const CAMPFIRE_BOT_PATH = '/rooms/7/42-botKeyPartOfTheUrl/messages';

export interface CampfireRoom extends VendorServer {
  url: string;
}

export async function startCampfireRoom(): Promise<CampfireRoom> {
  let message = 100;
  const server = await startVendorServer({
    check(request) {
      if (request.method !== 'POST' || request.path !== CAMPFIRE_BOT_PATH) return { status: 404 };
      if (request.body.trim() === '') return { status: 422, body: 'body is empty' };
      return undefined;
    },
    success() {
      message += 1;
      return { status: 201, headers: { location: `${server.origin}/rooms/7/@${message}` } };
    },
  });
  return { ...server, url: `${server.origin}${CAMPFIRE_BOT_PATH}` };
}
