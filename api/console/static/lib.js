// lib.js — what every page of the console uses (the contract of CONSOLE.md).
// It imports nothing from pages. No framework: DOM built with h(), text
// always as text nodes (API data never goes through innerHTML).
//
// A page's render(main, params, ctx) gets:
//   main    its root element (data-page="<id>"), empty;
//   params  the route's :parameters, decoded;
//   ctx     { project: {id, code, name, roles} — the project picked in the
//             header (API paths take project.code),
//             me: GET /api/v1/auth/me {id, username, displayName,
//             platformAdmin, projects: [{id, code, name, roles}]},
//             can(role) — holds role (or admin) in the project,
//             poll(fn, ms = 2000) — runs fn every ms after the previous run
//             ended, first after ms; returns stop(); stopped on navigation,
//             go(path) }.
// query() reads the hash route's ?query (e.g. #/meters/board?status=cut_off).

const TOKEN = 'vf.token';
const LANG = 'vf.lang';
const PROJECT = 'vf.project';

// ---------------------------------------------------------------- language

/** lang() is the current language, 'zh' (default) or 'en'. */
export function lang() {
  return localStorage.getItem(LANG) === 'en' ? 'en' : 'zh';
}

/** setLang switches the language (the shell re-renders). */
export function setLang(l) {
  localStorage.setItem(LANG, l === 'en' ? 'en' : 'zh');
  document.documentElement.lang = l === 'en' ? 'en' : 'zh-CN';
}

/** tr(zh, en) is the string for the current language; tr({zh, en}) too. */
export function tr(zh, en) {
  if (zh && typeof zh === 'object') return lang() === 'en' ? zh.en : zh.zh;
  return lang() === 'en' ? en : zh;
}

// ---------------------------------------------------------------- session

export function token() { return sessionStorage.getItem(TOKEN) || ''; }
export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN, t); else sessionStorage.removeItem(TOKEN);
}
export function projectCode() { return localStorage.getItem(PROJECT) || ''; }
export function setProjectCode(c) { localStorage.setItem(PROJECT, c); }

// ---------------------------------------------------------------- API

/** ProblemError is a non-2xx answer of the API (RFC 9457 problem+json). */
export class ProblemError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.name = 'ProblemError';
    this.status = status;
    this.code = p.code || '';
    this.title = p.title || '';
    this.detail = p.detail || '';
    this.field = p.field || '';
    this.problem = p;
  }
}

function headers(extra) {
  const h = Object.assign({ Accept: 'application/json' }, extra || {});
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function failure(res, path) {
  let p = null;
  try { p = await res.json(); } catch (_) { p = { title: res.statusText }; }
  const err = new ProblemError(res.status, p);
  if (res.status === 401 && !path.startsWith('/api/v1/auth/login')) {
    setToken('');
    if (!location.hash.startsWith('#/login')) location.hash = '#/login';
  } else if (err.code === 'password_change_required' && !location.hash.startsWith('#/password')) {
    location.hash = '#/password';
  }
  return err;
}

function url(path) {
  return path.startsWith('/') ? path : '/api/v1/' + path;
}

/**
 * api(method, path, body?, opts?) calls the API: path '/api/v1/...' (or
 * relative to /api/v1/). Resolves to the parsed JSON, or null for 204.
 * opts.headers adds headers, opts.signal aborts. Throws ProblemError.
 */
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: headers(opts.headers), signal: opts.signal };
  if (body !== undefined && body !== null) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url(path), init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ProblemError(0, { title: tr('无法连接服务器', 'Cannot reach the server'), detail: String(e && e.message || e) });
  }
  if (!res.ok) throw await failure(res, url(path));
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** apiBlob(path) fetches a download (xlsx, pdf) with the token. */
export async function apiBlob(path) {
  const res = await fetch(url(path), { headers: headers({ Accept: '*/*' }) });
  if (!res.ok) throw await failure(res, url(path));
  return res.blob();
}

/** download(path, filename) saves what path answers as filename. */
export async function download(path, filename) {
  const blob = await apiBlob(path);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

/** qs({a: 1, b: ''}) is '?a=1' (empty and null values left out). */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// ---------------------------------------------------------------- DOM

function append(el, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  if (child instanceof Node) { el.appendChild(child); return; }
  el.appendChild(document.createTextNode(String(child)));
}

function setAttrs(el, attrs, svg) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // Styles through the CSSOM: the CSP (no 'unsafe-inline') refuses style attributes.
    else if (k === 'style') { if (typeof v === 'object') Object.assign(el.style, v); else el.style.cssText = v; }
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (!svg && (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected')) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/**
 * h(tag, attrs, ...children) builds an element. attrs: class (string or
 * array), dataset {}, style (string or {}), onclick… (functions), any other
 * attribute; children: nodes, strings (text nodes), arrays, null (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs, false);
  append(el, children);
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
/** s(tag, attrs, ...children) is h() for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs, true);
  append(el, children);
  return el;
}

/** clear(el) removes every child of el and returns it. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** message(err) is the readable text of an error: detail, else title, else message. */
export function message(err) {
  if (!err) return '';
  if (err instanceof ProblemError) {
    const parts = [err.detail || err.title || err.message];
    if (err.field && !(err.detail || '').includes(err.field)) parts.push(`(${err.field})`);
    return parts.join(' ');
  }
  return err.detail || err.title || err.message || String(err);
}

/**
 * showError(el, err) shows a readable message box (class vf-error) at the
 * top of el, replacing one shown before there. Returns the box.
 */
export function showError(el, err) {
  if (err && err.name === 'AbortError') return null;
  console.error(err);
  const box = h('div', { class: 'vf-error', role: 'alert' },
    err instanceof ProblemError && err.status ? h('strong', null, (err.title || tr('错误', 'Error')) + ' ') : null,
    h('span', { class: 'vf-error-detail' }, message(err)),
    err instanceof ProblemError && err.code ? h('code', null, ' ' + err.code) : null);
  if (!el) return box;
  for (const old of el.querySelectorAll(':scope > .vf-error')) old.remove();
  el.insertBefore(box, el.firstChild);
  return box;
}

/** clearError(el) removes a box showError put in el. */
export function clearError(el) {
  for (const old of el.querySelectorAll(':scope > .vf-error')) old.remove();
}

/** notice(el, text) shows a short success message at the top of el. */
export function notice(el, text) {
  for (const old of el.querySelectorAll(':scope > .vf-notice')) old.remove();
  const box = h('div', { class: 'vf-notice', role: 'status' }, text);
  el.insertBefore(box, el.firstChild);
  return box;
}

// ---------------------------------------------------------------- formats

/** money('12.5') is '12.50' (null: '—'). */
export function money(v) {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  return n.toFixed(2);
}

function pad(n) { return String(n).padStart(2, '0'); }

/** fmtTime(iso) is local 'YYYY-MM-DD HH:MM:SS' (null: '—'). */
export function fmtTime(v) {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** fmtDate(v) is local 'YYYY-MM-DD'. */
export function fmtDate(v) {
  const d = v ? new Date(v) : new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const STATUS = {
  // meters (board)
  normal: ['正常', 'Normal'], cut_off: ['已拉闸', 'Cut off'], fault: ['故障', 'Fault'], alarm: ['告警', 'Alarming'],
  alarming: ['告警', 'Alarming'], lost_contact: ['失联', 'Lost contact'], not_opened: ['未开户', 'Not opened'], unknown: ['未读取', 'Never read'],
  // processes
  pending: ['待处理', 'Pending'], pending_approval: ['待审批', 'Pending approval'], approved: ['已批准', 'Approved'],
  rejected: ['已驳回', 'Rejected'], dispatching: ['下发中', 'Dispatching'], completed: ['已完成', 'Completed'],
  dispatch_failed: ['下发失败', 'Dispatch failed'], failed: ['失败', 'Failed'], done: ['完成', 'Done'],
  running: ['进行中', 'Running'], completed_with_failures: ['部分失败', 'Completed with failures'],
  expired: ['已过期', 'Expired'], open: ['未处理', 'Open'], closed: ['已关闭', 'Closed'], acknowledged: ['已确认', 'Acknowledged'],
  active: ['正常', 'Active'], frozen: ['冻结', 'Frozen'], void: ['作废', 'Void'], online: ['在线', 'Online'],
  offline: ['离线', 'Offline'], charging: ['充电中', 'Charging'], available: ['空闲', 'Available'], faulted: ['故障', 'Faulted'],
};

/** statusLabel(s) is the status in the current language (unknown: itself). */
export function statusLabel(st) {
  const l = STATUS[st];
  return l ? tr(l[0], l[1]) : String(st ?? '—');
}

/** badge(status) is a coloured label for a status. */
export function badge(st) {
  return h('span', { class: `vf-badge vf-st-${String(st || 'none').replace(/[^a-z0-9_-]/gi, '')}`, dataset: { status: st || '' } }, statusLabel(st));
}

// ---------------------------------------------------------------- building blocks

/**
 * table(columns, rows, opts?) — columns [{key | render(row), label: {zh, en}, class?}];
 * opts.empty is the text when there are no rows, opts.rowAttrs(row) extra
 * attributes of each <tr>.
 */
export function table(columns, rows, opts = {}) {
  const head = h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class }, tr(c.label)))));
  const body = h('tbody');
  if (!rows || rows.length === 0) {
    body.appendChild(h('tr', null, h('td', { class: 'vf-empty', colspan: String(columns.length) }, opts.empty ? tr(opts.empty) : tr('无数据', 'No data'))));
  } else {
    for (const row of rows) {
      body.appendChild(h('tr', opts.rowAttrs ? opts.rowAttrs(row) : null, columns.map((c) => {
        const v = c.render ? c.render(row) : row[c.key];
        return h('td', { class: c.class }, v === null || v === undefined || v === '' ? '—' : v);
      })));
    }
  }
  return h('div', { class: 'vf-table-wrap' }, h('table', { class: 'vf-table' }, head, body));
}

/**
 * form(fields, onSubmit, opts?) — fields [{name, label: {zh, en}, type ('text',
 * 'password', 'number', 'select', 'textarea', 'date', …), value, options:
 * [{value, label}], required, placeholder, step, min, max}]; onSubmit(values,
 * formEl) may be async: the submit button is disabled meanwhile and an error
 * it throws shows in the form (showError). opts.submit is the button label.
 */
export function form(fields, onSubmit, opts = {}) {
  const el = h('form', { class: 'vf-form', novalidate: opts.novalidate ? true : null });
  for (const f of fields) {
    let input;
    const common = { name: f.name, id: 'f-' + f.name, required: f.required || null, placeholder: f.placeholder || null, autocomplete: f.autocomplete || null };
    if (f.type === 'select') {
      input = h('select', common, (f.options || []).map((o) => {
        const label = typeof o.label === 'object' ? tr(o.label) : (o.label ?? o.value);
        return h('option', { value: o.value, selected: String(o.value) === String(f.value ?? '') || null }, label);
      }));
    } else if (f.type === 'textarea') {
      input = h('textarea', common, f.value ?? '');
    } else {
      input = h('input', Object.assign({ type: f.type || 'text', value: f.value ?? '', step: f.step, min: f.min, max: f.max, inputmode: f.inputmode }, common));
    }
    el.appendChild(h('label', { class: 'vf-field', for: 'f-' + f.name }, h('span', null, f.label ? tr(f.label) : f.name), input));
  }
  const button = h('button', { type: 'submit', class: 'vf-btn vf-primary' }, opts.submit ? tr(opts.submit) : tr('提交', 'Submit'));
  el.appendChild(h('div', { class: 'vf-actions' }, button));
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const f of fields) {
      const i = el.elements.namedItem(f.name);
      values[f.name] = i ? i.value : '';
    }
    clearError(el);
    button.disabled = true;
    try {
      await onSubmit(values, el);
    } catch (err) {
      showError(el, err);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

/** button(label {zh,en}, onclick, cls?) — a button; an async onclick that throws shows its error in the closest page. */
export function button(label, onclick, cls = '') {
  const b = h('button', { type: 'button', class: 'vf-btn ' + cls });
  b.textContent = typeof label === 'object' ? tr(label) : label;
  b.addEventListener('click', async (ev) => {
    b.disabled = true;
    try {
      await onclick(ev);
    } catch (err) {
      showError(b.closest('[data-page]') || document.getElementById('main'), err);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** card(title {zh,en} | string, ...children) — a titled panel. */
export function card(title, ...children) {
  return h('section', { class: 'vf-card' }, title ? h('h3', null, typeof title === 'object' ? tr(title) : title) : null, children);
}

/** link(path, text) — an <a> to a hash route ('/meters/M0001'). */
export function link(path, text) {
  return h('a', { href: '#' + path }, text);
}

// ---------------------------------------------------------------- charts

const PALETTE = ['#1f6feb', '#f0883e', '#2da44e', '#cf222e', '#8250df', '#bf8700'];

function tick(v) {
  return String(Number(v.toPrecision(3)));
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * lineChart(points, opts) — an SVG line chart. points: [{x, y}] (x a label),
 * or a list of series [{name, points: [{x, y}], color?}]. opts: width,
 * height, title, yUnit.
 */
export function lineChart(points, opts = {}) {
  const series = points.length && points[0] && Array.isArray(points[0].points) ? points : [{ name: opts.name || '', points }];
  const W = opts.width || 640, H = opts.height || 240, L = 48, R = 12, T = 16, B = 36;
  const labels = [];
  for (const sr of series) for (const p of sr.points) if (!labels.includes(String(p.x))) labels.push(String(p.x));
  let max = 0;
  for (const sr of series) for (const p of sr.points) max = Math.max(max, Number(p.y) || 0);
  max = niceMax(max);
  const xs = (i) => L + (labels.length <= 1 ? 0 : (i * (W - L - R)) / (labels.length - 1));
  const ys = (v) => T + (H - T - B) * (1 - (Number(v) || 0) / max);
  const svg = s('svg', { class: 'vf-chart', viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': opts.title || 'chart' });
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4, y = ys(v);
    svg.appendChild(s('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'vf-grid' }));
    svg.appendChild(s('text', { x: L - 4, y: y + 4, 'text-anchor': 'end', class: 'vf-axis' }, tick(v)));
  }
  const step = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((lb, i) => {
    if (i % step === 0) svg.appendChild(s('text', { x: xs(i), y: H - B + 16, 'text-anchor': 'middle', class: 'vf-axis' }, lb));
  });
  series.forEach((sr, k) => {
    const color = sr.color || PALETTE[k % PALETTE.length];
    const pts = sr.points.map((p) => `${xs(labels.indexOf(String(p.x))).toFixed(1)},${ys(p.y).toFixed(1)}`);
    if (pts.length) svg.appendChild(s('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
    for (const p of sr.points) {
      svg.appendChild(s('circle', { cx: xs(labels.indexOf(String(p.x))), cy: ys(p.y), r: 2.5, fill: color },
        s('title', null, `${sr.name ? sr.name + ' ' : ''}${p.x}: ${p.y}`)));
    }
  });
  if (series.length > 1 || series[0].name) {
    series.forEach((sr, k) => {
      const x = L + 8 + k * 140;
      svg.appendChild(s('rect', { x, y: 2, width: 10, height: 10, fill: sr.color || PALETTE[k % PALETTE.length] }));
      svg.appendChild(s('text', { x: x + 14, y: 11, class: 'vf-axis' }, sr.name || ''));
    });
  }
  return svg;
}

/**
 * barChart(points, opts) — an SVG bar chart. points: [{label, value, color?}].
 * opts: width, height, title.
 */
export function barChart(points, opts = {}) {
  const W = opts.width || 640, H = opts.height || 240, L = 48, R = 12, T = 16, B = 36;
  const max = niceMax(Math.max(0, ...points.map((p) => Number(p.value) || 0)));
  const svg = s('svg', { class: 'vf-chart', viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': opts.title || 'chart' });
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4, y = T + (H - T - B) * (1 - v / max);
    svg.appendChild(s('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'vf-grid' }));
    svg.appendChild(s('text', { x: L - 4, y: y + 4, 'text-anchor': 'end', class: 'vf-axis' }, tick(v)));
  }
  const n = Math.max(1, points.length), bw = (W - L - R) / n;
  const step = Math.max(1, Math.ceil(points.length / 12));
  points.forEach((p, i) => {
    const v = Number(p.value) || 0, y = T + (H - T - B) * (1 - v / max);
    svg.appendChild(s('rect', { x: L + i * bw + bw * 0.15, y, width: bw * 0.7, height: Math.max(0, H - B - y), fill: p.color || PALETTE[0] },
      s('title', null, `${p.label}: ${p.value}`)));
    if (i % step === 0) svg.appendChild(s('text', { x: L + i * bw + bw / 2, y: H - B + 16, 'text-anchor': 'middle', class: 'vf-axis' }, String(p.label)));
  });
  return svg;
}

// ---------------------------------------------------------------- pages

const routes = [];

/**
 * register({id, path, section?, label: {zh, en}, roles?, public?, render})
 * adds a page. path is a hash route ('/meters/:meterNo'); render(main,
 * params, ctx) fills main (its root, which carries data-page=id) and may
 * return a cleanup function.
 */
export function register(page) {
  if (!page || !page.id || !page.path || typeof page.render !== 'function') throw new Error('register: id, path and render are required');
  routes.push(page);
}

/** pages() is every registered page, in registration order. */
export function pages() { return routes.slice(); }

/** match(path) is {page, params} for a hash path, or null. */
export function match(path) {
  const parts = path.split('?')[0].split('/').filter(Boolean);
  for (const page of routes) {
    const want = page.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (want[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) return { page, params };
  }
  return null;
}

/** query() is the query part of the current hash route as URLSearchParams. */
export function query() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

/** go(path) navigates to a hash route. */
export function go(path) {
  location.hash = '#' + path;
}

/** hasRole(me, project, role) — admin (and platform admin) hold every role. */
export function hasRole(me, project, role) {
  if (!me) return false;
  if (me.platformAdmin && role === 'admin') return true;
  const roles = (project && project.roles) || [];
  return roles.includes('admin') || roles.includes(role);
}

/** visible(page, ctx) — the page's roles let the operator see it. */
export function visible(page, ctx) {
  if (!page.roles || page.roles.length === 0) return true;
  return page.roles.some((r) => ctx.can(r));
}
