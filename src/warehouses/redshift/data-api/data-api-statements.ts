/**
 * Splits SQL text into statements at top-level semicolons (outside quotes and
 * comments); ExecuteStatement takes exactly one. Backslash escapes inside
 * string literals are honoured, as Redshift reads them.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      i++;
      while (i < n && sql[i] !== c) i += c === "'" && sql[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === ';') {
      out.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  out.push(sql.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== '' && !/^(--[^\n]*\n?|\s|\/\*[\s\S]*?\*\/)*$/.test(s));
}

/**
 * The most SQL text sparkify sends in one statement (ExecuteStatement's `Sql`,
 * each of BatchExecuteStatement's `Sqls`), in UTF-8 bytes. The Data API's
 * documented limit is "100 KB" per statement (Amazon Redshift Management
 * Guide, "Considerations when calling the Amazon Redshift Data API"; the API
 * model itself carries no length on the statement string). Whether a KB is
 * 1,000 or 1,024 bytes there is not said, and whether it counts characters or
 * bytes neither: 100,000 bytes is within every reading.
 */
export const MAX_STATEMENT_BYTES = 100_000;

/**
 * The most statements in one BatchExecuteStatement: its `Sqls` holds 1 to 40
 * (Data API Reference, BatchExecuteStatement, "Array Members: Minimum number
 * of 1 item. Maximum number of 40 items."; the `SqlList` shape's length trait
 * in the service model).
 */
export const MAX_BATCH_STATEMENTS = 40;
