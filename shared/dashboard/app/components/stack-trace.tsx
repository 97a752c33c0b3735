// An occurrence's error as Rollbar's payload carries it: the exception chain, each with its frames,
// most recent call first; the app's own frames open with their code, library frames folded away.

export interface Frame {
  filename?: string;
  lineno?: number;
  colno?: number;
  method?: string;
  code?: string;
  context?: { pre?: string[]; post?: string[] };
}

export interface Trace {
  frames?: Frame[];
  exception?: { class?: string; message?: string; description?: string };
}

/** Frames from dependencies, the runtime or generated code: folded so the app's frames stand out. */
const LIBRARY_FRAME =
  /(^|[/\\])(node_modules|site-packages|dist-packages|vendor|gems|bower_components)[/\\]|^(node|internal)[:/]|^<anonymous>$|^native$|webpack\/bootstrap/;

export function isLibraryFrame(frame: Frame): boolean {
  return LIBRARY_FRAME.test(frame.filename ?? '');
}

/** The traces of a payload body: a chain (most recent first, then its causes), one trace, or none. */
export function tracesOf(body: Record<string, unknown> | undefined): Trace[] {
  if (!body) return [];
  if (Array.isArray(body.trace_chain)) return body.trace_chain as Trace[];
  if (body.trace && typeof body.trace === 'object') return [body.trace as Trace];
  return [];
}

export function StackTraces({ traces }: { traces: Trace[] }) {
  return (
    <div class="traces">
      {traces.map((trace, index) => (
        <section key={index} class="trace">
          <h3 class="exception">
            {index > 0 && <span class="caused-by">Caused by </span>}
            <span class="exception-class">{trace.exception?.class ?? 'Error'}</span>
            {trace.exception?.message ? (
              <span class="exception-message">: {trace.exception.message}</span>
            ) : null}
          </h3>
          {trace.exception?.description && <p class="exception-description">{trace.exception.description}</p>}
          <Frames frames={[...(trace.frames ?? [])].reverse()} />
        </section>
      ))}
    </div>
  );
}

/** Runs of library frames fold into one line; the first of the app's frames shows its code. */
function Frames({ frames }: { frames: Frame[] }) {
  const groups: Array<{ library: boolean; frames: Array<{ frame: Frame; index: number }> }> = [];
  frames.forEach((frame, index) => {
    const library = isLibraryFrame(frame);
    const group = groups[groups.length - 1];
    if (group && group.library === library) group.frames.push({ frame, index });
    else groups.push({ library, frames: [{ frame, index }] });
  });
  const firstApp = frames.findIndex((frame) => !isLibraryFrame(frame));
  if (frames.length === 0) return <p class="muted">No frames were sent.</p>;
  return (
    <ol class="frames">
      {groups.map((group) =>
        group.library ? (
          <li key={`lib-${group.frames[0]!.index}`} class="frame-group library">
            <details>
              <summary>
                {group.frames.length} library frame{group.frames.length === 1 ? '' : 's'}
              </summary>
              <ol class="frames">
                {group.frames.map(({ frame, index }) => (
                  <FrameLine key={index} frame={frame} open={false} />
                ))}
              </ol>
            </details>
          </li>
        ) : (
          group.frames.map(({ frame, index }) => (
            <FrameLine key={index} frame={frame} open={index === firstApp} />
          ))
        ),
      )}
    </ol>
  );
}

function FrameLine({ frame, open }: { frame: Frame; open: boolean }) {
  const where = (
    <>
      <span class="frame-file">{frame.filename ?? '(unknown file)'}</span>
      {frame.lineno !== undefined && <span class="frame-line">:{frame.lineno}</span>}
      {frame.colno !== undefined && <span class="frame-line">:{frame.colno}</span>}
      {frame.method && <span class="frame-method"> in {frame.method}</span>}
    </>
  );
  const hasCode =
    frame.code !== undefined || (frame.context?.pre?.length ?? 0) + (frame.context?.post?.length ?? 0) > 0;
  if (!hasCode) return <li class="frame">{where}</li>;
  const pre = frame.context?.pre ?? [];
  const post = frame.context?.post ?? [];
  const firstLine = frame.lineno !== undefined ? frame.lineno - pre.length : undefined;
  const lines = [...pre, frame.code ?? '', ...post];
  return (
    <li class="frame">
      <details open={open}>
        <summary>{where}</summary>
        <pre class="code">
          {lines.map((line, offset) => (
            <code
              key={offset}
              class={offset === pre.length ? 'code-line current' : 'code-line'}
              data-line={firstLine === undefined ? undefined : firstLine + offset}
            >
              {line}
              {'\n'}
            </code>
          ))}
        </pre>
      </details>
    </li>
  );
}
