// Metering: alarms, the SMS outbox, the meter command log and meter imports (M2).
import {register, h, tr} from '../lib.js';
import {L, listPage, page, buildForm, grid, currentProject, query, problemError} from './util.js';

const ALARM_KINDS = ['low_balance', 'static', 'over_voltage', 'under_voltage', 'over_current', 'daily_limit',
  'monthly_limit', 'night_limit', 'overload_trip', 'malignant_load_trip', 'lost_contact', 'gateway_lost_contact'];

const alarmFilters = [
  {name: 'status', label: L('状态', 'Status'), type: 'select', options: ['open', 'closed']},
  {name: 'kind', label: L('类型', 'Kind'), type: 'select', options: ALARM_KINDS},
  {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'},
];

listPage({
  id: 'alarms', path: '/alarms', section: 'metering', label: L('告警记录', 'Alarms'),
  filters: alarmFilters,
  url: p => '/api/v1/alarms' + query(p),
  export: p => '/api/v1/alarms' + query({status: p.status, kind: p.kind, meterNo: p.meterNo, format: 'xlsx'}),
  columns: ['meterNo', 'kind', 'status', 'mode', 'detail', 'openedAt', 'closedAt', 'resolution',
    {key: 'sms', label: L('短信', 'SMS'), render: r => String((r.sms || []).length)},
    {key: 'stages', label: L('阶段', 'Stages'), render: r => (r.stages || []).map(s => s.stage || s.name || '').filter(Boolean).join(' → ') || '—'}],
  live: 10000,
});

listPage({
  id: 'sms', path: '/sms', section: 'metering', label: L('短信记录', 'SMS outbox'),
  filters: [{name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  url: p => '/api/v1/sms' + query(p),
  columns: ['createdAt', 'meterNo', 'recipient', 'kind', 'stage', 'text', 'status', 'provider', 'delivery', 'sentAt'],
});

listPage({
  id: 'meter-commands', path: '/meter-commands', section: 'metering', label: L('命令记录', 'Meter commands'),
  filters: [
    {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'},
    {name: 'status', label: L('状态', 'Status'), type: 'select', options: ['pending', 'dispatching', 'done', 'failed']},
  ],
  url: p => '/api/v1/reports/command-log' + query(p),
  export: p => '/api/v1/reports/command-log' + query({meterNo: p.meterNo, status: p.status, format: 'xlsx'}),
  columns: ['createdAt', 'meterNo', 'command', 'status', 'attempts', 'failure', 'batchId', 'createdBy', 'completedAt'],
});

// Meter import: a CSV or xlsx sheet to /projects/{code}/meter-imports. A 422
// answer carries every row's problems, shown as a table so the sheet is
// mended in one go; lib's api() keeps only the problem's summary, so this
// posts the file itself.
register({
  id: 'meter-imports', path: '/meter-imports', section: 'metering', label: L('批量导入', 'Meter import'),
  roles: ['admin'],
  render: async (main, params, ctx) => {
    const root = page(main, 'meter-imports', L('批量导入', 'Meter import'));
    root.append(h('p', {class: 'vf-muted vf-intro'}, tr(
      '第一行为表头：meter_no, gateway, unit_address, profile, price（必填），gateway_address, protocol, kind, prepaid_mode, ct_ratio, pt_ratio, alarm1, alarm2（可选）。整表成功或整表不入库。',
      'A heading row: meter_no, gateway, unit_address, profile, price (required); gateway_address, protocol, kind, prepaid_mode, ct_ratio, pt_ratio, alarm1, alarm2 (optional). All rows or none.')));
    const result = h('div', {class: 'vf-import-result'});
    root.append(buildForm([
      {name: 'file', label: L('文件 (CSV / xlsx)', 'File (CSV / xlsx)'), type: 'file', accept: '.csv,.xlsx', required: true},
      {name: 'dryRun', label: L('仅校验，不入库', 'Check only (dry run)'), type: 'checkbox'},
    ], async v => {
      result.replaceChildren();
      const p = await currentProject(ctx);
      const file = v.file;
      const type = /\.xlsx$/i.test(file.name)
        ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv';
      const res = await fetch(`/api/v1/projects/${encodeURIComponent(p.code)}/meter-imports${v.dryRun ? '?dry_run=true' : ''}`, {
        method: 'POST', body: file,
        headers: {'Content-Type': type, Authorization: 'Bearer ' + (sessionStorage.getItem('vf.token') || '')},
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        if (Array.isArray(body.problems) && body.problems.length) {
          result.append(h('p', {}, tr(`共 ${body.problemCount} 个问题，未入库：`, `${body.problemCount} problems; nothing was stored:`)),
            grid([{key: 'row', label: L('行', 'Row')}, {key: 'column', label: L('列', 'Column')}, {key: 'detail', label: L('问题', 'Problem')}],
              body.problems));
        }
        throw problemError(res.status, body);
      }
      result.append(h('pre', {class: 'vf-json'}, JSON.stringify(body, null, 2)));
      return tr(v.dryRun ? '校验通过' : '导入完成', v.dryRun ? 'The sheet is valid' : 'Imported');
    }, {submit: L('上传', 'Upload'), reset: false}), result);
  },
});
