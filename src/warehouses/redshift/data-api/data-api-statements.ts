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
