// Sale counter (售电): find a meter by number, unit or tenant; sell by
// amount, refund (退电), reverse a mistaken sale (冲正); each followed live
// until it completes or waits for approval; a printable receipt.
import { register, api, h, tr, clear, showError, notice, money, fmtTime, badge, table, card, qs, query, form, go } from '../lib.js';

const FINAL = ['completed', 'rejected', 'dispatch_failed', 'failed'];

function txNo(prefix) {
  const d = new Date();
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const rnd = Math.random().toString(36).slice(2, 8).toUpperCase();
  return `${prefix}${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${rnd}`;
}

register({
  id: 'sale', path: '/sale', section: 'metering', label: { zh: '售电', en: 'Sale counter' }, roles: ['cashier'],
  async render(main, _params, ctx) {
    const code = encodeURIComponent(ctx.project.code);
    const results = h('div');
    const meterBox = h('div');
    const follow = h('div', { class: 'vf-follow' });
    let meter = null;

    const searchForm = form([
      { name: 'find', label: { zh: '表号 / 单元 / 租户名', en: 'Meter number / unit / tenant' }, placeholder: 'M0009' },
    ], async (v) => {
      const b = await api('GET', `/api/v1/projects/${code}/meter-board` + qs({ q: v.find.trim(), limit: 50 }));
      const exact = b.items.find((m) => m.meterNo.toLowerCase() === v.find.trim().toLowerCase());
      if (exact || b.items.length === 1) { await pick((exact || b.items[0]).meterNo); clear(results); return; }
      clear(results).append(table([
        { label: { zh: '表号', en: 'Meter' }, key: 'meterNo' },
        { label: { zh: '单元', en: 'Unit' }, key: 'unit' },
        { label: { zh: '租户', en: 'Tenant' }, key: 'tenant' },
        { label: { zh: '余额', en: 'Balance' }, render: (m) => money(m.remaining) },
        { label: { zh: '状态', en: 'Status' }, render: (m) => badge(m.status) },
        { label: { zh: '', en: '' }, render: (m) => h('button', { type: 'button', class: 'vf-btn', dataset: { pick: m.meterNo }, onclick: () => pick(m.meterNo).catch((e) => showError(main, e)) }, tr('选择', 'Select')) },
      ], b.items, { empty: { zh: '没有找到电表', en: 'No meter found' } }));
    }, { submit: { zh: '查找', en: 'Find' } });
    searchForm.classList.add('vf-inline');
    searchForm.dataset.form = 'find';

    main.append(h('h2', null, tr('售电', 'Sale counter')), searchForm, results, h('div', { class: 'vf-grid2' }, meterBox, follow));

    async function pick(no) {
      const enc = encodeURIComponent(no);
      const [m, b, sales] = await Promise.all([
        api('GET', `/api/v1/meters/${enc}`),
        api('GET', `/api/v1/projects/${code}/meter-board` + qs({ q: no, limit: 20 })),
        api('GET', '/api/v1/recharges' + qs({ meterNo: no, limit: 10 })),
      ]);
      meter = Object.assign({}, m, (b.items || []).find((t) => t.meterNo === no) || {});
      renderMeter(sales.items || []);
    }

    function renderMeter(sales) {
      const m = meter;
      const sell = form([
        { name: 'amount', label: { zh: '售电金额（元）', en: 'Amount (CNY)' }, inputmode: 'decimal', placeholder: '100.00' },
      ], async (v) => {
        const tx = txNo('S');
        const acc = await api('POST', '/api/v1/recharges', { meterNo: m.meterNo, amount: v.amount.trim(), transactionNo: tx });
        followIt('recharge', acc.id, v.amount.trim(), tx);
      }, { submit: { zh: '售电', en: 'Sell' }, novalidate: true });
      sell.dataset.form = 'sell';
      const refund = form([
        { name: 'amount', label: { zh: '退电金额（元）', en: 'Refund amount (CNY)' }, inputmode: 'decimal' },
      ], async (v) => {
        const tx = txNo('R');
        const acc = await api('POST', '/api/v1/refunds', { meterNo: m.meterNo, amount: v.amount.trim(), transactionNo: tx });
        followIt('refund', acc.id, v.amount.trim(), tx);
      }, { submit: { zh: '退电', en: 'Refund' }, novalidate: true });
      refund.dataset.form = 'refund';
      clear(meterBox).append(card(tr('电表 ', 'Meter ') + m.meterNo,
        h('dl', { class: 'vf-kv' },
          h('dt', null, tr('单元', 'Unit')), h('dd', null, m.unit || '—'),
          h('dt', null, tr('租户', 'Tenant')), h('dd', null, m.tenant || '—'),
          h('dt', null, tr('状态', 'Status')), h('dd', null, m.status ? badge(m.status) : '—'),
          h('dt', null, tr('余额', 'Balance')), h('dd', { class: 'vf-big', dataset: { remaining: m.remaining ?? '' } }, money(m.remaining)),
          h('dt', null, tr('电价', 'Price')), h('dd', null, m.price)),
        h('p', null, h('a', { href: '#/meters/' + encodeURIComponent(m.meterNo) }, tr('电表详情', 'Meter detail'))),
        sell, h('hr'), refund),
      card(tr('最近售电', 'Recent sales'), table([
        { label: { zh: '时间', en: 'Time' }, render: (r) => fmtTime(r.createdAt) },
        { label: { zh: '金额', en: 'Amount' }, render: (r) => money(r.amount) },
        { label: { zh: '状态', en: 'Status' }, render: (r) => badge(r.status) },
        { label: { zh: '操作', en: 'Actions' }, render: (r) => h('span', { class: 'vf-actions' },
          h('a', { href: `#/receipt/${encodeURIComponent(r.id)}` }, tr('小票', 'Receipt')),
          r.status === 'completed' ? h('button', { type: 'button', class: 'vf-btn', dataset: { reverse: r.id }, onclick: () => reverse(r) }, tr('冲正', 'Reverse')) : null) },
      ], sales)));
    }

    function reverse(r) {
      const f = form([
        { name: 'reason', label: { zh: `冲正 ${money(r.amount)} 的原因`, en: `Reason to reverse ${money(r.amount)}` }, required: true },
      ], async (v) => {
        const tx = txNo('V');
        const acc = await api('POST', `/api/v1/recharges/${encodeURIComponent(r.id)}/reverse`, { transactionNo: tx, reason: v.reason });
        f.remove();
        followIt('refund', acc.id, r.amount, tx);
      }, { submit: { zh: '申请冲正', en: 'Apply for reversal' } });
      f.dataset.form = 'reverse';
      meterBox.appendChild(f);
    }

    let stopFollow = null;
    function followIt(kind, id, amount, tx) {
      if (stopFollow) stopFollow();
      const path = kind === 'recharge' ? `/api/v1/recharges/${encodeURIComponent(id)}` : `/api/v1/refunds/${encodeURIComponent(id)}`;
      const what = kind === 'recharge' ? tr('售电', 'Sale') : tr('退电 / 冲正', 'Refund / reversal');
      const show = (x) => {
        clear(follow).append(card(what, h('div', { class: 'vf-result', dataset: { kind, id, status: x.status } },
          h('p', null, badge(x.status)),
          h('dl', { class: 'vf-kv' },
            h('dt', null, tr('电表', 'Meter')), h('dd', null, x.meterNo || meter.meterNo),
            h('dt', null, tr('金额', 'Amount')), h('dd', null, money(x.amount || amount)),
            h('dt', null, tr('流水号', 'Transaction')), h('dd', null, x.transactionNo || tx),
            x.failure ? [h('dt', null, tr('原因', 'Failure')), h('dd', null, x.failure)] : null),
          x.status === 'pending_approval' ? h('p', { class: 'vf-warn' }, tr('等待审批人批准。', 'Waiting for an approver.')) : null,
          kind === 'recharge' ? h('p', null, h('a', { href: `#/receipt/${encodeURIComponent(id)}`, dataset: { receipt: id } }, tr('打印小票', 'Print receipt'))) : null)));
      };
      show({ status: 'pending' });
      let done = false;
      const tick = async () => {
        const x = await api('GET', path);
        show(x);
        if (FINAL.includes(x.status)) {
          done = true;
          stopFollow();
          if (meter) await pick(meter.meterNo);
          notice(follow, x.status === 'completed' ? tr('已完成。', 'Completed.') : tr('已结束：', 'Ended: ') + x.status);
        }
      };
      stopFollow = ctx.poll(async () => { if (!done) await tick(); }, 1000);
      tick().catch((e) => showError(follow, e));
    }

    const pre = query().get('meterNo');
    if (pre) {
      searchForm.elements.namedItem('find').value = pre;
      await pick(pre).catch((e) => showError(main, e));
    }
  },
});

register({
  id: 'receipt', path: '/receipt/:id', label: { zh: '售电小票', en: 'Receipt' },
  async render(main, params, ctx) {
    const r = await api('GET', `/api/v1/recharges/${encodeURIComponent(params.id)}`);
    const b = await api('GET', `/api/v1/projects/${encodeURIComponent(ctx.project.code)}/meter-board` + qs({ q: r.meterNo, limit: 20 })).catch(() => ({ items: [] }));
    const m = await api('GET', `/api/v1/meters/${encodeURIComponent(r.meterNo)}`).catch(() => ({}));
    const t = (b.items || []).find((x) => x.meterNo === r.meterNo) || {};
    main.append(
      h('div', { class: 'vf-toolbar vf-noprint' },
        h('button', { type: 'button', class: 'vf-btn vf-primary', onclick: () => window.print() }, tr('打印', 'Print')),
        h('button', { type: 'button', class: 'vf-btn', onclick: () => go('/sale?meterNo=' + encodeURIComponent(r.meterNo)) }, tr('返回售电', 'Back to the counter'))),
      h('div', { class: 'vf-receipt' },
        h('h3', null, ctx.project.name), h('p', null, tr('售电小票', 'Electricity sale receipt')),
        h('dl', null,
          h('dt', null, tr('流水号', 'Transaction')), h('dd', null, r.transactionNo),
          h('dt', null, tr('电表', 'Meter')), h('dd', null, r.meterNo),
          h('dt', null, tr('单元', 'Unit')), h('dd', null, t.unit || '—'),
          h('dt', null, tr('租户', 'Tenant')), h('dd', null, t.tenant || '—'),
          h('dt', null, tr('金额', 'Amount')), h('dd', null, money(r.amount)),
          h('dt', null, tr('状态', 'Status')), h('dd', null, badge(r.status)),
          h('dt', null, tr('购电次数', 'Purchase no.')), h('dd', null, r.meterCounter ?? '—'),
          h('dt', null, tr('当前余额', 'Balance now')), h('dd', null, money(m.remaining)),
          h('dt', null, tr('售电时间', 'Sold at')), h('dd', null, fmtTime(r.createdAt)),
          h('dt', null, tr('完成时间', 'Completed at')), h('dd', null, fmtTime(r.completedAt)),
          h('dt', null, tr('打印人', 'Printed by')), h('dd', null, ctx.me.displayName || ctx.me.username)),
        h('p', { class: 'vf-muted' }, tr('请妥善保管本小票。', 'Please keep this receipt.'))));
  },
});
