// Home dashboard (首页): meters by status in the board's colours, sales
// today, live alarms, lost contact, pending tasks, charging now, and today
// against yesterday by hour. One summary call, polled every 2 s.
import { register, api, h, tr, clear, showError, money, fmtTime, lineChart, barChart, statusLabel, card, link } from '../lib.js';

const BOARD = ['normal', 'cut_off', 'fault', 'alarming', 'lost_contact', 'not_opened', 'unknown'];
const CONNECTORS = [['idle', '空闲', 'Idle'], ['charging', '充电中', 'Charging'], ['occupied', '占用', 'Occupied'],
  ['reserved', '预约', 'Reserved'], ['offline', '离线', 'Offline'], ['fault', '故障', 'Fault']];

function stat(value, label, attrs) {
  return h('div', Object.assign({ class: 'vf-stat' }, attrs || {}), h('b', null, String(value)), h('span', null, label));
}

function view(d, project) {
  const meters = h('div', { class: 'vf-stats' }, BOARD.map((st) =>
    h('a', { class: 'vf-stat vf-board-stat', href: `#/meters/board?status=${st}`, dataset: { status: st } },
      h('i', { class: 'vf-swatch', dataset: { status: st } }), h('b', null, String(d.meters[st] || 0)), h('span', null, statusLabel(st)))));
  const hours = [...Array(24).keys()].map((i) => String(i).padStart(2, '0'));
  const chart = lineChart([
    { name: tr('今日', 'Today'), points: hours.map((x, i) => ({ x, y: Number(d.today[i]) })) },
    { name: tr('昨日', 'Yesterday'), points: hours.map((x, i) => ({ x, y: Number(d.yesterday[i]) })), color: '#8c959f' },
  ], { title: tr('今日与昨日用电（kWh，按小时）', 'Today vs yesterday (kWh by hour)'), height: 220 });
  const c = d.charging || { connectors: {} };
  const connectorBars = barChart(CONNECTORS.map(([k, zh, en]) => ({ label: tr(zh, en), value: (c.connectors || {})[k] || 0,
    color: { idle: '#2da44e', charging: '#1f6feb', occupied: '#bf8700', reserved: '#8250df', offline: '#8c959f', fault: '#cf222e' }[k] })),
  { height: 180, title: tr('充电枪状态', 'Connectors by state') });
  return [
    h('h2', null, tr('首页', 'Home'), ' ', h('small', { class: 'vf-muted' }, project.name)),
    card(tr('电表状态', 'Meters by status'), meters),
    h('div', { class: 'vf-stats vf-kpis' },
      stat(money(d.salesToday.amount), tr(`今日售电（${d.salesToday.count} 笔）`, `Sales today (${d.salesToday.count})`), { dataset: { kpi: 'sales' } }),
      stat(d.openAlarms, tr('当前告警', 'Open alarms'), { dataset: { kpi: 'alarms' } }),
      stat(d.lostMeters, tr('失联电表', 'Meters lost'), { dataset: { kpi: 'lost-meters' } }),
      stat(d.lostGateways.length, tr('失联网关', 'Gateways lost'), { dataset: { kpi: 'lost-gateways' } }),
      h('a', { href: '#/tasks', class: 'vf-stat', dataset: { kpi: 'tasks' } }, h('b', null, String(d.pendingTasks)), h('span', null, tr('待办审批', 'Pending tasks')))),
    h('div', { class: 'vf-grid2' },
      card(tr('今日与昨日用电（kWh，按小时）', 'Today vs yesterday (kWh by hour)'), chart),
      card(tr('当前告警', 'Live alarms'), d.alarms.length === 0 ? h('p', { class: 'vf-muted' }, tr('没有未处理的告警', 'No open alarms')) :
        h('ul', { class: 'vf-list' }, d.alarms.map((a) => h('li', null, link(`/meters/${encodeURIComponent(a.meterNo)}`, a.meterNo), ' ', a.kind, ' ',
          h('span', { class: 'vf-muted' }, fmtTime(a.openedAt))))),
        d.lostGateways.length ? h('p', null, tr('失联网关：', 'Gateways lost: '), d.lostGateways.join(', ')) : null)),
    card(tr('充电', 'Charging'),
      h('div', { class: 'vf-stats' },
        stat(c.sessionsNow, tr('正在充电', 'Sessions now')),
        stat(c.energyTodayKwh, tr('今日充电量（kWh）', 'Energy today (kWh)'))),
      connectorBars),
  ];
}

register({
  id: 'home', path: '/', section: 'home', label: { zh: '首页', en: 'Home' },
  async render(main, _params, ctx) {
    const code = encodeURIComponent(ctx.project.code);
    const body = h('div', null, h('p', { class: 'vf-muted' }, tr('加载中…', 'Loading…')));
    main.append(body);
    const load = async () => {
      try {
        const d = await api('GET', `/api/v1/projects/${code}/dashboard`);
        clear(body).append(...view(d, ctx.project));
      } catch (err) {
        showError(main, err);
      }
    };
    await load();
    ctx.poll(load, 5000);
  },
});
