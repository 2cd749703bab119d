/**
 * Song files' records by their JSON structure: an object (or array) is one
 * record from its opening brace to the matching close, whether it spans many
 * lines (pretty-printed) or shares a line with others; anything else at the
 * top level is a record to the end of its line (to be rejected). A record
 * starts on the line of its first character.
 *
 * An object that never closes would swallow the rest of the file. So at the
 * end of the file, what is still open is split again at every line that
 * starts with `{` in its first column: the cut-short object is handed on by
 * itself (to be rejected) and the objects after it are read as usual.
 */

type Emit = (line: number, text: string) => void;

interface OpenLine {
  line: number;
  text: string;
}

export class JsonRecords {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Lines (whole) of the record still open, the first cut at where the record starts. */
  private open: OpenLine[] = [];

  constructor(private readonly emit: Emit) {}

  /** One line of the file (its CR dropped), numbered from 1. */
  line(line: number, text: string): void {
    let start = this.depth > 0 ? 0 : -1;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.depth === 0) {
        const c = text.charCodeAt(i);
        if (c === 32 || c === 9 || c === 13) {
          i++;
          continue;
        }
        if (c !== 123 /* { */ && c !== 91 /* [ */) {
          // Stray text at the top level: a record of its own, to the end of the line. Only JSON's own
          // whitespace is trimmed: a line of U+2000 is not blank, and is rejected rather than lost.
          this.emit(line, text.slice(i).replace(/[ \t\r]+$/, ''));
          return;
        }
        start = i;
        this.depth = 1;
        i++;
        continue;
      }
      i = this.scan(text, i);
      if (this.depth === 0) {
        this.close(line, text.slice(start, i));
        start = -1;
      }
    }
    if (this.depth > 0) this.open.push({ line, text: start > 0 ? text.slice(start) : text });
  }

  /** The end of the file: a record still open is split at lines opening with `{` (see above). */
  end(): void {
    let pending = this.open;
    this.reset();
    while (pending.length > 0) {
      const next = pending.findIndex((l, k) => k > 0 && l.text.startsWith('{'));
      const cut = next === -1 ? pending : pending.slice(0, next);
      this.emit(cut[0]!.line, cut.map((l) => l.text).join('\n'));
      if (next === -1) return;
      // Read what follows the cut-short record afresh; what it leaves open goes round again.
      const rest = new JsonRecords(this.emit);
      for (const l of pending.slice(next)) rest.line(l.line, l.text);
      pending = rest.open;
    }
  }

  /** Scans from `i` until the open record closes or the line ends; returns where it stopped. */
  private scan(text: string, i: number): number {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
      } else if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 /* } */ || c === 93 /* ] */) {
        if (--this.depth === 0) return i + 1;
      }
    }
    return i;
  }

  /** A record closed on `line`; `tail` is its part on that line. */
  private close(line: number, tail: string): void {
    const first = this.open[0]?.line ?? line;
    this.emit(first, [...this.open.map((l) => l.text), tail].join('\n'));
    this.reset();
  }

  private reset(): void {
    this.open = [];
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }
}
