/**
 * A URL with its password replaced, safe to print.
 *
 * @example
 *   redactUrl('postgres://ann:s3cret@db:5432/music'); // 'postgres://ann:***@db:5432/music'
 */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
