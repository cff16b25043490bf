// The console page: five panels filled from the console's JSON APIs and refreshed when the server
// pushes a topic over Server-Sent Events. Every value from the server (paths from audit logs are
// attacker-chosen) goes into the page as text nodes, never as HTML.

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- shapes are the commands' --json documents

export {};

const csrf = document.querySelector<HTMLMetaElement>('meta[name="hatter-csrf"]')?.content ?? '';
const PANELS = ['sites', 'denials', 'learn', 'isolation', 'policy'] as const;
type Panel = (typeof PANELS)[number];

type Child = Node | string | number | null | undefined | false;
function h(tag: string, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name, value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(typeof child === 'object' ? child : String(child));
  return el;
}

function body(panel: Panel): HTMLElement {
  return document.querySelector<HTMLElement>(`#${panel} .body`)!;
}

function fill(panel: Panel, ...children: Child[]): void {
  const target = body(panel);
  target.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'object' ? c : String(c))));
  target.setAttribute('aria-busy', 'false');
}

async function getJson(path: string): Promise<Json> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const value = await response.json();
  if (!response.ok) throw new Error(value?.error ?? `HTTP ${response.status}`);
  return value;
}

async function postJson(path: string, value: unknown): Promise<{ status: number; value: Json }> {
  const response = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-hatter-csrf': csrf }, body: JSON.stringify(value) });
  return { status: response.status, value: await response.json() };
}

function table(caption: string, head: readonly string[], rows: readonly Child[][]): HTMLElement {
  return h('div', { class: 'scroll' }, h('table', {},
    h('caption', { class: 'muted' }, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))));
}

function failure(panel: Panel, error: unknown): void {
  fill(panel, h('p', { class: 'bad', role: 'alert' }, `could not load: ${error instanceof Error ? error.message : String(error)}`));
}

// ---- Sites ----
async function loadSites(): Promise<void> {
  const data = await getJson('api/sites');
  const sites: Json[] = data.sites ?? [];
  fill('sites',
    data.backend ? h('p', {}, 'Confinement backend: ', h('strong', {}, data.backend.name ?? '?'), data.backend.reason ? ` — ${data.backend.reason}` : '', data.backend.warning ? h('span', { class: 'bad' }, ` ${data.backend.warning}`) : '') : null,
    data.source ? h('p', { class: 'muted' }, `from ${data.source}`) : null,
    sites.length === 0 ? h('p', {}, 'No sites.') : null,
    ...sites.map((site) => h('div', { class: 'card site', 'data-site': site.name ?? '' },
      h('h3', {}, site.name ?? site.hat ?? '?'),
      h('p', {}, 'hat ', h('code', {}, site.label ?? site.hat ?? '—'), site.mode ? ` · mode ${site.mode}` : '', site.pool ? ` · pool ${site.pool}` : ''),
      site.widening?.length ? h('details', {}, h('summary', {}, `Landlock widens this hat in ${site.widening.length} way(s)`), h('ul', {}, ...site.widening.map((w: Json) => h('li', {}, typeof w === 'string' ? w : JSON.stringify(w))))) : null,
      site.workers?.length
        ? table(`workers of ${site.name ?? site.hat}`, ['pid', 'state', 'label', 'requests', 'in flight', 'errors'], site.workers.map((w: Json) => [w.pid ?? '—', w.state ?? '—', h('code', {}, w.label ?? site.label ?? '—'), w.requests ?? 0, w.inFlight ?? 0, w.errors ?? 0]))
        : h('p', { class: 'muted' }, site.workersNote ?? 'no workers reported'))));
}

// ---- Denials ----
async function loadDenials(): Promise<void> {
  const data = await getJson('api/denials');
  const floods: Json[] = data.floods ?? [];
  const groups: Json[] = data.groups ?? [];
  fill('denials',
    ...floods.map((f) => h('p', { class: 'alarm', role: 'alert' }, `Flood: ${f.message ?? JSON.stringify(f)}`)),
    h('p', {}, `${data.events ?? 0} events${data.first ? ` from ${data.first}` : ''}${data.last ? ` to ${data.last}` : ''}`, data.sources?.length ? h('span', { class: 'muted' }, ` (${data.sources.join(', ')})`) : ''),
    groups.length === 0 ? h('p', {}, 'No denials.') : table('denials grouped like hatter logs --summary', ['count', 'label', 'class', 'operation', 'object', 'denied', 'first', 'last'],
      groups.map((g) => [g.count, h('code', {}, g.label ?? g.profile ?? '—'), g.class ?? '', g.operation ?? '', h('code', { class: 'object' }, g.object ?? ''), g.denied ?? g.requested ?? '', g.first ?? '', g.last ?? ''])));
}

// ---- Learn ----
interface Choice { action: 'accept' | 'ignore'; alternative: number; override: boolean }
const choices = new Map<string, Choice>();

function currentAnswers(): Json[] {
  return [...choices].map(([group, c]) => (c.action === 'ignore' ? { group, action: 'ignore' } : { group, action: 'accept', alternative: c.alternative, ...(c.override ? { override: true } : {}) }));
}

async function loadLearn(): Promise<void> {
  const data = await getJson('api/learn');
  const groups: Json[] = data.groups ?? [];
  choices.clear();
  const output = h('div', { id: 'learn-output', role: 'status', 'aria-live': 'polite' });
  const preview = h('button', { type: 'button', click: () => void change('preview', output) }, 'Preview diff');
  const apply = h('button', { type: 'button', class: 'primary', click: () => void change('apply', output) }, 'Apply to policy');
  fill('learn',
    data.note ? h('p', { class: 'muted' }, data.note) : null,
    groups.length === 0 ? h('p', {}, 'Nothing to learn: every logged event is allowed already.') : null,
    ...groups.map((group) => {
      const denyIndex = (group.alternatives ?? []).findIndex((a: Json) => a.kind === 'deny' || (a.rules ?? []).some((r: string) => /^\s*deny\b/.test(r)));
      choices.set(group.id, { action: group.defaultIndex >= 0 ? 'accept' : 'ignore', alternative: Math.max(0, group.defaultIndex), override: false });
      const name = `alt-${group.id}`;
      // Accepting an alternative that reaches another site's area takes a second, explicit decision (as --answers' "override").
      const crosses = (group.alternatives ?? []).some((a: Json) => a.crossesTenant);
      const overrideBox = crosses ? h('input', { type: 'checkbox', id: `${name}-override`, change: () => { const c = choices.get(group.id); if (c) c.override = (overrideBox as HTMLInputElement).checked; } }) as HTMLInputElement : undefined;
      const radios = (group.alternatives ?? []).map((alt: Json, index: number) => {
        const crossing = alt.crossesTenant;
        const input = h('input', { type: 'radio', name, value: String(index), id: `${name}-${index}`, checked: index === group.defaultIndex, change: () => choices.set(group.id, { action: 'accept', alternative: index, override: overrideBox?.checked === true }) });
        return h('div', { class: crossing ? 'crossing' : '' },
          h('label', { for: `${name}-${index}` }, input, ' ', h('code', {}, (alt.rules ?? []).join(' ')), crossing ? h('strong', { class: 'bad' }, ` ⚠ crosses into another site: ${crossing.message ?? ''}`) : '', index === group.defaultIndex ? h('span', { class: 'good' }, ' (default)') : ''),
          alt.beyond ? h('div', { class: 'muted witness' }, 'grants beyond the events, e.g. ', h('code', {}, alt.beyond.subject ?? ''), ` (${alt.beyond.permissions ?? ''}) — ${alt.beyond.message ?? ''}`) : null,
          alt.note ? h('div', { class: 'muted' }, alt.note) : null);
      });
      const ignore = h('input', { type: 'radio', name, value: 'ignore', id: `${name}-ignore`, checked: group.defaultIndex < 0, change: () => choices.set(group.id, { action: 'ignore', alternative: 0, override: false }) });
      return h('fieldset', { class: 'card group', 'data-group': group.id },
        h('legend', {}, h('strong', {}, group.title ?? group.id), ` — ${group.profile ?? ''}${group.tenant ? ` (site ${group.tenant})` : ''}, ${group.events ?? 0} events`),
        ...radios,
        h('div', {}, h('label', { for: `${name}-ignore` }, ignore, ' ignore (change nothing)')),
        overrideBox ? h('div', {}, h('label', { for: `${name}-override`, class: 'bad' }, overrideBox, ' override: I accept an alternative marked ⚠ although it opens another site\'s files')) : null,
        denyIndex >= 0 ? h('button', { type: 'button', click: () => { (document.getElementById(`${name}-${denyIndex}`) as HTMLInputElement).checked = true; choices.set(group.id, { action: 'accept', alternative: denyIndex, override: false }); } }, 'Deny') : null);
    }),
    groups.length ? h('p', {}, preview, ' ', apply) : null,
    output);
}

async function change(kind: 'preview' | 'apply', output: HTMLElement): Promise<void> {
  output.replaceChildren(h('p', {}, kind === 'apply' ? 'applying…' : 'computing the diff…'));
  try {
    const { status, value } = await postJson(`api/learn/${kind}`, { answers: currentAnswers() });
    output.replaceChildren(...[
      h('p', { class: status === 200 ? 'good' : 'bad' }, status === 200 ? (kind === 'apply' ? `written: ${(value.written ?? []).join(', ') || 'nothing to change'}` : 'the change (nothing written yet):') : `refused: ${value.error ?? (value.messages ?? []).join(' ')}`),
      value.diff ? h('pre', { class: 'diff', tabindex: '0', 'aria-label': 'diff of the policy change' }, value.diff) : null,
      value.messages?.length ? h('ul', {}, ...value.messages.map((m: string) => h('li', {}, m))) : null,
    ].filter((n): n is HTMLElement => n !== null));
  } catch (error) {
    output.replaceChildren(h('p', { class: 'bad', role: 'alert' }, String(error)));
  }
}

// ---- Isolation ----
async function loadIsolation(): Promise<void> {
  const data = await getJson('api/isolation');
  const tenants: string[] = data.tenants ?? [];
  const flows: Json[] = data.flows ?? [];
  const witnessBox = h('div', { id: 'isolation-witness', role: 'region', 'aria-live': 'polite', 'aria-label': 'witnesses' });
  const cell = (from: string, to: string): Child => {
    if (from === to) return h('span', { class: 'muted' }, '—');
    const found = flows.filter((f) => f.from === from && f.to === to);
    const label = found.length ? `${found.length} flow${found.length === 1 ? '' : 's'}` : 'isolated';
    return h('button', { type: 'button', class: found.length ? 'cell-bad' : 'cell-ok', 'aria-label': `${from} to ${to}: ${label}`, click: () => {
      witnessBox.replaceChildren(h('h3', {}, `${from} → ${to}`), found.length
        ? h('ul', {}, ...found.map((f) => h('li', {}, `${f.kind ?? ''} `, h('code', {}, f.witness ?? f.path ?? ''), f.rule ? h('span', { class: 'muted' }, ` by ${typeof f.rule === 'string' ? f.rule : JSON.stringify(f.rule)}`) : '')))
        : h('p', { class: 'good' }, `${from} cannot reach ${to}: no path, signal, socket or exec leads there.`));
    } }, label);
  };
  fill('isolation',
    h('p', { class: data.isolated ? 'good' : 'bad' }, data.isolated ? 'Every site is isolated from every other.' : `${flows.length} flow(s) between sites.`),
    tenants.length ? table('from (row) → to (column)', ['from \\ to', ...tenants], tenants.map((from) => [h('strong', {}, from), ...tenants.map((to) => cell(from, to))])) : h('p', {}, data.note ?? 'No tenants: give --config, --apache or --fpm.'),
    witnessBox);
}

// ---- Policy ----
async function loadPolicy(): Promise<void> {
  const data = await getJson('api/policy');
  const files: Json[] = data.files ?? [];
  const findings: Json[] = data.findings ?? [];
  fill('policy',
    h('p', {}, `${files.length} file(s), ${findings.length} lint finding(s)`),
    ...files.map((file) => {
      const mine = findings.filter((f) => f.file === file.path);
      return h('details', { class: 'card', open: file.path === data.entry },
        h('summary', {}, h('code', {}, file.path), file.includedFrom?.length ? h('span', { class: 'muted' }, ` included from ${file.includedFrom.join(' ← ')}`) : '', mine.length ? h('span', { class: 'warn' }, ` · ${mine.length} finding(s)`) : ''),
        h('pre', { tabindex: '0', 'aria-label': `contents of ${file.path}` }, ...String(file.text ?? '').split('\n').map((text, i) => h('span', { class: 'line', id: `l-${file.path}-${i + 1}` },
          h('span', { class: 'no' }, String(i + 1)), text,
          ...mine.filter((f) => f.line === i + 1).map((f) => h('span', { class: 'finding' }, `⚠ ${f.code}: ${f.message}`))))));
    }));
}

function offerLearnReload(): void {
  const target = body('learn');
  if (target.querySelector('.new-events')) return;
  target.prepend(h('p', { class: 'new-events warn', role: 'status' }, 'New events were logged. ',
    h('button', { type: 'button', click: () => refresh('learn') }, 'Reload proposals (your choices are reset)')));
}

// ---- navigation and live updates ----
const loaders: Record<Panel, () => Promise<void>> = { sites: loadSites, denials: loadDenials, learn: loadLearn, isolation: loadIsolation, policy: loadPolicy };
const loaded = new Set<Panel>();

function show(panel: Panel): void {
  for (const p of PANELS) {
    const section = document.getElementById(p)!;
    const tab = document.getElementById(`tab-${p}`)!;
    section.hidden = p !== panel;
    tab.setAttribute('aria-selected', String(p === panel));
    tab.setAttribute('tabindex', p === panel ? '0' : '-1');
  }
  if (!loaded.has(panel)) { loaded.add(panel); refresh(panel); }
}

function refresh(panel: Panel): void {
  body(panel).setAttribute('aria-busy', 'true');
  loaders[panel]().catch((error) => failure(panel, error));
}

function current(): Panel {
  const name = location.hash.slice(1);
  return (PANELS as readonly string[]).includes(name) ? (name as Panel) : 'sites';
}

window.addEventListener('hashchange', () => show(current()));
document.querySelector('[role="tablist"]')!.addEventListener('keydown', (event) => {
  const key = (event as KeyboardEvent).key;
  if (key !== 'ArrowRight' && key !== 'ArrowLeft') return;
  const index = PANELS.indexOf(current());
  const next = PANELS[(index + (key === 'ArrowRight' ? 1 : PANELS.length - 1)) % PANELS.length]!;
  location.hash = next;
  document.getElementById(`tab-${next}`)!.focus();
});

const live = document.getElementById('live')!;
const events = new EventSource('api/events');
events.addEventListener('open', () => { live.textContent = 'live: updates are pushed by the server'; });
events.addEventListener('error', () => { live.textContent = 'live updates interrupted; reconnecting…'; });
const topics: Record<string, Panel[]> = { denials: ['denials', 'learn'], sites: ['sites'], policy: ['policy', 'learn', 'isolation', 'sites'] };
for (const [topic, panels] of Object.entries(topics)) {
  events.addEventListener(topic, () => {
    for (const panel of panels) {
      if (!loaded.has(panel)) continue;
      // Learn keeps the reviewer's choices: new events only offer a reload (unless the policy changed).
      if (panel === 'learn' && topic === 'denials') { offerLearnReload(); continue; }
      refresh(panel);
    }
  });
}
show(current());
