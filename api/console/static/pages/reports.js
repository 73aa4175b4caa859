// Reports (报表中心): consumption, sales, statements, lost contact, finance
// details and O&M views, each a page of /reports, /finance-reports or /om
// with its xlsx export and, where the rows are a series, an SVG chart of the
// page shown.
import {h, tr} from '../lib.js';
import {L, listPage, query, rangeFields, bars, chartBox} from './util.js';

// reportPage is listPage with a chart above the table, drawn from the rows shown.
function reportPage(spec) {
  let chart = null;
  listPage({
    ...spec,
    aboveList: () => {
      chart = h('div', {class: 'vf-chart-box', style: {maxWidth: '960px'}});
      return chart;
    },
    after: (res, rows) => {
      if (chart && spec.chart) {
        chart.replaceChildren();
        if (rows.length) chart.append(spec.chart(rows));
      }
    },
    url: (p) => spec.base(p) + query({...p, report: undefined}),
    export: (p) => spec.base(p) + query({...p, report: undefined, limit: undefined, cursor: undefined, format: 'xlsx'}),
  });
}

// sum adds row values by a key, in first-seen order.
function sumBy(rows, key, val) {
  const m = new Map();
  for (const r of rows) m.set(r[key], (m.get(r[key]) || 0) + (Number(r[val]) || 0));
  return [...m].map(([label, value]) => ({label: String(label).slice(0, 16).replace('T', ' '), value}));
}

reportPage({
  id: 'report-consumption', path: '/reports/consumption', section: 'reports', label: L('用电统计', 'Consumption'),
  base: () => '/api/v1/reports/consumption',
  filters: [...rangeFields(7),
    {name: 'granularity', label: L('粒度', 'Granularity'), type: 'select', required: true, value: 'day', options: [
      {value: 'hour', label: L('小时', 'hour')}, {value: 'day', label: L('日', 'day')},
      {value: 'month', label: L('月', 'month')}, {value: 'year', label: L('年', 'year')}]},
    {name: 'groupBy', label: L('汇总', 'Group by'), type: 'select', required: true, value: 'meter', options: [
      {value: 'meter', label: L('电表', 'meter')}, {value: 'unit', label: L('单元', 'unit')},
      {value: 'building', label: L('楼栋', 'building')}]},
    {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  defaults: {granularity: 'day', groupBy: 'meter', ...Object.fromEntries(rangeFields(7).map(f => [f.name, f.value]))},
  columns: ['bucket', 'key', 'energyKwh', 'intervals'],
  chart: rows => chartBox(tr('各时段用电量 (kWh，本页)', 'Energy by period (kWh, this page)'),
    bars(sumBy(rows, 'bucket', 'energyKwh'), {unit: ''})),
});

reportPage({
  id: 'report-sales', path: '/reports/sales', section: 'reports', label: L('售电统计', 'Sales'),
  base: () => '/api/v1/finance-reports/sales',
  filters: [...rangeFields(30),
    {name: 'granularity', label: L('粒度', 'Granularity'), type: 'select', required: true, value: 'day', options: [
      {value: 'day', label: L('日', 'day')}, {value: 'month', label: L('月', 'month')}, {value: 'year', label: L('年', 'year')}]},
    {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  defaults: {granularity: 'day', ...Object.fromEntries(rangeFields(30).map(f => [f.name, f.value]))},
  columns: ['period', 'recharges', 'recharged', 'refunded', 'reversed', 'voucherPaid', 'net', 'cash'],
  chart: rows => chartBox(tr('售电 / 退电 / 净额', 'Recharged / refunded / net'),
    bars(rows.map(r => ({label: r.period, values: [r.recharged, r.refunded, r.net]})),
      {series: [tr('售电', 'recharged'), tr('退电', 'refunded'), tr('净额', 'net')]})),
});

reportPage({
  id: 'report-statement', path: '/reports/statement', section: 'reports', label: L('电费对账单', 'Statements'),
  base: () => '/api/v1/reports/statement',
  filters: [...rangeFields(30), {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  defaults: Object.fromEntries(rangeFields(30).map(f => [f.name, f.value])),
  columns: ['meterNo', 'unit', 'customer', 'openingEnergyKwh', 'closingEnergyKwh', 'usedEnergyKwh',
    'openingRemaining', 'closingRemaining', 'recharged', 'refunded', 'reversed', 'spent'],
  chart: rows => chartBox(tr('各表用电量 (kWh)', 'Energy used per meter (kWh)'),
    bars(rows.map(r => ({label: r.meterNo, value: r.usedEnergyKwh})))),
});

reportPage({
  id: 'report-lost-contact', path: '/reports/lost-contact', section: 'reports', label: L('失联记录', 'Lost contact'),
  base: () => '/api/v1/reports/lost-contact',
  filters: [
    {name: 'kind', label: L('对象', 'Kind'), type: 'select', options: [{value: 'meter', label: L('电表', 'meter')},
      {value: 'gateway', label: L('网关', 'gateway')}]},
    {name: 'all', label: L('包含已恢复', 'Include recovered'), type: 'checkbox'},
    {name: 'from', label: L('开始日期', 'From'), type: 'date'}, {name: 'to', label: L('结束日期', 'To'), type: 'date'}],
  columns: ['kind', 'subjectNo', 'gateway', 'detail', 'raisedAt', 'clearedAt'],
});

reportPage({
  id: 'report-command-log', path: '/reports/command-log', section: 'reports', label: L('命令日志', 'Command log'),
  base: () => '/api/v1/reports/command-log',
  filters: [{name: 'meterNo', label: L('表号', 'Meter'), type: 'text'},
    {name: 'status', label: L('状态', 'Status'), type: 'select', options: ['pending', 'dispatching', 'done', 'failed']},
    {name: 'from', label: L('开始日期', 'From'), type: 'date'}, {name: 'to', label: L('结束日期', 'To'), type: 'date'}],
  columns: ['createdAt', 'meterNo', 'command', 'status', 'attempts', 'failure', 'createdBy', 'completedAt'],
  chart: rows => chartBox(tr('本页命令按状态', 'Commands on this page by status'),
    bars(sumBy(rows.map(r => ({...r, n: 1})), 'status', 'n'))),
});

reportPage({
  id: 'report-finance', path: '/reports/finance', section: 'reports', label: L('财务报表', 'Finance reports'),
  base: p => '/api/v1/finance-reports/' + (p.report || 'account-summary'),
  filters: [
    {name: 'report', label: L('报表', 'Report'), type: 'select', required: true, value: 'account-summary', options: [
      {value: 'account-summary', label: L('账户汇总', 'Account summary')},
      {value: 'recharge-detail', label: L('售电明细', 'Recharge detail')},
      {value: 'refund-detail', label: L('退电明细', 'Refund detail')},
      {value: 'invoices', label: L('发票', 'Invoices')}]},
    ...rangeFields(30), {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  defaults: {report: 'account-summary', ...Object.fromEntries(rangeFields(30).map(f => [f.name, f.value]))},
});

reportPage({
  id: 'report-om', path: '/reports/om', section: 'reports', label: L('运维统计', 'O&M reports'),
  base: p => '/api/v1/om/' + (p.report || 'terminal-status'),
  filters: [
    {name: 'report', label: L('报表', 'Report'), type: 'select', required: true, value: 'terminal-status', options: [
      {value: 'terminal-status', label: L('终端状态明细', 'Terminal status')},
      {value: 'failure-records', label: L('设备故障信息', 'Failure records')},
      {value: 'concentrator-offline', label: L('集控器离网信息', 'Concentrator offline')},
      {value: 'station-failure-rate', label: L('电站故障率', 'Station failure rate')}]},
    {name: 'from', label: L('开始日期', 'From'), type: 'date'}, {name: 'to', label: L('结束日期', 'To'), type: 'date'},
    {name: 'chargePointId', label: L('充电桩', 'Charge point'), type: 'text'},
    {name: 'stationId', label: L('电站', 'Station'), type: 'text'}],
  defaults: {report: 'terminal-status'},
});
