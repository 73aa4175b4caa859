// Meter status board (电表状态看板): colour tiles by status, filtered by site
// subtree, status and a search; a page of tiles at a time (10,000 meters stay
// fast: the API pages and counts, the browser draws at most one page);
// select many → a batch command with each meter's outcome live. Polled
// every 2 s.
import { register, api, h, tr, clear, showError, money, statusLabel, qs, query, go, card, badge } from '../lib.js';

const STATUSES = ['normal', 'cut_off', 'fault', 'alarming', 'lost_contact', 'not_opened', 'unknown'];
const PAGE = 500;

export const COMMANDS = [
  ['switch_off', '拉闸', 'Switch off'], ['switch_on', '合闸', 'Switch on'], ['protect', '保电', 'Protect'],
  ['release', '解除保电', 'Release'], ['prepaid_mode', '预付费模式', 'Prepaid mode'], ['forced_off', '强制断电', 'Forced off'],
  ['clear_remaining', '清零', 'Clear remaining'], ['valve_close', '关阀', 'Close valve'], ['valve_open', '开阀', 'Open valve'],
];

export function commandLabel(c) {
  const x = COMMANDS.find((k) => k[0] === c);
  return x ? tr(x[1], x[2]) : c;
}

function flattenSites(items, depth = 0, out = []) {
  for (const s of items || []) {
    out.push({ id: s.id, name: '\u3000'.repeat(depth) + s.name });
    flattenSites(s.children, depth + 1, out);
  }
  return out;
}

register({
  id: 'board', path: '/meters/board', section: 'metering', label: { zh: '电表状态看板', en: 'Meter board' },
  async render(main, _params, ctx) {
    const t0 = performance.now();
    const code = encodeURIComponent(ctx.project.code);
    const q0 = query();
    const state = { siteId: q0.get('siteId') || '', status: q0.get('status') || '', q: q0.get('q') || '', offset: 0,
      selected: new Set(), outcomes: new Map(), tiles: new Map(), batch: null };
    const canControl = ctx.can('cashier') || ctx.can('maintenance');

    const siteSel = h('select', { name: 'siteId', 'aria-label': tr('区域', 'Site') }, h('option', { value: '' }, tr('全部区域', 'All sites')));
    const statusSel = h('select', { name: 'status', 'aria-label': tr('状态', 'Status') },
      h('option', { value: '' }, tr('全部状态', 'All statuses')),
      STATUSES.map((st) => h('option', { value: st, selected: st === state.status }, statusLabel(st))));
    const search = h('input', { type: 'search', name: 'q', value: state.q, placeholder: tr('表号 / 单元 / 租户', 'Meter / unit / tenant') });
    const legend = h('div', { class: 'vf-legend' });
    const pager = h('div', { class: 'vf-pager' });
    const board = h('div', { class: 'vf-board', role: 'grid', 'aria-label': tr('电表', 'Meters') });
    const side = h('div', { class: 'vf-side' });
    main.append(
      h('h2', null, tr('电表状态看板', 'Meter board')),
      h('div', { class: 'vf-toolbar' }, siteSel, statusSel, search,
        h('button', { type: 'button', class: 'vf-btn', onclick: () => selectPage() }, tr('全选本页', 'Select page')),
        h('button', { type: 'button', class: 'vf-btn', onclick: () => { state.selected.clear(); paintSelection(); } }, tr('清除选择', 'Clear selection'))),
      legend,
      h('div', { class: 'vf-board-layout' }, h('div', null, pager, board), side));

    api('GET', `/api/v1/projects/${code}/sites`).then((t) => {
      for (const s of flattenSites(t.items)) siteSel.appendChild(h('option', { value: s.id, selected: s.id === state.siteId }, s.name));
    }).catch(() => { /* the board works without the site list */ });

    const refilter = () => { state.offset = 0; load(); };
    siteSel.addEventListener('change', () => { state.siteId = siteSel.value; refilter(); });
    statusSel.addEventListener('change', () => { state.status = statusSel.value; refilter(); });
    let typing = null;
    search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { state.q = search.value.trim(); refilter(); }, 300); });

    function tileFor(m) {
      const tile = h('div', { class: 'vf-tile', role: 'gridcell', tabindex: '0', dataset: { meter: m.meterNo, status: m.status },
        title: `${m.meterNo} ${statusLabel(m.status)}` },
      h('b', null, m.meterNo), h('span', { class: 'vf-rem' }, money(m.remaining)), h('div', { class: 'vf-unit' }, m.unit || m.tenant || ''),
      h('span', { class: 'vf-outcome' }));
      return tile;
    }

    function updateTile(tile, m) {
      if (tile.dataset.status !== m.status) {
        tile.dataset.status = m.status;
        tile.title = `${m.meterNo} ${statusLabel(m.status)}`;
      }
      const rem = tile.querySelector('.vf-rem');
      const r = money(m.remaining);
      if (rem.textContent !== r) rem.textContent = r;
    }

    function paintSelection() {
      for (const [no, tile] of state.tiles) tile.classList.toggle('vf-sel', state.selected.has(no));
      for (const [no, tile] of state.tiles) {
        const o = state.outcomes.get(no);
        const el = tile.querySelector('.vf-outcome');
        const txt = o === 'done' ? '✓' : o === 'failed' ? '✗' : o ? '…' : '';
        if (el.textContent !== txt) el.textContent = txt;
      }
      renderSide();
    }

    function selectPage() {
      for (const no of state.tiles.keys()) state.selected.add(no);
      paintSelection();
    }

    board.addEventListener('click', (ev) => {
      const tile = ev.target.closest('.vf-tile');
      if (!tile) return;
      const no = tile.dataset.meter;
      if (state.selected.has(no)) state.selected.delete(no); else state.selected.add(no);
      paintSelection();
    });
    board.addEventListener('dblclick', (ev) => {
      const tile = ev.target.closest('.vf-tile');
      if (tile) go('/meters/' + encodeURIComponent(tile.dataset.meter));
    });
    board.addEventListener('keydown', (ev) => {
      const tile = ev.target.closest('.vf-tile');
      if (tile && (ev.key === ' ' || ev.key === 'Enter')) { ev.preventDefault(); tile.click(); }
    });

    function renderLegend(b) {
      clear(legend).append(...STATUSES.map((st) => h('a', { href: '#', class: ['vf-legend-item', state.status === st ? 'vf-on' : ''], dataset: { status: st },
        onclick: (ev) => { ev.preventDefault(); state.status = state.status === st ? '' : st; statusSel.value = state.status; refilter(); } },
      h('i', { class: 'vf-swatch', dataset: { status: st } }), `${statusLabel(st)} ${b.counts[st] || 0}`)));
    }

    function renderPager(b) {
      const pages = Math.max(1, Math.ceil(b.total / PAGE));
      const page = Math.floor(state.offset / PAGE) + 1;
      clear(pager).append(
        h('button', { type: 'button', class: 'vf-btn', disabled: page <= 1, onclick: () => { state.offset -= PAGE; load(); } }, tr('上一页', 'Previous')),
        h('span', null, tr(`第 ${page} / ${pages} 页，共 ${b.total} 块表`, `Page ${page} of ${pages}, ${b.total} meters`)),
        h('button', { type: 'button', class: 'vf-btn', disabled: page >= pages, onclick: () => { state.offset += PAGE; load(); } }, tr('下一页', 'Next')));
    }

    function renderTiles(items) {
      const same = items.length === state.tiles.size && items.every((m) => state.tiles.has(m.meterNo));
      if (same) {
        for (const m of items) updateTile(state.tiles.get(m.meterNo), m);
        return;
      }
      state.tiles.clear();
      const frag = document.createDocumentFragment();
      for (const m of items) {
        const tile = tileFor(m);
        state.tiles.set(m.meterNo, tile);
        frag.appendChild(tile);
      }
      clear(board).appendChild(frag);
      if (items.length === 0) board.appendChild(h('p', { class: 'vf-empty' }, tr('没有符合条件的电表', 'No meter matches')));
    }

    function renderSide() {
      const n = state.selected.size;
      const cmdSel = h('select', { name: 'command', 'aria-label': tr('命令', 'Command') },
        COMMANDS.map(([c, zh, en]) => h('option', { value: c }, `${tr(zh, en)} (${c})`)));
      const run = h('button', { type: 'button', class: 'vf-btn vf-primary', dataset: { action: 'run-command' }, disabled: n === 0 || !canControl },
        tr('下发命令', 'Send command'));
      run.addEventListener('click', () => send(cmdSel.value, run));
      const sel = [...state.selected].sort();
      const parts = [
        h('p', null, tr(`已选 ${n} 块表`, `${n} selected`)),
        sel.length ? h('p', { class: 'vf-muted vf-selected' }, sel.slice(0, 20).join(', ') + (sel.length > 20 ? ' …' : '')) : null,
        sel.length === 1 ? h('p', null, h('a', { href: '#/meters/' + encodeURIComponent(sel[0]) }, tr('查看电表详情', 'Open meter'))) : null,
        canControl ? h('div', { class: 'vf-toolbar' }, cmdSel, run)
          : h('p', { class: 'vf-muted' }, tr('您没有控制电表的权限', 'You may not control meters')),
      ];
      if (state.batch) {
        const b = state.batch;
        parts.push(h('div', { class: 'vf-batch', dataset: { batch: b.id || '', status: b.status || '' } },
          h('p', null, commandLabel(b.command), ' ', badge(b.status),
            b.total !== undefined ? ` ${b.done || 0}/${b.total}` + (b.failed ? tr(`，失败 ${b.failed}`, `, ${b.failed} failed`) : '') : ''),
          h('ul', { class: 'vf-list vf-outcomes' }, (b.items || []).slice(0, 50).map((it) =>
            h('li', { dataset: { meter: it.meterNo, status: it.status } }, it.meterNo, ' ', badge(it.status), it.failure ? ' ' + it.failure : '')))));
      }
      clear(side).append(card(tr('批量命令', 'Batch command'), parts));
    }

    async function send(command, btn) {
      const meterNos = [...state.selected].sort();
      if (meterNos.length === 0) return;
      btn.disabled = true;
      try {
        const acc = await api('POST', '/api/v1/meter-batches', { command, meterNos },
          { headers: { 'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random() } });
        state.batch = { id: acc.id, command, status: acc.status, total: acc.total, items: meterNos.map((no) => ({ meterNo: no, status: 'pending' })) };
        for (const no of meterNos) state.outcomes.set(no, 'pending');
        paintSelection();
        followBatch(acc.id, command);
      } catch (err) {
        showError(side, err);
        btn.disabled = false;
      }
    }

    function followBatch(id, command) {
      let stopped = false;
      const tick = async () => {
        if (stopped) return;
        const b = await api('GET', `/api/v1/meter-batches/${encodeURIComponent(id)}`);
        b.command = command;
        state.batch = b;
        for (const it of b.items || []) state.outcomes.set(it.meterNo, it.status);
        paintSelection();
        if (b.status !== 'running') { stopped = true; load(); }
      };
      const stop = ctx.poll(async () => { if (stopped) { stop(); return; } await tick(); }, 1000);
    }

    let inflight = null;
    async function load() {
      if (inflight) inflight.abort();
      const ac = new AbortController();
      inflight = ac;
      try {
        const b = await api('GET', `/api/v1/projects/${code}/meter-board` + qs({ siteId: state.siteId, status: state.status, q: state.q,
          offset: state.offset || '', limit: PAGE }), null, { signal: ac.signal });
        if (ac.signal.aborted) return;
        for (const old of main.querySelectorAll(':scope > .vf-error')) old.remove();
        renderLegend(b);
        renderPager(b);
        renderTiles(b.items);
        paintSelection();
        if (!main.dataset.readyAt) {
          // When the tiles are drawn and the page takes clicks again (after
          // the next frame): what the board's speed is measured by.
          requestAnimationFrame(() => setTimeout(() => {
            main.dataset.renderMs = String(Math.round(performance.now() - t0));
            main.dataset.readyAt = String(performance.now());
          }, 0));
        }
      } catch (err) {
        if (err && err.name === 'AbortError') return;
        showError(main, err);
      } finally {
        if (inflight === ac) inflight = null;
      }
    }

    renderSide();
    await load();
    ctx.poll(load, 2000);
  },
});
