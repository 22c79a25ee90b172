/**
 * The operator console's static shell: markup and styles only, no data and no inline script or style (the page's
 * Content-Security-Policy forbids both). Everything it shows is fetched by `console.js` (src/ops/console/, built
 * by the app's own `tsc --build`) with the operator's bearer token.
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Notifications · operator console</title>
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/console.js"></script>
</head>
<body>
<header>
  <h1>Notifications <span>operator console</span></h1>
  <nav id="nav" hidden>
    <a href="#orders" data-page="orders">Orders</a>
    <a href="#pipeline" data-page="pipeline">Pipeline</a>
    <a href="#dead-letters" data-page="dead-letters">Dead letters</a>
    <button type="button" id="forget-token" class="link">Forget token</button>
  </nav>
</header>
<main id="main">
  <noscript>The console needs JavaScript.</noscript>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6575; --line: #d9dee6; --accent: #1f5fbf;
  --bad: #b42318; --good: #067647; --warn: #b54708; --bg: #f6f7f9; font: 14px/1.45 system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 2rem; padding: .6rem 1.2rem; background: #fff;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 1.1rem; margin: 0; } h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; } h3 { font-size: .95rem; margin: 1rem 0 .4rem; }
nav { display: flex; gap: 1rem; align-items: center; flex: 1; }
nav a { color: var(--muted); text-decoration: none; padding: .2rem 0; }
nav a.active { color: var(--fg); border-bottom: 2px solid var(--accent); }
nav .link { margin-left: auto; }
main { padding: 1rem 1.2rem; max-width: 1200px; }
form.inline { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; }
label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
input { font: inherit; padding: .3rem .45rem; border: 1px solid var(--line); border-radius: 4px; min-width: 14rem; }
button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent);
  color: #fff; border-radius: 4px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; color: var(--muted); padding: 0; text-decoration: underline; }
button:disabled { opacity: .5; cursor: default; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, monospace; font-size: .85em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; overflow-x: auto; }
.cards.wide { grid-template-columns: 1fr; }
.muted { color: var(--muted); } .bad { color: var(--bad); } .good { color: var(--good); } .warn { color: var(--warn); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: .8rem; background: #eef1f5; }
.badge.Completed, .badge.Delivered, .badge.Succeeded { background: #dcfae6; color: var(--good); }
.badge.Cancelled, .badge.Failed { background: #fee4e2; color: var(--bad); }
.badge.Processing, .badge.Processed, .badge.Sending { background: #fef0c7; color: var(--warn); }
.bar { height: .6rem; background: #eef1f5; border-radius: 3px; overflow: hidden; margin: .4rem 0; }
.bar > div { height: 100%; background: var(--accent); width: 0; }
.message { margin: .6rem 0; padding: .5rem .7rem; border-radius: 4px; background: #fff; border: 1px solid var(--line); }
.message.error { border-color: var(--bad); color: var(--bad); }
.actions { display: flex; gap: .5rem; margin: .6rem 0; }
.pager { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0; }
dt { color: var(--muted); } dd { margin: 0; }
pre { background: #fff; border: 1px solid var(--line); padding: .5rem; overflow: auto; max-height: 20rem; }
`;
