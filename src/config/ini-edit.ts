/**
 * A line editor for INI files: sets a few keys and leaves every other byte
 * alone (comments, blank lines, order, other sections, key case, `=` spacing,
 * quotes around values, CRLF). A parse-and-serialize round trip would lose
 * comments and reformat the course's `dwh.cfg`, so we edit lines instead.
 */

/** section → key → new value. Names match case-insensitively. */
export type IniUpdates = Record<string, Record<string, string>>;

export interface IniEditResult {
  text: string;
  /** `[CLUSTER] HOST` for every key whose value changed or was added. */
  changed: string[];
}

const SECTION = /^\s*\[([^\]]*)\]\s*(?:[;#].*)?$/;
const BLANK_OR_COMMENT = /^\s*(?:[;#].*)?$/;
const KEY_VALUE = /^(\s*)([^=:\s;#[][^=:]*?)(\s*[=:]\s*)(.*?)(\s*)$/;

/**
 * Sets `updates` in `text`: replaces values in place, adds missing keys at
 * the end of their section, and missing sections at the end of the file.
 *
 * @example
 *   setIniValues('[CLUSTER]\nHOST=\'\'\n', { CLUSTER: { HOST: 'x.redshift.amazonaws.com' } }).text
 *   // "[CLUSTER]\nHOST='x.redshift.amazonaws.com'\n"
 */
export function setIniValues(text: string, updates: IniUpdates): IniEditResult {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.split(/\r?\n/);
  const hadFinalNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (hadFinalNewline) lines.pop();

  const wanted = new Map<string, Map<string, { key: string; value: string }>>();
  for (const [section, keys] of Object.entries(updates)) {
    const m = new Map<string, { key: string; value: string }>();
    for (const [key, value] of Object.entries(keys)) {
      if (/[\r\n]/.test(value)) throw new Error(`INI value for [${section}] ${key} may not contain a line break`);
      m.set(key.toUpperCase(), { key, value });
    }
    wanted.set(section.toUpperCase(), m);
  }

  const changed: string[] = [];
  const found = new Set<string>();
  /** Index of the last line belonging to each section (header or key). */
  const sectionEnd = new Map<string, number>();
  let section: string | undefined;
  let separator: string | undefined;
  lines.forEach((line, i) => {
    const header = SECTION.exec(line);
    if (header) {
      section = header[1]!.trim().toUpperCase();
      sectionEnd.set(section, i);
      return;
    }
    if (BLANK_OR_COMMENT.test(line)) return;
    const kv = KEY_VALUE.exec(line);
    if (!kv || section === undefined) return;
    const [, indent, key, sep, oldValue, trailing] = kv as unknown as [string, string, string, string, string, string];
    separator ??= sep;
    sectionEnd.set(section, i);
    const want = wanted.get(section)?.get(key.trim().toUpperCase());
    if (!want) return;
    found.add(`${section}\0${key.trim().toUpperCase()}`);
    const next = `${indent}${key}${sep}${requote(oldValue, want.value)}${trailing}`;
    if (next !== line) {
      lines[i] = next;
      changed.push(`[${section}] ${key.trim()}`);
    }
  });

  const sep = separator ?? '=';
  const inserts: { at: number; lines: string[] }[] = [];
  const appended: string[] = [];
  for (const [sectionName, keys] of wanted) {
    const missing = [...keys.entries()].filter(([k]) => !found.has(`${sectionName}\0${k}`)).map(([, v]) => v);
    if (missing.length === 0) continue;
    const end = sectionEnd.get(sectionName);
    const newLines = missing.map((m) => `${m.key}${sep}${m.value}`);
    for (const m of missing) changed.push(`[${sectionName}] ${m.key}`);
    if (end !== undefined) inserts.push({ at: end + 1, lines: newLines });
    else {
      const name = Object.keys(updates).find((s) => s.toUpperCase() === sectionName) ?? sectionName;
      appended.push(...(appended.length > 0 || (lines.length > 0 && lines[lines.length - 1]!.trim() !== '') ? [''] : []), `[${name}]`, ...newLines);
    }
  }
  for (const ins of inserts.sort((a, b) => b.at - a.at)) lines.splice(ins.at, 0, ...ins.lines);
  lines.push(...appended);

  const out = lines.join(eol) + (hadFinalNewline || appended.length > 0 || text === '' ? eol : '');
  return { text: changed.length > 0 ? out : text, changed };
}

/** Keeps the quotes the old value had: the course's `ARN=''` becomes `ARN='arn:…'`. */
function requote(oldValue: string, value: string): string {
  const q = oldValue.length >= 2 && (oldValue[0] === "'" || oldValue[0] === '"') && oldValue.endsWith(oldValue[0]) ? oldValue[0] : '';
  return `${q}${value}${q}`;
}
