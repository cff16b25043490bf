// The console page's shell and styles. The page is one HTML document whose five sections are filled
// by ui/app.ts (compiled by our tsc to an ES module and served as is); no inline script or style, so
// the Content-Security-Policy can forbid both. The CSRF token travels in a meta tag: only a page the
// console served (same origin) can read it.

export function pageHtml(csrf: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="hatter-csrf" content="${csrf}">
<title>hatter console</title>
<link rel="stylesheet" href="assets/console.css">
<script type="module" src="assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>hatter console</h1>
  <nav aria-label="Pages">
    <ul role="tablist">
      <li><a role="tab" href="#sites" id="tab-sites" aria-controls="sites">Sites</a></li>
      <li><a role="tab" href="#denials" id="tab-denials" aria-controls="denials">Denials</a></li>
      <li><a role="tab" href="#learn" id="tab-learn" aria-controls="learn">Learn</a></li>
      <li><a role="tab" href="#isolation" id="tab-isolation" aria-controls="isolation">Isolation</a></li>
      <li><a role="tab" href="#policy" id="tab-policy" aria-controls="policy">Policy</a></li>
    </ul>
  </nav>
  <p id="live" role="status" aria-live="polite">connecting…</p>
</header>
<main id="main" tabindex="-1">
  <section id="sites" role="tabpanel" aria-labelledby="tab-sites"><h2>Sites</h2><div class="body"></div></section>
  <section id="denials" role="tabpanel" aria-labelledby="tab-denials" hidden><h2>Denials</h2><div class="body"></div></section>
  <section id="learn" role="tabpanel" aria-labelledby="tab-learn" hidden><h2>Learn</h2><div class="body"></div></section>
  <section id="isolation" role="tabpanel" aria-labelledby="tab-isolation" hidden><h2>Isolation</h2><div class="body"></div></section>
  <section id="policy" role="tabpanel" aria-labelledby="tab-policy" hidden><h2>Policy</h2><div class="body"></div></section>
</main>
</body>
</html>
`;
}

/** High-contrast (WCAG AA on both schemes), one column on a phone, tables scroll sideways. */
export const PAGE_CSS = `:root { color-scheme: light dark; --fg: #111; --bg: #fff; --muted: #444; --line: #999; --accent: #0645ad; --bad: #a00000; --good: #05640a; --warn: #7a4a00; --card: #f3f3f3; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #121212; --muted: #c8c8c8; --line: #777; --accent: #8cb4ff; --bad: #ff8a8a; --good: #7fe08a; --warn: #ffc66b; --card: #1e1e1e; } }
* { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px; }
header { padding: 8px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.25rem; margin: 0 0 4px; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; margin: 0; padding: 0; }
nav a { display: inline-block; padding: 8px 12px; color: var(--accent); border: 1px solid var(--line); border-radius: 4px; text-decoration: none; min-height: 44px; }
nav a[aria-selected="true"] { background: var(--accent); color: var(--bg); font-weight: 600; }
a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
#live { margin: 4px 0 0; color: var(--muted); font-size: .9rem; }
main { padding: 8px 16px 48px; }
h2 { font-size: 1.15rem; }
.scroll { overflow-x: auto; max-width: 100%; }
pre, .scroll { overflow-wrap: normal; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: .9rem; }
pre { background: var(--card); padding: 8px; overflow-x: auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.alarm { border: 2px solid var(--bad); color: var(--bad); font-weight: 600; padding: 8px; margin: 8px 0; }
.bad { color: var(--bad); } .good { color: var(--good); } .warn { color: var(--warn); } .muted { color: var(--muted); }
button { font: inherit; padding: 6px 12px; min-height: 44px; border: 1px solid var(--line); border-radius: 4px; background: var(--card); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); color: var(--bg); border-color: var(--accent); }
fieldset { border: 1px solid var(--line); margin: 8px 0; }
label { display: block; margin: 2px 0; }
.line { white-space: pre; display: block; } .line .no { color: var(--muted); display: inline-block; min-width: 3em; user-select: none; }
.finding { display: block; color: var(--warn); white-space: normal; margin-left: 3em; }
.cell-ok { color: var(--good); } .cell-bad { color: var(--bad); font-weight: 600; }
@media (max-width: 600px) { main, header { padding-left: 8px; padding-right: 8px; } th, td { padding: 2px 4px; } }
`;
