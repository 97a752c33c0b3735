// Any JSON value as a readable tree: objects and arrays fold open, leaves show their value as text.

export function Tree({ value, open = 1 }: { value: unknown; open?: number }) {
  if (value === null || typeof value !== 'object') return <Leaf value={value} />;
  const entries = Array.isArray(value)
    ? value.map((entry, index) => [String(index), entry] as const)
    : Object.entries(value);
  if (entries.length === 0) return <span class="tree-leaf">{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <ul class="tree">
      {entries.map(([key, child]) => (
        <li key={key}>
          {child !== null && typeof child === 'object' && Object.keys(child).length > 0 ? (
            <details open={open > 1}>
              <summary>
                <span class="tree-key">{key}</span>
                <span class="tree-kind">
                  {Array.isArray(child) ? `[${child.length}]` : `{${Object.keys(child).length}}`}
                </span>
              </summary>
              <Tree value={child} open={open - 1} />
            </details>
          ) : (
            <>
              <span class="tree-key">{key}</span> <Tree value={child} />
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function Leaf({ value }: { value: unknown }) {
  if (typeof value === 'string') return <span class="tree-leaf tree-string">{value}</span>;
  return <span class="tree-leaf">{value === undefined ? 'undefined' : JSON.stringify(value)}</span>;
}
