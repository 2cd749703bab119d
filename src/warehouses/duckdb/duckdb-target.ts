/** DuckDB, embedded: a file, or `:memory:` for a throw-away run. */
export interface DuckDBTarget {
  kind: 'duckdb';
  /** An absolute file path, or `:memory:`. */
  path: string;
  /** The most memory DuckDB may hold (its `memory_limit`, e.g. `2GB`); beyond it, it spills to `tempDirectory`. */
  memoryLimit?: string;
  /** Where DuckDB spills (`temp_directory`); by default `<file>.tmp` beside the database, or TMPDIR in memory. */
  tempDirectory?: string;
}

/**
 * DuckDB's default memory limit, when none is configured: enough for the
 * transform's sorts of tens of millions of plays to run mostly in memory, and
 * low enough for a laptop; DuckDB spills what does not fit.
 */
export const DEFAULT_MEMORY_LIMIT = '2GB';

/** The file sparkify builds when no warehouse is named. */
export const DEFAULT_DUCKDB_FILE = 'sparkify.duckdb';

/** `DuckDB /home/you/sparkify.duckdb`: the one description of a DuckDB target, safe to print. */
export function describeDuckDB(path: string): string {
  return `DuckDB ${path}`;
}
