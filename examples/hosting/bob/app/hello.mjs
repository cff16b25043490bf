// bob.localhost's Node.js handler: loaded once per worker, called for every request under /hello.
const started = new Date().toISOString();
let served = 0;

export default function handler(request) {
  served += 1;
  const url = new URL(request.url);
  return new Response(JSON.stringify({
    site: 'bob.localhost',
    hat: process.env.HATTER_HAT ?? null,
    label: process.env.HATTER_LABEL ?? null,
    pid: process.pid,
    path: url.pathname,
    served,
    started,
  }) + '\n', { headers: { 'content-type': 'application/json' } });
}
