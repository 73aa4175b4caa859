// Charging (充电): stations, the station map (drawn offline as SVG: no tile
// server is reachable), the live connector view (polled every 2 s), orders,
// cards, dispatch plans, work orders, pricing and charge points.
import {register, api, h, tr, download} from '../lib.js';
import {
  L, listPage, page, buildForm, pagedList, errBox, fail, act, button, query, grid, cell, svg, bars, chartBox, rangeFields, filterBar, withTimes,
} from './util.js';

const enc = encodeURIComponent;

// Connector status (T/CEC table 8) with the board's colours.
export const CONNECTOR = {
  0: {zh: '离网', en: 'offline', colour: '#9e9e9e'},
  1: {zh: '空闲', en: 'idle', colour: '#3aa655'},
  2: {zh: '占用', en: 'occupied', colour: '#e0b21e'},
  3: {zh: '充电中', en: 'charging', colour: '#2f6fdf'},
  4: {zh: '预约', en: 'reserved', colour: '#8e44ad'},
  5: {zh: '充电完成', en: 'done', colour: '#16a085'},
  255: {zh: '故障', en: 'fault', colour: '#c0392b'},
};
const statusText = s => (CONNECTOR[s] ? tr(CONNECTOR[s].zh, CONNECTOR[s].en) : String(s));

const stationLink = id => h('a', {href: `#/charging/live/${enc(String(id).trim())}`}, String(id).trim());

listPage({
  id: 'stations', path: '/charging/stations', section: 'charging', label: L('充电站', 'Stations'),
  url: () => '/api/v1/charging-stations',
  columns: [{key: 'stationId', label: 'stationId', render: r => stationLink(r.stationId)}, 'name', 'address',
    'chargers', 'connectors', 'lng', 'lat'],
});

// The map: stations at their longitude / latitude on an equirectangular
// projection of their bounding box, labelled; a click opens the live view.
register({
  id: 'station-map', path: '/charging/map', section: 'charging', label: L('电站地图', 'Station map'),
  render: async (main, params, ctx) => {
    const root = page(main, 'station-map', L('电站地图', 'Station map'));
    const box = errBox();
    root.append(box);
    try {
      const {items} = await api('GET', '/api/v1/charging-stations');
      const pts = (items || []).filter(s => Number.isFinite(Number(s.lng)) && Number.isFinite(Number(s.lat)));
      if (!pts.length) {
        root.append(h('p', {class: 'vf-empty'}, tr('暂无电站', 'No stations')));
        return;
      }
      root.append(stationMap(pts, id => ctx.go(`/charging/live/${enc(String(id).trim())}`)));
      root.append(grid([{key: 'stationId', label: 'stationId', render: r => stationLink(r.stationId)}, {key: 'name', label: 'name'},
        {key: 'lng', label: 'lng'}, {key: 'lat', label: 'lat'}], pts));
    } catch (e) {
      fail(box, e);
    }
  },
});

export function stationMap(pts, onPick, {width = 900, height = 520} = {}) {
  const lngs = pts.map(p => Number(p.lng)), lats = pts.map(p => Number(p.lat));
  let [x0, x1, y0, y1] = [Math.min(...lngs), Math.max(...lngs), Math.min(...lats), Math.max(...lats)];
  const padDeg = Math.max(0.01, (x1 - x0) * 0.1, (y1 - y0) * 0.1);
  x0 -= padDeg; x1 += padDeg; y0 -= padDeg; y1 += padDeg;
  // Keep degrees square at the mean latitude so the map is not stretched.
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const sx = width / ((x1 - x0) * k), sy = height / (y1 - y0);
  const s = Math.min(sx, sy);
  const X = lng => (lng - x0) * k * s + (width - (x1 - x0) * k * s) / 2;
  const Y = lat => height - ((lat - y0) * s + (height - (y1 - y0) * s) / 2);
  const g = svg('svg', {class: 'vf-map', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img'});
  g.append(svg('rect', {x: 0, y: 0, width, height, fill: '#f4f7fb', stroke: '#ccd'}));
  // A graticule every step degrees, labelled, so positions can be read.
  const step = niceStep(Math.max(x1 - x0, y1 - y0) / 6);
  for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) {
    g.append(svg('line', {x1: X(v), y1: 0, x2: X(v), y2: height, stroke: '#dde'}),
      svg('text', {x: X(v) + 2, y: height - 4, 'font-size': 10, fill: '#889'}, v.toFixed(3) + '°E'));
  }
  for (let v = Math.ceil(y0 / step) * step; v <= y1; v += step) {
    g.append(svg('line', {x1: 0, y1: Y(v), x2: width, y2: Y(v), stroke: '#dde'}),
      svg('text', {x: 2, y: Y(v) - 2, 'font-size': 10, fill: '#889'}, v.toFixed(3) + '°N'));
  }
  for (const p of pts) {
    const x = X(Number(p.lng)), y = Y(Number(p.lat));
    const dot = svg('g', {class: 'vf-map-station', 'data-station': String(p.stationId).trim(), cursor: 'pointer'},
      svg('circle', {cx: x, cy: y, r: 7, fill: '#2f6fdf', stroke: '#fff', 'stroke-width': 2}),
      svg('text', {x: x + 10, y: y + 4, 'font-size': 12}, p.name || String(p.stationId).trim()),
      svg('title', {}, `${p.name || ''} ${String(p.stationId).trim()} (${p.lng}, ${p.lat})`));
    dot.addEventListener('click', () => onPick(p.stationId));
    g.append(dot);
  }
  return g;
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw || 0.01)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

// Live connectors: the station's connectors polled every 2 s.
function liveView(main, params, ctx) {
  const root = page(main, 'charging-live', L('实时监控', 'Live connectors'));
  const box = errBox();
  const tiles = h('div', {class: 'vf-board vf-tiles'});
  const stamp = h('p', {class: 'vf-stamp'});
  const pick = buildForm([{name: 'station', label: L('电站编号', 'Station ID'), type: 'text', required: true,
    value: params.id || '', keep: true}], async v => { ctx.go(`/charging/live/${enc(v.station)}`); return false; },
  {submit: L('查看', 'Show'), inline: true, reset: false});
  const chart = h('div', {class: 'vf-chart-box', style: {maxWidth: '520px'}});
  root.append(pick, box, stamp, chart, tiles);
  const load = async () => {
    let id = params.id;
    if (!id) {
      const {items} = await api('GET', '/api/v1/charging-stations');
      if (!items || !items.length) {
        tiles.replaceChildren(h('p', {class: 'vf-empty'}, tr('暂无电站', 'No stations')));
        return;
      }
      id = String(items[0].stationId).trim();
      pick.querySelector('input[name=station]').value = id;
    }
    try {
      const res = await api('GET', `/api/v1/charging-stations/${enc(id)}/live`);
      box.replaceChildren();
      const counts = {};
      tiles.replaceChildren(...res.connectors.map(c => {
        const st = c.online ? c.status : 0;
        counts[st] = (counts[st] || 0) + 1;
        return h('div', {class: 'vf-tile', dataset: {connector: c.connectorId, status: String(st)},
          style: {borderLeft: `6px solid ${(CONNECTOR[st] || CONNECTOR[0]).colour}`}},
        h('b', {title: c.connectorId}, '…' + c.connectorId.slice(-7)), h('div', {}, statusText(st)),
        h('div', {}, c.soc ? `SOC ${c.soc}%` : ''),
        h('div', {}, c.orderId ? `${tr('订单', 'Order')} ${c.orderStatus}` : ''),
        h('small', {}, cell('changedAt', c.changedAt)));
      }));
      chart.replaceChildren(chartBox(tr('枪状态分布', 'Connectors by state'),
        bars(Object.entries(counts).map(([s, n]) => ({label: statusText(Number(s)), value: n})), {height: 160, width: 480})));
      stamp.textContent = tr('更新于 ', 'Updated ') + new Date().toLocaleTimeString();
    } catch (e) {
      fail(box, e);
    }
  };
  return load().then(() => ctx.poll(load, 2000));
}

register({id: 'charging-live', path: '/charging/live', section: 'charging', label: L('实时监控', 'Live connectors'),
  render: async (main, params, ctx) => {
    try {
      await liveView(main, params, ctx);
    } catch (e) {
      fail(main.querySelector('.vf-errbox') || main, e);
    }
  }});
register({id: 'charging-live-station', path: '/charging/live/:id', label: L('实时监控', 'Live connectors'),
  render: async (main, params, ctx) => {
    try {
      await liveView(main, params, ctx);
    } catch (e) {
      fail(main.querySelector('.vf-errbox') || main, e);
    }
  }});

const orderFilters = [
  {name: 'stationId', label: L('电站', 'Station'), type: 'text'},
  {name: 'cardNo', label: L('卡号', 'Card'), type: 'text'},
  {name: 'vin', label: 'VIN', type: 'text'},
  {name: 'status', label: L('状态', 'Status'), type: 'select', options: ['starting', 'charging', 'completed', 'failed']},
  ...rangeFields(30),
];

listPage({
  id: 'charging-orders', path: '/charging/orders', section: 'charging', label: L('充电订单', 'Charging orders'),
  filters: orderFilters,
  url: p => '/api/v1/charging-orders' + query(withTimes(p)),
  export: p => '/api/v1/charging-orders/export' + query(withTimes(p)),
  columns: ['createdAt', 'stationId', 'equipmentId', 'connector', 'source', 'cardNo', 'status', 'energyKwh', 'energyFee',
    'serviceFee', 'amount', 'startedAt', 'stoppedAt',
    {key: 'stop', label: L('操作', 'Actions'), render: r => {
      if (r.status !== 'charging' && r.status !== 'starting') return '—';
      const box = errBox();
      return h('span', {}, button(L('停止', 'Stop'), act(box, () => api('POST', `/api/v1/charging-orders/${enc(r.id)}/stop`))), box);
    }}],
  create: [{
    title: L('远程启动充电', 'Start charging'),
    fields: [{name: 'cardNo', label: L('卡号', 'Card'), type: 'text', required: true},
      {name: 'connectorId', label: L('充电枪', 'Connector ID'), type: 'text', required: true}],
    submitLabel: L('启动', 'Start'),
    submit: v => api('POST', '/api/v1/charging-orders', v),
  }],
});

// TOU statistics of orders with a chart of kWh per period.
register({
  id: 'charging-tou', path: '/charging/tou', section: 'charging', label: L('尖峰平谷统计', 'TOU statistics'),
  render: async (main) => {
    const root = page(main, 'charging-tou', L('尖峰平谷统计', 'TOU statistics'));
    const box = errBox();
    const out = h('div', {});
    let cur = Object.fromEntries(rangeFields(30).map(f => [f.name, f.value]));
    const show = async v => {
      cur = v;
      box.replaceChildren();
      try {
        const {items} = await api('GET', '/api/v1/charging-orders/tou-stats' + query(withTimes(v)));
        const by = {};
        for (const r of items || []) by[r.period] = (by[r.period] || 0) + Number(r.kwh || 0);
        out.replaceChildren(
          ...(items && items.length ? [chartBox(tr('各时段电量 (kWh)', 'kWh per period'),
            bars(['sharp', 'peak', 'flat', 'valley'].map(p => ({label: p, value: by[p] || 0})), {height: 180}))] : []),
          grid(['stationId', 'period', 'orders', 'kwh', 'energyFee', 'serviceFee'].map(k => ({key: k, label: k})), items));
      } catch (e) {
        fail(box, e);
      }
    };
    root.append(filterBar(orderFilters.map(f => ({...f, value: cur[f.name] ?? f.value})), show,
      [button(L('导出 Excel', 'Export Excel'), async () => {
        try {
          await download('/api/v1/charging-orders/tou-stats' + query({...withTimes(cur), format: 'xlsx'}), 'tou-stats.xlsx');
        } catch (e) {
          fail(box, e);
        }
      }, 'vf-export')]), box, out);
    await show(cur);
  },
});

// Cards: look one up (with its history) and act on it; activate new ones.
register({
  id: 'cards', path: '/charging/cards', section: 'charging', label: L('充电卡', 'Cards'),
  render: async (main) => {
    const root = page(main, 'cards', L('充电卡', 'Cards'));
    const out = h('div', {});
    const show = async cardNo => {
      const c = await api('GET', `/api/v1/cards/${enc(cardNo)}`);
      const hist = await api('GET', `/api/v1/cards/${enc(cardNo)}/history`);
      const pk = await api('GET', '/api/v1/charging-packages' + query({cardNo}));
      const box = errBox();
      const again = () => show(cardNo);
      const reason = h('input', {type: 'text', name: 'reason', placeholder: tr('原因', 'Reason')});
      const st = verb => act(box, () => api('POST', `/api/v1/cards/${enc(cardNo)}/${verb}`, reason.value ? {reason: reason.value} : {}), again);
      out.replaceChildren(
        grid(['cardNo', 'holder', 'status', 'balance', 'accountNo', 'updatedAt'].map(k => ({key: k, label: k})), [c]),
        h('div', {class: 'vf-actions'}, reason, button(L('冻结', 'Freeze'), st('freeze')),
          button(L('解冻', 'Unfreeze'), st('unfreeze')), button(L('作废', 'Void'), st('void'), 'vf-danger')), box,
        h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr('变更持卡人', 'Change holder')),
          buildForm([{name: 'holder', label: L('持卡人', 'Holder'), type: 'text', required: true},
            {name: 'phone', label: L('电话', 'Phone'), type: 'text'}],
          async v => { await api('PUT', `/api/v1/cards/${enc(cardNo)}/holder`, v); await again(); })),
        h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr('绑定车辆 (VIN)', 'Register a vehicle (VIN)')),
          buildForm([{name: 'vin', label: 'VIN', type: 'text', required: true},
            {name: 'plate', label: L('车牌', 'Plate'), type: 'text'}],
          v => api('POST', '/api/v1/vehicles', {...v, cardNo}).then(() => tr('已绑定', 'Registered')))),
        h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr('月度套餐', 'Monthly package')),
          buildForm([{name: 'month', label: L('月份 (YYYY-MM)', 'Month (YYYY-MM)'), type: 'text', required: true,
            value: new Date().toISOString().slice(0, 7)},
          {name: 'quotaKwh', label: L('额度 (kWh)', 'Quota (kWh)'), type: 'text', required: true},
          {name: 'equipmentIds', label: L('设备（逗号分隔）', 'Equipment IDs'), type: 'list'}],
          async v => { await api('POST', '/api/v1/charging-packages', {...v, cardNo}); await again(); })),
        h('h3', {}, tr('套餐', 'Packages')),
        grid(['month', 'customer', 'quotaKwh', 'usedKwh', 'equipmentIds'].map(k => ({key: k, label: k})), pk.items),
        h('h3', {}, tr('变更历史', 'History')),
        grid(['at', 'from', 'to', 'reason'].map(k => ({key: k, label: k})), hist.items));
    };
    root.append(
      buildForm([{name: 'cardNo', label: L('卡号', 'Card number'), type: 'text', required: true}],
        async v => { await show(v.cardNo); return false; }, {submit: L('查询', 'Look up'), inline: true, reset: false}),
      h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr('开卡', 'Activate a card')),
        buildForm([{name: 'cardNo', label: L('卡号', 'Card number'), type: 'text', required: true},
          {name: 'holder', label: L('持卡人', 'Holder'), type: 'text', required: true},
          {name: 'phone', label: L('电话', 'Phone'), type: 'text'}],
        async (v) => { const c = await api('POST', '/api/v1/cards', v); await show(c.cardNo || v.cardNo); },
        {submit: L('开卡', 'Activate')})),
      out);
  },
});

listPage({
  id: 'dispatch-plans', path: '/charging/dispatch', section: 'charging', label: L('调度计划', 'Dispatch plans'),
  filters: [{name: 'stationId', label: L('电站', 'Station'), type: 'text'},
    {name: 'kind', label: L('类型', 'Kind'), type: 'select', options: ['timed', 'smart']}],
  url: p => '/api/v1/dispatch/plans' + query(p),
  columns: ['createdAt', 'stationId', 'planId', 'kind', 'status', 'createdBy', 'cancelledAt',
    {key: 'state', label: L('当前', 'Now'), render: r => (r.state && r.state.siteKw !== undefined ? `${r.state.siteKw} kW` : '—')},
    {key: 'cancel', label: L('操作', 'Actions'), render: r => {
      if (r.status !== 'running' && r.status !== 'not_started') return '—';
      const box = errBox();
      return h('span', {}, button(L('取消', 'Cancel'),
        act(box, () => api('DELETE', `/api/v1/dispatch/plans/${enc(String(r.stationId).trim())}/${enc(r.planId)}`)), 'vf-danger'), box);
    }}],
  create: [{
    title: L('手动调度', 'Manual dispatch command'),
    fields: [{name: 'connectorId', label: L('充电枪', 'Connector ID'), type: 'text', required: true},
      {name: 'command', label: L('命令', 'Command'), type: 'select', required: true, options: ['start', 'stop', 'limit', 'release']},
      {name: 'powerKw', label: L('功率 (kW)', 'Power (kW)'), type: 'number'},
      {name: 'idTag', label: 'idTag', type: 'text'}],
    submitLabel: L('下发', 'Send'),
    submit: v => api('POST', '/api/v1/dispatch/commands', v),
  }, {
    title: L('新建调度计划 (JSON)', 'New dispatch plan (JSON)'),
    fields: [{name: 'plan', label: L('计划', 'Plan'), type: 'json', required: true, rows: 10, value: {
      stationId: '', kind: 'smart', siteLimitKw: 100, connectorIds: [],
      defaultVehicle: {capacityKwh: 60, maxKw: 7}, until: new Date(Date.now() + 86400000).toISOString()}}],
    submit: v => api('POST', '/api/v1/dispatch/plans', v.plan),
  }, {
    title: L('调整站点功率上限', 'Change a smart plan\'s site limit'),
    fields: [{name: 'stationId', label: L('电站', 'Station'), type: 'text', required: true},
      {name: 'planId', label: L('计划', 'Plan'), type: 'text', required: true},
      {name: 'kw', label: 'kW', type: 'number', required: true}],
    submit: v => api('POST', `/api/v1/dispatch/plans/${enc(v.stationId)}/${enc(v.planId)}/site-limit`, {kw: v.kw}),
  }],
  live: 5000,
});

listPage({
  id: 'work-orders', path: '/charging/work-orders', section: 'charging', label: L('运维工单', 'Work orders'),
  filters: [{name: 'status', label: L('状态', 'Status'), type: 'select', options: ['active', 'open', 'acknowledged', 'closed']},
    {name: 'chargePointId', label: L('充电桩', 'Charge point'), type: 'text'}],
  url: p => '/api/v1/work-orders' + query(p),
  columns: ['openedAt', 'chargePointId', 'connector', 'title', 'source', 'status', 'faultActive', 'acknowledgedAt', 'closedAt',
    {key: 'act', label: L('操作', 'Actions'), render: r => {
      if (r.status === 'closed') return '—';
      const box = errBox();
      const text = h('input', {type: 'text', placeholder: tr('备注 / 处理结果', 'Note / resolution')});
      const el = h('span', {class: 'vf-actions'}, text);
      if (r.status === 'open') {
        el.append(button(L('确认', 'Acknowledge'), act(box, () => api('POST', `/api/v1/work-orders/${enc(r.id)}/ack`, text.value ? {note: text.value} : {}))));
      }
      el.append(button(L('关闭', 'Resolve'), act(box, () => {
        if (!text.value) throw new Error(tr('请填写处理结果', 'Write the resolution'));
        return api('POST', `/api/v1/work-orders/${enc(r.id)}/resolve`, {resolution: text.value});
      })), box);
      return el;
    }}],
});

listPage({
  id: 'pricing', path: '/charging/pricing', section: 'charging', label: L('计费策略', 'Pricing'),
  url: () => '/api/v1/pricing-strategies',
  columns: ['code', 'name', {key: 'versions', label: 'versions', render: r => String((r.versions || []).length)}, 'id'],
  create: [{
    title: L('保存计费策略 (JSON)', 'Save a pricing strategy (JSON)'),
    fields: [{name: 'strategy', label: L('策略', 'Strategy'), type: 'json', required: true, rows: 12, value: {
      code: 'STD', name: '标准', stationIds: [], versions: [{version: 1, effectiveFrom: new Date().toISOString(),
        schedule: [{startMinute: 0, period: 'valley'}, {startMinute: 480, period: 'flat'}],
        prices: {valley: {energy: '0.40', service: '0.60'}, flat: {energy: '0.80', service: '0.60'}}}]}}],
    submitLabel: L('保存', 'Save'),
    submit: v => api('POST', '/api/v1/pricing-strategies', v.strategy),
  }],
});

listPage({
  id: 'customer-groups', path: '/charging/groups', section: 'charging', label: L('客户分组与折扣', 'Groups & discounts'),
  url: () => '/api/v1/customer-groups',
  columns: ['name', 'kind', 'customerIds', 'id'],
  create: [{
    title: L('保存客户分组', 'Save a customer group'),
    fields: [{name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'kind', label: L('类型', 'Kind'), type: 'select', required: true, options: ['person', 'enterprise']},
      {name: 'customerIds', label: L('客户编号（逗号分隔）', 'Customer IDs'), type: 'list'}],
    submitLabel: L('保存', 'Save'),
    submit: v => api('POST', '/api/v1/customer-groups', v),
  }, {
    title: L('保存折扣策略', 'Save a discount'),
    fields: [{name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'kind', label: L('类型', 'Kind'), type: 'select', required: true, options: ['service_percent', 'total_percent']},
      {name: 'percent', label: L('百分比', 'Percent'), type: 'text', required: true},
      {name: 'groupIds', label: L('分组编号（逗号分隔）', 'Group IDs'), type: 'list'},
      {name: 'stationIds', label: L('电站（逗号分隔）', 'Station IDs'), type: 'list'}],
    submitLabel: L('保存', 'Save'),
    submit: v => api('POST', '/api/v1/charging-discounts', v),
  }],
});

// A charge point: presence, connectors and its OCPP message log.
register({
  id: 'chargers', path: '/charging/chargers', section: 'charging', label: L('充电桩报文', 'Charge points'),
  render: async (main) => {
    const root = page(main, 'chargers', L('充电桩报文', 'Charge points'));
    const out = h('div', {});
    root.append(buildForm([{name: 'id', label: L('充电桩编号', 'Charge point ID'), type: 'text', required: true}],
      async v => {
        const cp = await api('GET', `/api/v1/chargers/${enc(v.id)}`);
        const msgs = pagedList({url: p => `/api/v1/chargers/${enc(v.id)}/messages` + query(p), limit: 100});
        out.replaceChildren(h('pre', {class: 'vf-json'}, JSON.stringify(cp, null, 2)), h('h3', {}, tr('报文', 'Messages')), msgs.el);
        await msgs.reload({});
        return false;
      }, {submit: L('查询', 'Look up'), inline: true, reset: false}), out);
  },
});
