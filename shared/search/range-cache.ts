// The DynamoDB engine's per-container cache of projects' index: each range's parsed entries kept with
// the version the index had when they were read, so a search reads again only the ranges written
// since. Bounded by the rows it holds, least recently searched project out first.
// Plain logic, no AWS: the engine (`#shared/store/search-index`) reads the versions and the ranges.

interface CachedRange<Row> {
  version: number;
  rows: Row[];
  /** When the rows were read (ms). */
  readAt: number;
}

interface CachedProject<Row> {
  ranges: Map<number, CachedRange<Row>>;
  size: number;
}

/**
 * Rows held per container by default: about 200,000 entries (an item's document, its facets kept as
 * stored until a search needs them), roughly 100 MB (estimated at ≈ 0.5 KB a parsed entry; not
 * measured), well inside the read API's 1,024 MB. Ten 20,000-item projects searched in turn stay warm.
 */
export const DEFAULT_SEARCH_CACHE_ROWS = 200_000;

/**
 * A range is read again after this long even when its version has not moved. The version row is
 * bumped after the rows are written; a bump that fails (a timeout between the two writes) is not
 * made again by the retried batch when its rows are already as it would write them, so without an
 * age a container could keep that range's old rows until the next write to it. This bounds it.
 */
export const MAX_RANGE_AGE_MS = 5 * 60_000;

/** Projects remembered as too big to hold, at most (they are searched without the cache). */
const MAX_TOO_BIG_PROJECTS = 1_000;

export class SearchRangeCache<Row> {
  /** Insertion order is recency: a project used is moved to the end, the first one goes first. */
  private readonly projects = new Map<number, CachedProject<Row>>();
  private readonly tooBig = new Set<number>();
  private held = 0;

  constructor(
    readonly maxRows: number = DEFAULT_SEARCH_CACHE_ROWS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Rows held now, across projects. */
  get size(): number {
    return this.held;
  }

  /** Whether the project's index was once more than the whole cache holds: search it without. */
  isTooBig(projectId: number): boolean {
    return this.tooBig.has(projectId);
  }

  /**
   * The range's rows if they were read at exactly this version of the index, less than
   * `MAX_RANGE_AGE_MS` ago, else undefined.
   */
  get(projectId: number, range: number, version: number): Row[] | undefined {
    const project = this.projects.get(projectId);
    if (!project) return undefined;
    this.touch(projectId, project);
    const cached = project.ranges.get(range);
    if (!cached || cached.version !== version || this.now() - cached.readAt >= MAX_RANGE_AGE_MS)
      return undefined;
    return cached.rows;
  }

  /**
   * Keeps a range's rows read at `version` (read the version BEFORE the rows: a write racing the read
   * then only makes the next search read the range again). Evicts the least recently searched
   * projects past the bound; a project that alone exceeds it is dropped and remembered as too big.
   */
  set(projectId: number, range: number, version: number, rows: Row[]): void {
    if (this.tooBig.has(projectId)) return;
    let project = this.projects.get(projectId);
    if (!project) {
      project = { ranges: new Map(), size: 0 };
      this.projects.set(projectId, project);
    }
    this.touch(projectId, project);
    const previous = project.ranges.get(range);
    project.ranges.set(range, { version, rows, readAt: this.now() });
    const grown = rows.length - (previous?.rows.length ?? 0);
    project.size += grown;
    this.held += grown;
    if (project.size > this.maxRows) {
      // Alone past the bound: dropped, and the others kept.
      this.drop(projectId, project);
      if (this.tooBig.size >= MAX_TOO_BIG_PROJECTS) this.tooBig.clear();
      this.tooBig.add(projectId);
      return;
    }
    for (const [otherId, other] of this.projects) {
      if (this.held <= this.maxRows) break;
      if (otherId !== projectId) this.drop(otherId, other);
    }
  }

  private touch(projectId: number, project: CachedProject<Row>): void {
    this.projects.delete(projectId);
    this.projects.set(projectId, project);
  }

  private drop(projectId: number, project: CachedProject<Row>): void {
    this.projects.delete(projectId);
    this.held -= project.size;
  }
}
