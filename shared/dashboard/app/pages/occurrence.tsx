// One occurrence in full: its error (exception chain and frames) or message, then the request,
// person, server, client and custom data as trees, and the raw JSON.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Instance } from '../api';
import { StackTraces, tracesOf } from '../components/stack-trace';
import { Tree } from '../components/tree';
import { useApp } from '../context';
import { dateTime } from '../format';

const SECTIONS = ['request', 'person', 'server', 'client', 'custom'] as const;

export function Occurrence({ uuid, onMissing }: { uuid: string; onMissing: () => void }) {
  const { api } = useApp();
  const [instance, setInstance] = useState<Instance>();
  const [problem, setProblem] = useState<string>();
  // The latest callback, without fetching again each time the parent renders a new one.
  const missing = useRef(onMissing);
  missing.current = onMissing;

  useEffect(() => {
    api.get<Instance>(`/api/1/instance/${uuid}`).then(setInstance, (error: unknown) => {
      if (error instanceof ApiError && (error.status === 404 || error.status === 422)) missing.current();
      else setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.');
    });
  }, [api, uuid]);

  if (problem) return <p class="error">{problem}</p>;
  if (!instance) return <p class="muted">Loading the occurrence…</p>;
  const data = instance.data;
  const body = data.body as Record<string, unknown> | undefined;
  const traces = tracesOf(body);
  const message = (body?.message as { body?: unknown } | undefined)?.body;

  return (
    <section class="occurrence" aria-labelledby="occurrence-title">
      <h2 id="occurrence-title">
        Occurrence <code>{instance.uuid}</code>
      </h2>
      <p class="muted">
        {dateTime(instance.timestamp)}
        {instance.version ? ` · version ${instance.version}` : ''}
        {instance.truncated ? ' · truncated when stored' : ''}
      </p>
      {traces.length > 0 ? (
        <>
          <h3 class="section-title">Stack trace</h3>
          <StackTraces traces={traces} />
        </>
      ) : message !== undefined ? (
        <>
          <h3 class="section-title">Message</h3>
          <pre class="message">
            {typeof message === 'string' ? message : JSON.stringify(message, null, 2)}
          </pre>
        </>
      ) : body?.crash_report ? (
        <>
          <h3 class="section-title">Crash report</h3>
          <pre class="message">{String((body.crash_report as { raw?: unknown }).raw ?? '')}</pre>
        </>
      ) : null}
      {SECTIONS.filter((section) => data[section] !== undefined).map((section) => (
        <details key={section} class="data-section" open={section === 'request'}>
          <summary>{section[0]!.toUpperCase() + section.slice(1)}</summary>
          <Tree value={data[section]} open={2} />
        </details>
      ))}
      <details class="data-section raw">
        <summary>Raw JSON</summary>
        <pre class="raw-json">{JSON.stringify(instance, null, 2)}</pre>
      </details>
    </section>
  );
}
