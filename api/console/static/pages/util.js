// Builders shared by the list, form and report pages (engineer "consolepages").
// Everything here is on top of lib.js: a form from field specs, a paged list
// page from a route and columns, hand-drawn SVG charts and small helpers.
import {api, download, tr, h, register, showError, fmtTime, badge} from '../lib.js';

export const L = (zh, en) => ({zh, en});

// Labels of common response keys, so a list needs only the key names.
const KEYS = {
  id: L('编号', 'ID'), meterNo: L('表号', 'Meter'), status: L('状态', 'Status'), kind: L('类型', 'Kind'),
  amount: L('金额', 'Amount'), createdAt: L('创建时间', 'Created'), updatedAt: L('更新时间', 'Updated'),
  completedAt: L('完成时间', 'Completed'), createdBy: L('创建人', 'Created by'), name: L('名称', 'Name'),
  code: L('编码', 'Code'), detail: L('详情', 'Detail'), openedAt: L('发生时间', 'Opened'),
  closedAt: L('结束时间', 'Closed'), mode: L('方式', 'Mode'), resolution: L('处理结果', 'Resolution'),
  recipient: L('接收人', 'Recipient'), text: L('内容', 'Text'), stage: L('阶段', 'Stage'), sentAt: L('发送时间', 'Sent'),
  delivery: L('送达', 'Delivery'), provider: L('通道', 'Provider'), transactionNo: L('流水号', 'Transaction'),
  command: L('命令', 'Command'), attempts: L('尝试次数', 'Attempts'), failure: L('失败原因', 'Failure'),
  batchId: L('批次', 'Batch'), title: L('标题', 'Title'), taxId: L('税号', 'Tax ID'), invoiceNo: L('发票号', 'Invoice no.'),
  issuedAt: L('开具时间', 'Issued'), faceValue: L('面值', 'Face value'), quantity: L('数量', 'Quantity'),
  expiresAt: L('到期时间', 'Expires'), number: L('券号', 'Number'), unused: L('余额', 'Unused'), email: L('邮箱', 'E-mail'),
  phone: L('电话', 'Phone'), balance: L('余额', 'Balance'), holder: L('持卡人', 'Holder'), cardNo: L('卡号', 'Card'),
  stationId: L('电站', 'Station'), equipmentId: L('设备', 'Equipment'), connector: L('枪号', 'Connector'),
  connectorId: L('充电枪', 'Connector'), energyKwh: L('电量(kWh)', 'Energy (kWh)'), startedAt: L('开始时间', 'Started'),
  stoppedAt: L('结束时间', 'Stopped'), source: L('来源', 'Source'), planId: L('计划', 'Plan'),
  chargePointId: L('充电桩', 'Charge point'), faultActive: L('故障中', 'Fault active'), operator: L('操作员', 'Operator'),
  action: L('操作', 'Action'), subject: L('对象', 'Subject'), at: L('时间', 'At'), organisation: L('组织', 'Organisation'),
  roles: L('角色', 'Roles'), lastUsedAt: L('最后使用', 'Last used'), revokedAt: L('吊销时间', 'Revoked'),
  bucket: L('时段', 'Period'), key: L('对象', 'Key'), intervals: L('区间数', 'Intervals'), unit: L('单元', 'Unit'),
  customer: L('客户', 'Customer'), recharged: L('售电', 'Recharged'), refunded: L('退电', 'Refunded'),
  reversed: L('冲正', 'Reversed'), spent: L('消费', 'Spent'), subjectNo: L('编号', 'Number'), gateway: L('网关', 'Gateway'),
  raisedAt: L('失联时间', 'Lost at'), clearedAt: L('恢复时间', 'Recovered'), period: L('期间', 'Period'),
  recharges: L('笔数', 'Count'), net: L('净额', 'Net'), cash: L('现金', 'Cash'), voucherPaid: L('券支付', 'Voucher paid'),
  opening: L('期初', 'Opening'), closing: L('期末', 'Closing'), consumed: L('消费', 'Consumed'), other: L('其他', 'Other'),
  account: L('账户', 'Account'), lines: L('明细数', 'Lines'), orders: L('订单数', 'Orders'), kwh: L('电量(kWh)', 'kWh'),
  energyFee: L('电费', 'Energy fee'), serviceFee: L('服务费', 'Service fee'), level: L('层级', 'Level'),
  displayName: L('姓名', 'Display name'), username: L('用户名', 'Username'), disabled: L('停用', 'Disabled'),
  online: L('在线', 'Online'), soc: L('SOC', 'SOC'), orderStatus: L('订单状态', 'Order'), changedAt: L('变化时间', 'Changed'),
  address: L('地址', 'Address'), lng: L('经度', 'Longitude'), lat: L('纬度', 'Latitude'), connectors: L('枪数', 'Connectors'),
  chargers: L('桩数', 'Chargers'), month: L('月份', 'Month'), quotaKwh: L('额度(kWh)', 'Quota (kWh)'), usedKwh: L('已用(kWh)', 'Used (kWh)'),
  versions: L('版本', 'Versions'), customerIds: L('成员', 'Members'), limit: L('额度', 'Limit'), cycleStart: L('账期开始', 'Cycle start'),
  due: L('应还', 'Due'), paid: L('已还', 'Paid'), dueAt: L('到期', 'Due at'), ref: L('关联', 'Ref'), to: L('收件人', 'To'),
  siteId: L('站点', 'Site'), walletBalance: L('钱包余额', 'Wallet balance'), credit: L('信用账户', 'Credit'), cycleNo: L('账期', 'Cycle'), periodStart: L('账期开始', 'Period start'),
  periodEnd: L('账期结束', 'Period end'), amountDue: L('应还金额', 'Amount due'), suspendAt: L('停用时间', 'Suspend at'),
  available: L('可用额度', 'Available'), used: L('已用额度', 'Used'),
  openingEnergyKwh: L('期初读数(kWh)', 'Opening (kWh)'), closingEnergyKwh: L('期末读数(kWh)', 'Closing (kWh)'),
  usedEnergyKwh: L('用电量(kWh)', 'Used (kWh)'), openingRemaining: L('期初余额', 'Opening balance'),
  closingRemaining: L('期末余额', 'Closing balance'), connectorName: L('充电枪', 'Connector'), stationName: L('电站', 'Station'),
  chargePointName: L('充电桩', 'Charge point'), model: L('型号', 'Model'), statusChangedAt: L('状态变化时间', 'Status changed'),
  powerKw: L('功率(kW)', 'Power (kW)'), openFaults: L('未恢复故障', 'Open faults'), current: L('当前会话', 'Current'),
  protocol: L('协议', 'Protocol'), maxInFlight: L('并发窗口', 'Pipelining window'), meters: L('电表数', 'Meters'),
  reachable: L('可达', 'Reachable'), lastSweepAt: L('最近抄表', 'Last sweep'), tariff: L('费率', 'Tariff'),
  accountNo: L('账户', 'Account'), customerId: L('客户编号', 'Customer ID'), cancelledAt: L('取消时间', 'Cancelled'),
  acknowledgedAt: L('确认时间', 'Acknowledged'), failureReason: L('失败原因', 'Failure'), stopReason: L('停止原因', 'Stop reason'),
  discount: L('优惠', 'Discount'), idTag: L('标识', 'ID tag'), vin: L('VIN', 'VIN'), cardCount: L('卡数', 'Cards'),
  cards: L('卡号', 'Cards'), value: L('面值', 'Value'), usedAt: L('使用时间', 'Used at'), rate: L('故障率', 'Rate'),
  faults: L('故障次数', 'Faults'), durationSeconds: L('时长(秒)', 'Duration (s)'), recoveredAt: L('恢复时间', 'Recovered'),
  subjectText: L('主题', 'Subject'), body: L('正文', 'Body'),
  workflowId: L('流程', 'Workflow'), needsApproval: L('需审批', 'Needs approval'), projectId: L('项目', 'Project'),
};

export function keyLabel(k) {
  const l = KEYS[k];
  return l ? tr(l.zh, l.en) : k;
}

// cell renders one value: times by fmtTime, lists and objects as short text.
export function cell(k, v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? tr('是', 'yes') : tr('否', 'no');
  if (typeof v === 'string' && /At$|^at$/.test(k) && /^\d{4}-\d\d-\d\dT/.test(v)) return fmtTime(v);
  if (Array.isArray(v)) return v.map(x => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// cols turns key names (or full column specs) into table columns with labels.
export function cols(spec, sample) {
  const list = spec && spec.length ? spec
    : Object.keys(sample || {}).filter(k => sample[k] === null || typeof sample[k] !== 'object' || Array.isArray(sample[k]));
  return list.map(c => (typeof c === 'string' ? {key: c, label: c} : c));
}

// grid is the table every builder uses: columns [{key|render, label}] where
// label is {zh,en} or a key name; rows are objects. Row text is data, never HTML.
export function grid(columns, rows, {empty} = {}) {
  if (!rows || rows.length === 0) {
    return h('p', {class: 'vf-empty'}, empty || tr('暂无数据', 'Nothing to show'));
  }
  const label = c => (typeof c.label === 'object' ? tr(c.label.zh, c.label.en) : keyLabel(c.label || c.key));
  return h('div', {class: 'vf-table-wrap'}, h('table', {class: 'vf-table'},
    h('thead', {}, h('tr', {}, ...columns.map(c => h('th', {}, label(c))))),
    h('tbody', {}, ...rows.map(r => h('tr', {}, ...columns.map(c => {
      const v = c.render ? c.render(r) : c.key === 'status' && typeof r.status === 'string' ? badge(r.status) : cell(c.key, r[c.key]);
      return h('td', {}, v instanceof Node ? v : String(v ?? '—'));
    }))))));
}

// page makes the root of a page: <section data-page=id> with its title.
// The shell hands render() its root (data-page = the page's id) as main;
// a page rendered under another id (a detail route) gets its own root.
export function page(main, id, label) {
  const title = h('h2', {class: 'vf-page-title'}, tr(label.zh, label.en));
  if (main.dataset && main.dataset.page === id) {
    main.replaceChildren(title);
    return main;
  }
  const root = h('section', {class: 'vf-page', dataset: {page: id}}, title);
  main.replaceChildren(root);
  return root;
}

export function errBox() {
  return h('div', {class: 'vf-errbox'});
}

// fail shows err in box (a .vf-error from showError) and keeps the page.
export function fail(box, err) {
  box.replaceChildren();
  showError(box, err);
}

export function note(box, text) {
  box.replaceChildren(h('div', {class: 'vf-notice', role: 'status'}, text));
}

// newKey is a unique transaction / idempotency number for a write.
export function newKey(prefix) {
  const r = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).replace(/-/g, '').slice(0, 12);
  return `${prefix}-${Date.now()}-${r}`;
}

// query builds ?a=b&... leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// Field specs: {name, label:{zh,en}, type: text|number|integer|money|select|textarea|checkbox|date|datetime|
// list|json|password, options:[{value,label}|string] (or a function of nothing returning a Promise of them),
// required, value, placeholder, nullable (empty → null), omit (never sent)}.
function input(f) {
  const attrs = {name: f.name, id: 'f-' + f.name + '-' + Math.random().toString(36).slice(2, 7)};
  if (f.required) attrs.required = true;
  if (f.placeholder) attrs.placeholder = f.placeholder;
  let el;
  switch (f.type) {
    case 'select': {
      el = h('select', attrs);
      const fill = opts => {
        el.replaceChildren(...(f.required ? [] : [h('option', {value: ''}, '—')]),
          ...opts.map(o => (typeof o === 'object'
            ? h('option', {value: String(o.value)}, typeof o.label === 'object' ? tr(o.label.zh, o.label.en) : String(o.label ?? o.value))
            : h('option', {value: o}, o))));
        if (f.value !== undefined && f.value !== null) el.value = String(f.value);
      };
      if (typeof f.options === 'function') {
        fill([]);
        Promise.resolve().then(f.options).then(fill, () => fill([]));
      } else fill(f.options || []);
      return el;
    }
    case 'textarea': case 'json':
      el = h('textarea', {...attrs, rows: f.rows || (f.type === 'json' ? 6 : 3)});
      break;
    case 'checkbox':
      el = h('input', {...attrs, type: 'checkbox'});
      el.checked = !!f.value;
      return el;
    case 'number': case 'integer':
      el = h('input', {...attrs, type: 'number', step: f.type === 'integer' ? '1' : 'any'});
      break;
    case 'date': el = h('input', {...attrs, type: 'date'}); break;
    case 'datetime': el = h('input', {...attrs, type: 'datetime-local'}); break;
    case 'password': el = h('input', {...attrs, type: 'password', autocomplete: 'new-password'}); break;
    case 'file': el = h('input', {...attrs, type: 'file', accept: f.accept || ''}); return el;
    default: el = h('input', {...attrs, type: 'text', inputmode: f.type === 'money' ? 'decimal' : undefined});
  }
  if (f.value !== undefined && f.value !== null) {
    el.value = f.type === 'json' && typeof f.value !== 'string' ? JSON.stringify(f.value, null, 2) : String(f.value);
  }
  return el;
}

function valueOf(f, el) {
  if (f.type === 'checkbox') return el.checked;
  if (f.type === 'file') return el.files && el.files[0];
  const raw = el.value.trim();
  if (raw === '') return f.nullable ? null : undefined;
  switch (f.type) {
    case 'number': return Number(raw);
    case 'integer': return parseInt(raw, 10);
    case 'list': return raw.split(/[,，\s]+/).filter(Boolean);
    case 'json': return JSON.parse(raw);
    case 'datetime': return new Date(raw).toISOString();
    default: return raw;
  }
}

// buildForm makes a form from field specs. onSubmit(values) may return a
// node or text shown under the form; its errors (API problems included) are
// shown in the form's error box with showError, so the form stays.
export function buildForm(fields, onSubmit, {submit = L('提交', 'Submit'), title, inline, reset = true} = {}) {
  const inputs = fields.map(f => [f, input(f)]);
  const out = h('div', {class: 'vf-form-out'});
  const btn = h('button', {type: 'submit', class: 'vf-btn vf-primary'}, tr(submit.zh, submit.en));
  const form = h('form', {class: inline ? 'vf-form vf-inline' : 'vf-form', novalidate: true},
    ...(title ? [h('h2', {}, tr(title.zh, title.en))] : []),
    ...inputs.map(([f, el]) => (f.type === 'checkbox'
      ? h('label', {class: 'vf-check'}, el, ' ', tr(f.label.zh, f.label.en))
      : h('label', {class: 'vf-field'}, h('span', {}, tr(f.label.zh, f.label.en) + (f.required ? ' *' : '')), el))),
    btn, out);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    out.replaceChildren();
    const values = {};
    try {
      for (const [f, el] of inputs) {
        const v = valueOf(f, el);
        if (f.required && (v === undefined || v === null)) {
          throw new Error(tr(`请填写 ${f.label.zh}`, `${f.label.en} is required`));
        }
        if (v !== undefined && !f.omit) values[f.name] = v;
        else if (v !== undefined) values['_' + f.name] = v;
      }
    } catch (e) {
      fail(out, e instanceof SyntaxError ? new Error(tr('JSON 格式错误：', 'Invalid JSON: ') + e.message) : e);
      return;
    }
    btn.disabled = true;
    try {
      const res = await onSubmit(values, form);
      if (res instanceof Node) out.replaceChildren(res);
      else if (res === false) out.replaceChildren();
      else if (res !== undefined && res !== null) note(out, String(res));
      else note(out, tr('已提交', 'Done'));
      if (reset && res !== false) {
        for (const [f, el] of inputs) if (f.type !== 'select' && f.type !== 'checkbox' && !f.keep) el.value = f.value ?? '';
      }
    } catch (e) {
      fail(out, e);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

// filterBar is an inline form whose submit calls onChange(values) (no reset).
export function filterBar(fields, onChange, extra = []) {
  const f = buildForm(fields, async v => { await onChange(v); return false; },
    {submit: L('查询', 'Search'), inline: true, reset: false});
  f.classList.add('vf-filters');
  for (const x of extra) f.insertBefore(x, f.querySelector('.vf-form-out'));
  return f;
}

export function button(label, onclick, cls = '') {
  return h('button', {type: 'button', class: 'vf-btn ' + cls, onclick}, tr(label.zh, label.en));
}

// act runs fn for a row button, showing its outcome (or error) in box, then reload.
export function act(box, fn, reload) {
  return async () => {
    box.replaceChildren();
    try {
      const r = await fn();
      note(box, typeof r === 'string' ? r : tr('已完成', 'Done'));
      if (reload) await reload();
    } catch (e) {
      fail(box, e);
    }
  };
}

// pagedList shows a paged table ({items, nextCursor}) from url(params) into
// root, with Previous / Next by cursor. It returns {reload(params), el}.
export function pagedList({url, columns, itemsOf = r => r.items || [], limit = 50, after, empty}) {
  const body = h('div', {class: 'vf-list'});
  const box = errBox();
  const el = h('div', {}, box, body);
  let params = {};
  let stack = [];
  let cursor = '';
  let last = null;
  async function show() {
    box.replaceChildren();
    try {
      const path = url({...params, limit, cursor});
      const res = await api('GET', path);
      last = res;
      const rows = itemsOf(res);
      const cs = typeof columns === 'function' ? columns(rows) : cols(columns, rows[0]);
      const nav = h('div', {class: 'vf-pager'});
      if (stack.length) {
        nav.append(button(L('上一页', 'Previous'), () => { cursor = stack.pop(); show(); }));
      }
      if (res && res.nextCursor) {
        nav.append(button(L('下一页', 'Next'), () => { stack.push(cursor); cursor = res.nextCursor; show(); }));
      }
      body.replaceChildren(grid(cs, rows, {empty}), nav);
      if (after) after(res, rows);
    } catch (e) {
      body.replaceChildren();
      fail(box, e);
    }
  }
  return {
    el,
    reload: async (p) => { if (p) { params = p; stack = []; cursor = ''; } await show(); },
    get last() { return last; },
  };
}

// listPage registers a page: filters, a paged table, an optional xlsx
// export of the same filter and optional create forms above the list.
export function listPage(spec) {
  register({
    id: spec.id, path: spec.path, section: spec.section, label: spec.label, roles: spec.roles,
    render: async (main, params, ctx) => {
      const root = page(main, spec.id, spec.label);
      const list = pagedList({
        url: p => spec.url(p, ctx, params), columns: spec.columns, itemsOf: spec.itemsOf,
        limit: spec.limit || 50, after: spec.after, empty: spec.empty,
      });
      let current = {...(spec.defaults || {})};
      if (spec.intro) root.append(h('p', {class: 'vf-muted vf-intro'}, tr(spec.intro.zh, spec.intro.en)));
      if (spec.before) await spec.before(root, ctx, () => list.reload(), params);
      for (const c of spec.create || []) {
        if (c.show && !c.show(ctx)) continue;
        root.append(h('details', {class: 'vf-create vf-card', open: c.open || undefined},
          h('summary', {}, tr(c.title.zh, c.title.en)),
          buildForm(typeof c.fields === 'function' ? c.fields(ctx) : c.fields,
            async v => { const r = await c.submit(v, ctx); await list.reload(); return c.result ? c.result(r) : r && r.id ? tr('已创建 ', 'Created ') + r.id : undefined; },
            {submit: c.submitLabel || L('创建', 'Create')})));
      }
      const extra = [];
      if (spec.export) {
        const ebox = errBox();
        extra.push(button(L('导出 Excel', 'Export Excel'), async () => {
          ebox.replaceChildren();
          try {
            await download(spec.export(current, ctx, params), `${spec.id}.xlsx`);
          } catch (e) {
            fail(ebox, e);
          }
        }, 'vf-export'), ebox);
      }
      if (spec.filters && spec.filters.length) {
        root.append(filterBar(spec.filters.map(f => ({...f, value: current[f.name] ?? f.value})),
          async v => { current = {...(spec.defaults || {}), ...v}; await list.reload(current); }, extra));
      } else if (extra.length) {
        root.append(h('div', {class: 'vf-toolbar'}, ...extra));
      }
      if (spec.aboveList) root.append(spec.aboveList());
      root.append(list.el);
      await list.reload(current);
      if (spec.live) ctx.poll(() => list.reload(), spec.live);
    },
  });
}

// currentProject is {id, code, name} of the project picked in the header
// (ctx.project may be the project object, its code or its id).
let projects = null;
export async function allProjects(refresh) {
  if (!projects || refresh) projects = api('GET', '/api/v1/projects').then(r => r.items || []);
  try {
    return await projects;
  } catch (e) {
    projects = null;
    throw e;
  }
}

export async function currentProject(ctx) {
  const p = ctx && ctx.project;
  if (p && typeof p === 'object' && p.id && p.code) return p;
  const key = typeof p === 'string' ? p : p && (p.code || p.id);
  const list = await allProjects();
  const found = list.find(x => x.code === key || x.id === key) || list[0];
  if (!found) throw new Error(tr('没有可用的项目', 'No project available'));
  return found;
}

export const ROLES = ['admin', 'cashier', 'approver', 'maintenance', 'viewer'];

// rangeFields are from / to date fields covering the last days up to the
// end of today, in China days (the reports' days), whatever the browser's zone.
export function rangeFields(days = 7) {
  const day = 86400000;
  const today = Date.now() + 8 * 3600000; // China time read as UTC
  const d = ms => new Date(ms).toISOString().slice(0, 10);
  return [
    {name: 'from', label: L('开始日期', 'From'), type: 'date', value: d(today - days * day)},
    {name: 'to', label: L('结束日期', 'To'), type: 'date', value: d(today + day)},
  ];
}

// ---- SVG charts (hand-drawn; no library) ----
const NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const k of kids) el.append(typeof k === 'string' ? document.createTextNode(k) : k);
  return el;
}

// bars draws [{label, value}] (or several series: values [..] with series
// names) as a bar chart with its axis labelled by the maximum.
export function bars(points, {width = 720, height = 220, series, unit = ''} = {}) {
  const n = points.length;
  const s = series ? series.length : 1;
  const vals = points.flatMap(p => (series ? p.values : [p.value]).map(Number).filter(Number.isFinite));
  const max = Math.max(1e-9, ...vals);
  const padL = 56, padB = 36, padT = 12;
  const w = (width - padL - 8) / Math.max(1, n);
  const colours = ['#2f6fdf', '#e08a1e', '#3aa655', '#c0392b'];
  const g = svg('svg', {class: 'vf-chart', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img'});
  const y = v => padT + (height - padT - padB) * (1 - v / max);
  g.append(svg('line', {x1: padL, y1: y(0), x2: width - 4, y2: y(0), stroke: '#999'}),
    svg('text', {x: padL - 6, y: y(max) + 4, 'text-anchor': 'end', 'font-size': 11}, fmtNum(max) + unit),
    svg('text', {x: padL - 6, y: y(0), 'text-anchor': 'end', 'font-size': 11}, '0'));
  points.forEach((p, i) => {
    const vs = series ? p.values : [p.value];
    vs.forEach((v, j) => {
      const bw = Math.max(1, (w * 0.8) / s);
      const x = padL + i * w + w * 0.1 + j * bw;
      const val = Number(v) || 0;
      g.append(svg('rect', {x, y: y(Math.max(0, val)), width: bw, height: Math.max(0, y(0) - y(Math.max(0, val))),
        fill: colours[j % colours.length]}, svg('title', {}, `${p.label}: ${v}${unit}`)));
    });
    if (n <= 16 || i % Math.ceil(n / 16) === 0) {
      g.append(svg('text', {x: padL + i * w + w / 2, y: height - padB + 14, 'text-anchor': 'middle', 'font-size': 10},
        String(p.label).slice(0, 10)));
    }
  });
  if (series) {
    series.forEach((name, j) => g.append(
      svg('rect', {x: padL + j * 110, y: height - 14, width: 10, height: 10, fill: colours[j % colours.length]}),
      svg('text', {x: padL + j * 110 + 14, y: height - 5, 'font-size': 11}, name)));
  }
  return g;
}

function fmtNum(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

// chartBox wraps a chart with a caption.
export function chartBox(caption, chart) {
  return h('figure', {class: 'vf-figure'}, chart, h('figcaption', {}, caption));
}

// problemError is an Error carrying a problem+json answer (status, code,
// title, detail), for the few calls that cannot go through lib's api().
export function problemError(status, body) {
  const e = new Error((body && (body.detail || body.title)) || `HTTP ${status}`);
  Object.assign(e, {status, code: body && body.code, title: body && body.title, detail: body && body.detail});
  return e;
}

// hasRoute reports whether the API documents METHOD pattern (e.g. 'PATCH',
// '/api/v1/projects/{project}/sites/{id}'), so a screen offers an action
// only where the running API has it.
let doc = null;
export async function hasRoute(method, pattern) {
  if (!doc) doc = fetch('/api/v1/openapi.json').then(r => (r.ok ? r.json() : {paths: {}})).catch(() => ({paths: {}}));
  const d = await doc;
  return !!(d.paths && d.paths[pattern] && d.paths[pattern][method.toLowerCase()]);
}

// dayStart reads a date field (YYYY-MM-DD) as midnight China time in RFC
// 3339, for the routes that take only full times (charging orders, audit log).
export function dayStart(d) {
  return d ? `${d}T00:00:00+08:00` : undefined;
}

// withTimes is params with from / to turned into RFC 3339 times.
export function withTimes(p) {
  return {...p, from: dayStart(p.from), to: dayStart(p.to)};
}

// prefill puts value into the field name of a create form on the page (the
// form's <details> opened), so a row's button starts an action on that row.
export function prefill(from, name, value) {
  const root = from.closest('[data-page]') || document;
  const input = root.querySelector(`details.vf-create [name="${name}"]`);
  if (!input) return;
  input.value = value;
  const d = input.closest('details');
  if (d) d.open = true;
  input.scrollIntoView({block: 'center'});
  input.focus();
}
