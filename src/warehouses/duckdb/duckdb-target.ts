/** DuckDB, embedded: a file, or `:memory:` for a throw-away run. */
export interface DuckDBTarget {
  kind: 'duckdb';
  /** An absolute file path, or `:memory:`. */
  path: string;
}

/** The file sparkify builds when no warehouse is named. */
export const DEFAULT_DUCKDB_FILE = 'sparkify.duckdb';

/** `DuckDB /home/you/sparkify.duckdb`: the one description of a DuckDB target, safe to print. */
export function describeDuckDB(path: string): string {
  return `DuckDB ${path}`;
}
