// Meter detail (电表详情): balance and state, readings and consumption charts,
// sales, command log, alarms, and a button for every command (each followed
// until the meter answers). Polled every 2 s.
import { register, api, h, tr, clear, showError, notice, money, fmtTime, lineChart, barChart, badge, table, card, qs, button } from '../lib.js';
import { COMMANDS } from './board.js';

function kv(pairs) {
  return h('dl', { class: 'vf-kv' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

register({
  id: 'meter', path: '/meters/:meterNo', label: { zh: '电表详情', en: 'Meter' },
  async render(main, params, ctx) {
    const no = params.meterNo;
    const enc = encodeURIComponent(no);
    const code = encodeURIComponent(ctx.project.code);
    const canControl = ctx.can('cashier') || ctx.can('maintenance');
    const head = h('div');
    const loading = () => h('p', { class: 'vf-muted' }, tr('加载中…', 'Loading…'));
    const charts = h('div', { class: 'vf-grid2 vf-charts' }, loading());
    const cmdBox = h('div');
    const lists = h('div', { class: 'vf-lists' }, loading());
    main.append(
      h('h2', null, tr('电表 ', 'Meter '), h('span', { class: 'vf-meter-no' }, no)),
      h('div', { class: 'vf-toolbar' },
        h('a', { class: 'vf-btn', href: '#/sale?meterNo=' + enc }, tr('售电', 'Sell')),
        h('a', { class: 'vf-btn', href: '#/meters/board?q=' + enc }, tr('在看板中查看', 'On the board'))),
      head, cmdBox, charts, lists);

    async function loadHead() {
      const [m, board] = await Promise.all([
        api('GET', `/api/v1/meters/${enc}`),
        api('GET', `/api/v1/projects/${code}/meter-board` + qs({ q: no, limit: 20 })).catch(() => ({ items: [] })),
      ]);
      const tile = (board.items || []).find((t) => t.meterNo === no) || {};
      clear(head).append(h('div', { class: 'vf-grid2' },
        card(tr('余额', 'Balance'),
          h('div', { class: 'vf-big', dataset: { remaining: m.remaining ?? '' } }, m.remaining === null ? '—' : money(m.remaining)),
          h('p', null, tile.status ? badge(tile.status) : null, ' ', tr('读表时间 ', 'Read at '), fmtTime(m.lastReadAt))),
        card(tr('电表', 'Meter'), kv([
          [tr('单元', 'Unit'), tile.unit || '—'], [tr('租户', 'Tenant'), tile.tenant || '—'],
          [tr('网关 / 地址', 'Gateway / address'), `${m.gateway} / ${m.unitAddress}`], [tr('型号', 'Profile'), m.profile],
          [tr('电价', 'Price'), m.price], [tr('报警线 1 / 2', 'Alarm 1 / 2'), `${money(m.alarm1)} / ${money(m.alarm2)}`],
          [tr('累计电量（kWh）', 'Energy (kWh)'), m.energyKwh], [tr('购电次数', 'Purchases'), m.purchaseCount],
          [tr('继电器', 'Relay'), m.relay === 'open' ? tr('断开（拉闸）', 'open (off)') : m.relay === 'closed' ? tr('闭合', 'closed') : '—'],
          [tr('模式', 'Mode'), m.mode],
        ]))));
    }

    let lastCmd = null;
    function renderCommands() {
      const buttons = COMMANDS.map(([c, zh, en]) => button(`${tr(zh, en)}`, async () => {
        const acc = await api('POST', `/api/v1/meters/${enc}/commands`, { command: c },
          { headers: { 'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random() } });
        lastCmd = { id: acc.id, command: c, status: acc.status };
        renderCommands();
        const stop = ctx.poll(async () => {
          const x = await api('GET', `/api/v1/meter-commands/${encodeURIComponent(acc.id)}`);
          lastCmd = { id: acc.id, command: c, status: x.status, failure: x.failure };
          renderCommands();
          if (x.status === 'done' || x.status === 'failed') { stop(); refresh(); }
        }, 1000);
      }, c === 'switch_off' || c === 'forced_off' || c === 'clear_remaining' ? 'vf-danger' : ''));
      for (const b of buttons) b.dataset.command = COMMANDS[buttons.indexOf(b)][0];
      const readBtn = button(tr('立即读表', 'Read now'), async () => {
        await api('POST', `/api/v1/meters/${enc}/read`);
        notice(main, tr('已读表', 'Read'));
        refresh();
      });
      clear(cmdBox).append(card(tr('命令', 'Commands'),
        canControl ? h('div', { class: 'vf-actions' }, readBtn, buttons) : h('div', { class: 'vf-actions' }, readBtn,
          h('span', { class: 'vf-muted' }, tr('您没有控制电表的权限', 'You may not control meters'))),
        lastCmd ? h('p', { class: 'vf-last-command', dataset: { status: lastCmd.status } }, tr('最近命令：', 'Last command: '), lastCmd.command, ' ', badge(lastCmd.status),
          lastCmd.failure ? ' ' + lastCmd.failure : '') : null));
    }

    async function loadCharts() {
      const now = new Date();
      const from = new Date(now.getTime() - 30 * 86400e3);
      const [rd, cons] = await Promise.all([
        api('GET', `/api/v1/meters/${enc}/readings`),
        api('GET', '/api/v1/reports/consumption' + qs({ meterNo: no, granularity: 'day', from: from.toISOString(), to: now.toISOString(), limit: 100 })).catch(() => ({ items: [] })),
      ]);
      const pts = (rd.items || []).map((r) => ({ x: fmtTime(r.readAt).slice(5, 16), y: Number(r.remaining) }));
      const epts = (rd.items || []).map((r) => ({ x: fmtTime(r.readAt).slice(5, 16), y: Number(r.energyKwh) }));
      charts.dataset.loaded = '1';
      clear(charts).append(
        card(tr('余额（近 48 小时读数）', 'Balance (readings, last 48 h)'), pts.length ? lineChart(pts, { height: 200 }) : h('p', { class: 'vf-muted' }, tr('暂无读数', 'No readings yet')),
          epts.length ? lineChart(epts, { height: 160, name: tr('累计电量 kWh', 'Energy register kWh') }) : null),
        card(tr('每日用电（kWh，近 30 天）', 'Daily consumption (kWh, 30 days)'),
          (cons.items || []).length ? barChart(cons.items.map((c) => ({ label: fmtTime(c.bucket).slice(5, 10), value: Number(c.energyKwh) })), { height: 200 })
            : h('p', { class: 'vf-muted' }, tr('暂无用电数据', 'No consumption yet'))));
    }

    async function loadLists() {
      const [sales, cmds, alarms] = await Promise.all([
        api('GET', '/api/v1/recharges' + qs({ meterNo: no, limit: 10 })),
        api('GET', '/api/v1/reports/command-log' + qs({ meterNo: no, limit: 10 })).catch((e) => ({ error: e })),
        api('GET', '/api/v1/alarms' + qs({ meterNo: no, limit: 10 })),
      ]);
      lists.dataset.loaded = '1';
      clear(lists).append(
        card(tr('售电记录', 'Sales'), table([
          { label: { zh: '时间', en: 'Time' }, render: (r) => fmtTime(r.createdAt) },
          { label: { zh: '金额', en: 'Amount' }, render: (r) => money(r.amount) },
          { label: { zh: '状态', en: 'Status' }, render: (r) => badge(r.status) },
          { label: { zh: '流水号', en: 'Transaction' }, key: 'transactionNo' },
          { label: { zh: '', en: '' }, render: (r) => h('a', { href: `#/receipt/${encodeURIComponent(r.id)}` }, tr('小票', 'Receipt')) },
        ], sales.items)),
        card(tr('命令记录', 'Command log'), cmds.error ? showError(null, cmds.error) : table([
          { label: { zh: '时间', en: 'Time' }, render: (r) => fmtTime(r.createdAt) },
          { label: { zh: '命令', en: 'Command' }, key: 'command' },
          { label: { zh: '状态', en: 'Status' }, render: (r) => badge(r.status) },
          { label: { zh: '尝试', en: 'Attempts' }, key: 'attempts' },
          { label: { zh: '失败原因', en: 'Failure' }, key: 'failure' },
        ], cmds.items)),
        card(tr('告警', 'Alarms'), table([
          { label: { zh: '开始', en: 'Opened' }, render: (r) => fmtTime(r.openedAt) },
          { label: { zh: '类型', en: 'Kind' }, key: 'kind' },
          { label: { zh: '状态', en: 'Status' }, render: (r) => badge(r.status) },
          { label: { zh: '金额', en: 'Amount' }, render: (r) => money(r.alarmAmount) },
        ], alarms.items)));
    }

    async function refresh() {
      try {
        await loadHead();
        for (const old of main.querySelectorAll(':scope > .vf-error')) old.remove();
      } catch (err) {
        showError(main, err);
      }
    }

    renderCommands();
    await refresh();
    await Promise.all([loadCharts().catch((e) => showError(charts, e)), loadLists().catch((e) => showError(lists, e))]);
    ctx.poll(refresh, 2000);
    ctx.poll(() => loadLists().catch((e) => showError(lists, e)), 10000);
  },
});
