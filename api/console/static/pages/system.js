// System (系统): the audit log of writes (filters and xlsx) and the
// caller's own sessions.
import {api, h, tr} from '../lib.js';
import {L, listPage, errBox, act, button, query, withTimes} from './util.js';

listPage({
  id: 'audit-log', path: '/system/audit', section: 'system', label: L('审计日志', 'Audit log'), roles: ['admin'],
  filters: [{name: 'operator', label: L('操作员', 'Operator'), type: 'text'},
    {name: 'action', label: L('操作', 'Action'), type: 'text', placeholder: 'recharge.create'},
    {name: 'subject', label: L('对象', 'Subject'), type: 'text'},
    {name: 'from', label: L('开始日期', 'From'), type: 'date'}, {name: 'to', label: L('结束日期', 'To'), type: 'date'}],
  limit: 100,
  url: p => '/api/v1/audit-log' + query({...withTimes(p), cursor: undefined}),
  export: p => '/api/v1/audit-log' + query({...withTimes(p), format: 'xlsx'}),
  columns: ['at', 'operator', 'action', 'subject', 'status'],
});

listPage({
  id: 'sessions', path: '/system/sessions', section: 'system', label: L('我的会话', 'My sessions'),
  url: () => '/api/v1/auth/sessions',
  columns: ['createdAt', 'expiresAt', 'current', {key: 'end', label: L('操作', 'Actions'), render: r => {
    if (r.current) return tr('当前', 'this one');
    const box = errBox();
    return h('span', {}, button(L('结束', 'End'), act(box, () => api('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(r.id)}`))), box);
  }}],
});
