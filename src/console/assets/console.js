// The console's only script (no inline script anywhere: the CSP forbids it). It fills the live
// floor from its server-sent event stream; every other page works without it.

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function usageCell(u) {
  const td = el('td', null, 'usage');
  if (u.cap === null) {
    td.textContent = `${u.used} / –`;
    return td;
  }
  const m = document.createElement('meter');
  m.min = 0;
  m.max = Math.max(u.cap, 1);
  m.value = Math.min(u.used, m.max);
  m.high = m.max * 0.8;
  m.optimum = 0;
  td.append(m, ` ${u.used} / ${u.cap}`);
  if (u.used >= u.cap) td.classList.add('full');
  return td;
}

function fillRows(table, rows, make) {
  const body = table.tBodies[0];
  const frag = document.createDocumentFragment();
  for (const r of rows) frag.append(make(r));
  body.replaceChildren(frag);
}

function age(iso, now) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Draws a rate chart: one point per bucket, scaled to `max`. A bucket without a value (no call
 * finished in it: no answer rate) breaks the line rather than drawing a fall to zero; a lone point
 * is a short dash.
 */
function chart(svg, values, max) {
  const n = values.length;
  const has = (i) => i >= 0 && i < n && values[i] !== null && values[i] !== undefined;
  const x = (i) => (n > 1 ? (i / (n - 1)) * 300 : 0);
  const parts = [];
  for (let i = 0; i < n; i++) {
    if (!has(i)) continue;
    const y = (58 - (max > 0 ? Math.min(values[i], max) / max : 0) * 56).toFixed(1);
    if (!has(i - 1) && !has(i + 1))
      parts.push(`M${Math.max(0, x(i) - 1).toFixed(1)},${y} L${Math.min(300, x(i) + 1).toFixed(1)},${y}`);
    else parts.push(`${has(i - 1) ? 'L' : 'M'}${x(i).toFixed(1)},${y}`);
  }
  svg.querySelector('path').setAttribute('d', parts.join(' '));
}

/** One table of cap owners: its first cells, then usage against each of the five caps. */
function owners(id, rows, key, first) {
  const table = document.getElementById(id);
  if (!table) return;
  const list = rows ?? [];
  fillRows(table, list, (o) => {
    const tr = el('tr');
    tr.dataset.id = o[key];
    tr.append(
      ...first(o),
      usageCell(o.live),
      usageCell(o.hourly),
      usageCell(o.daily),
      usageCell(o.monthly),
      usageCell(o.total),
    );
    return tr;
  });
  document.getElementById(`${id}-empty`).hidden = list.length > 0;
}

function render(f) {
  const now = f.at;
  document.getElementById('calls-count').textContent = `(${f.calls.length})`;
  fillRows(document.getElementById('calls'), f.calls, (c) => {
    const tr = el('tr');
    tr.dataset.callId = c.call_id;
    tr.append(
      el('td', age(c.started_at, now)),
      el('td', c.did),
      el('td', c.caller),
      el('td', c.phase),
      el('td', c.client ?? ''),
      el('td', c.seller ?? ''),
      el('td', c.node_id),
    );
    return tr;
  });
  document.getElementById('calls-empty').hidden = f.calls.length > 0;
  fillRows(document.getElementById('links'), f.links, (l) => {
    const tr = el('tr');
    tr.dataset.linkId = l.link_id;
    if (!l.active) tr.classList.add('inactive');
    tr.append(
      el('td', l.campaign),
      el('td', l.client),
      el('td', `${l.priority} / ${l.weight}`),
      usageCell(l.live),
      usageCell(l.hourly),
      usageCell(l.daily),
      usageCell(l.monthly),
      usageCell(l.total),
    );
    return tr;
  });
  document.getElementById('links-empty').hidden = f.links.length > 0;
  // Sellers, DIDs and buyer groups with caps of their own (a seller's page has no groups table).
  owners('sellers', f.sellers, 'seller_id', (o) => [el('td', o.seller)]);
  owners('dids', f.dids, 'did_id', (o) => [el('td', o.did), el('td', o.seller)]);
  owners('groups', f.groups, 'group_id', (o) => [el('td', o.group), el('td', o.timezone)]);
  fillRows(document.getElementById('nodes'), f.nodes, (n) => {
    const tr = el('tr');
    tr.append(
      el('td', n.id),
      el('td', n.instance),
      el(
        'td',
        n.ari.connected ? 'connected' : `down${n.ari.error ? `: ${n.ari.error}` : ''}`,
        n.ari.connected ? 'up' : 'down',
      ),
      el(
        'td',
        n.ami.connected ? 'connected' : `down${n.ami.error ? `: ${n.ami.error}` : ''}`,
        n.ami.connected ? 'up' : 'down',
      ),
      el('td', n.ari.lastEventAt ? age(n.ari.lastEventAt, now) + ' ago' : '–'),
    );
    return tr;
  });
  document.getElementById('nodes-empty').hidden = f.nodes.length > 0;
  const rates = f.rates.map((r) => r.calls_per_s);
  // The chart is scaled to its highest bucket (1/s at least): the caption says how high that is.
  const peak = Math.max(0, ...rates);
  chart(document.getElementById('chart-rate'), rates, Math.max(1, peak));
  document.getElementById('rate-peak').textContent = `peak ${peak.toFixed(1)}/s`;
  chart(
    document.getElementById('chart-answer'),
    f.rates.map((r) => r.answer_rate),
    1,
  );
  const last = f.rates.at(-2) ?? f.rates.at(-1);
  document.getElementById('rate-now').textContent = last ? `${last.calls_per_s.toFixed(1)}/s` : '';
  document.getElementById('answer-now').textContent =
    last && last.answer_rate !== null ? `${Math.round(last.answer_rate * 100)}%` : '';
}

/**
 * The stream, and what the status line says of it (`data-state`: connecting, live, down, stopped).
 * A `failed` event says why no frame comes (Redis or the database not answering); when the stream
 * ends with it the browser comes back by itself after the server's `retry`. A stream refused
 * outright stops if the session has ended, else is tried again.
 */
function startLive(root) {
  const status = document.getElementById('live-status');
  const say = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
    status.classList.toggle('bad', state !== 'live');
  };
  let reason = null;
  let es = null;
  const signedOut = () => {
    say('stopped', 'Stopped: you are signed out. ');
    const a = el('a', 'Sign in again');
    a.href = `/console/sign-in?next=${encodeURIComponent(location.pathname)}`;
    status.append(a);
  };
  const connect = () => {
    es = new EventSource(root.dataset.stream);
    es.onerror = () => {
      if (status.dataset.state === 'stopped') return;
      say(
        'down',
        reason ? `Not updating: ${reason}. Trying again by itself…` : 'Disconnected: reconnecting…',
      );
      // A stream refused outright (not one that ended) is not retried by EventSource itself:
      // signed out (the page answers 401 to a script) stops; anything else (a proxy's 502 while the
      // daemon restarts) is tried again.
      if (es.readyState === EventSource.CLOSED)
        fetch(location.pathname, { redirect: 'manual' }).then(
          (r) => (r.status === 401 || r.type === 'opaqueredirect' ? signedOut() : setTimeout(connect, 5000)),
          () => setTimeout(connect, 5000),
        );
    };
    es.addEventListener('failed', (ev) => {
      reason = JSON.parse(ev.data).message;
      say('down', `Not updating: ${reason}. Trying again by itself…`);
    });
    es.onmessage = (ev) => {
      const t0 = performance.now();
      render(JSON.parse(ev.data));
      const ms = performance.now() - t0;
      root.dataset.frames = String(Number(root.dataset.frames ?? 0) + 1);
      root.dataset.applyMs = String(ms);
      reason = null;
      say('live', `Live · updated ${new Date().toLocaleTimeString()}`);
    };
  };
  status.dataset.state = 'connecting';
  connect();
}

/** The caller-ID import's result, from the JSON the import answers (as the server's page shows it). */
function showImport(out, r) {
  const sec = el('section');
  sec.id = 'import-result';
  const p = el('p', `${r.imported} of ${r.lines} line(s) imported`);
  if (r.pools_created.length) p.append(`; new pool(s): ${r.pools_created.join(', ')}`);
  p.append(r.rejected_total ? `. ${r.rejected_total} rejected:` : '. None rejected.');
  sec.append(p);
  if (r.rejected.length) {
    const ol = el('ol', null, 'rejected');
    ol.id = 'import-rejected';
    for (const x of r.rejected) ol.append(el('li', `line ${x.line}: ${x.reason}`));
    sec.append(ol);
  }
  out.replaceChildren(sec);
}

/** A chosen file is streamed to the import with a progress bar; pasted text posts the plain form. */
function startImport(form) {
  form.addEventListener('submit', (e) => {
    const file = form.elements.file.files[0];
    if (!file) return;
    e.preventDefault();
    const bar = document.getElementById('import-progress');
    const out = document.getElementById('import-output');
    const button = form.querySelector('button[type=submit]');
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    out.replaceChildren(el('p', 'Importing…', 'status'));
    const pool = form.elements.pool.value;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${form.action}${pool ? `?pool=${encodeURIComponent(pool)}` : ''}`);
    xhr.setRequestHeader('content-type', 'text/csv');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('x-csrf-token', document.body.dataset.csrf);
    xhr.upload.onprogress = (p) => {
      if (p.lengthComputable) bar.value = Math.round((p.loaded / p.total) * 100);
    };
    xhr.onloadend = () => {
      button.disabled = false;
      bar.value = 100;
      let r = null;
      try {
        r = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status === 200 && r) showImport(out, r);
      else {
        const err = r?.error;
        const p = el('p', null, 'flash error');
        p.setAttribute('role', 'alert');
        p.append(el('strong', err?.code ?? `HTTP ${xhr.status}`), `: ${err?.message ?? 'the import failed'}`);
        out.replaceChildren(p);
      }
    };
    xhr.send(file);
  });
}

/** Copies an element's text: the Clipboard API where the page is a secure context, else a selection. */
function copyText(button) {
  const src = document.getElementById(button.dataset.copy);
  const status = document.getElementById('copy-status');
  const said = (t) => {
    if (status) status.textContent = t;
  };
  const bySelection = () => {
    const range = document.createRange();
    range.selectNodeContents(src);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    said(document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C to copy.');
  };
  if (navigator.clipboard && window.isSecureContext)
    navigator.clipboard.writeText(src.textContent).then(() => said('Copied.'), bySelection);
  else bySelection();
}

// With the script, a phone's width folds the menu behind its button (without it, the menu stays open).
document.documentElement.classList.add('js');

/** The menu button of a narrow screen: opens and closes the navigation. */
function startMenu(button) {
  const header = button.closest('header');
  button.addEventListener('click', () => {
    const open = header.classList.toggle('open');
    button.setAttribute('aria-expanded', String(open));
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const menu = document.querySelector('button.nav-toggle');
  if (menu) startMenu(menu);
  const live = document.getElementById('live');
  if (live) startLive(live);
  const imp = document.getElementById('cid-import');
  if (imp) startImport(imp);
  // Copy buttons: <button data-copy="<id of the element whose text is copied>">.
  for (const b of document.querySelectorAll('button[data-copy]'))
    b.addEventListener('click', () => copyText(b));
  // Forms that ask before they act: <form data-confirm="text">.
  for (const f of document.querySelectorAll('form[data-confirm]')) {
    f.addEventListener('submit', (e) => {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  }
});
