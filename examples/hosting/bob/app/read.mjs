// DELIBERATELY VULNERABLE: returns the contents of any file named by ?path= (relative to
// examples/hosting, or absolute). It shows what confinement is for: in bob's hat, reading
// alice/secret.txt fails with EACCES; with the none backend it succeeds.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const hosting = fileURLToPath(new URL('../..', import.meta.url));

export default async function handler(request) {
  const path = new URL(request.url).searchParams.get('path');
  if (!path) return new Response('usage: /read?path=FILE\n', { status: 400 });
  const file = isAbsolute(path) ? path : join(hosting, path);
  try {
    return new Response(await readFile(file), { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  } catch (error) {
    return new Response(`cannot read ${file}: ${error.code ?? error.message}\n`, { status: error.code === 'ENOENT' ? 404 : 403 });
  }
}
