// A local PagerDuty Events API v2: checks events as PagerDuty documents them (a 32-character
// routing key, the event action, a dedup_key of at most 255 characters, a trigger's summary,
// source and severity) and keeps alerts by dedup_key: triggers on an open alert fold into it, a
// resolve resolves it, a trigger after a resolve opens a new one.
import {
  isObject,
  type RecordedRequest,
  startTrackerServer,
  type TrackerServer,
  type VendorAnswer,
} from './tracker-server';

export interface PagerDutyAlert {
  dedup_key: string;
  status: 'triggered' | 'resolved';
  summary: string;
  severity: string;
  /** Trigger events folded into this alert. */
  triggers: number;
}

export interface PagerDutyServer extends TrackerServer {
  /** Every alert opened, oldest first (a key resolved then triggered again has two). */
  alerts: PagerDutyAlert[];
  openAlert(dedupKey: string): PagerDutyAlert | undefined;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

const invalid = (...errors: string[]): VendorAnswer => ({
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors },
});

export async function startPagerDuty(): Promise<PagerDutyServer> {
  const alerts: PagerDutyAlert[] = [];
  const openAlert = (key: string) =>
    alerts.find((alert) => alert.dedup_key === key && alert.status === 'triggered');

  const vendor = (request: RecordedRequest): VendorAnswer => {
    if (request.method !== 'POST' || request.path !== '/v2/enqueue')
      return { status: 404, body: 'Not Found' };
    const event = request.json;
    if (!isObject(event))
      return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid' } };
    const errors: string[] = [];
    if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32)
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(event.event_action)))
      errors.push(
        "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
      );
    if (
      event.dedup_key !== undefined &&
      (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)
    )
      errors.push("'dedup_key' must be a string of at most 255 characters");
    if (event.event_action !== 'trigger' && typeof event.dedup_key !== 'string')
      errors.push("'dedup_key' is required for acknowledge and resolve events");
    const payload = event.payload;
    if (event.event_action === 'trigger') {
      if (!isObject(payload)) errors.push("'payload' is missing or blank");
      else {
        if (typeof payload.summary !== 'string' || !payload.summary)
          errors.push("'payload.summary' is missing or blank");
        else if (payload.summary.length > 1024) errors.push("'payload.summary' is too long (max 1024)");
        if (typeof payload.source !== 'string' || !payload.source)
          errors.push("'payload.source' is missing or blank");
        if (!SEVERITIES.includes(String(payload.severity)))
          errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
      }
    }
    if (errors.length) return invalid(...errors);

    const dedupKey = typeof event.dedup_key === 'string' ? event.dedup_key : crypto.randomUUID();
    const open = openAlert(dedupKey);
    if (event.event_action === 'trigger' && isObject(payload)) {
      if (open) open.triggers += 1;
      else
        alerts.push({
          dedup_key: dedupKey,
          status: 'triggered',
          summary: String(payload.summary),
          severity: String(payload.severity),
          triggers: 1,
        });
    }
    // A resolve (or acknowledge) of a key with no open alert is accepted and dropped, as PagerDuty does.
    if (event.event_action === 'resolve' && open) open.status = 'resolved';
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  };

  const server = await startTrackerServer(vendor);
  return { ...server, alerts, openAlert };
}
