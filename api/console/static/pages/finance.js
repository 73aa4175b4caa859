// Finance (财务管理): recharges, refunds, vouchers, invoices, enterprise
// customers with their credit and bills, account closing and the mail outbox.
import {register, api, h, tr, showError} from '../lib.js';
import {
  L, listPage, page, buildForm, pagedList, errBox, act, button, query, newKey, currentProject, rangeFields, cell, keyLabel, prefill,
} from './util.js';

const enc = encodeURIComponent;

listPage({
  id: 'recharges', path: '/recharges', section: 'finance', label: L('售电记录', 'Recharges'),
  filters: [{name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  url: p => '/api/v1/recharges' + query(p),
  columns: ['createdAt', 'meterNo', 'amount', 'status', 'transactionNo', 'createdBy', 'completedAt', 'failure',
    {key: 'actions', label: L('操作', 'Actions'), render: r => {
      const box = errBox();
      const el = h('span', {class: 'vf-actions'});
      if (r.status === 'dispatch_failed') {
        el.append(button(L('重新下发', 'Redispatch'), act(box, () => api('POST', `/api/v1/recharges/${enc(r.id)}/redispatch`))));
      }
      if (r.status === 'completed') {
        el.append(button(L('冲正', 'Reverse'), ev => prefill(ev.target, 'rechargeId', r.id)));
      }
      el.append(box);
      return el;
    }}],
  create: [{
    title: L('申请冲正', 'Apply for a reversal'),
    fields: [{name: 'rechargeId', label: L('售电记录编号', 'Recharge ID'), type: 'text', required: true},
      {name: 'reason', label: L('原因', 'Reason'), type: 'text', required: true}],
    submitLabel: L('申请', 'Apply'),
    submit: v => api('POST', `/api/v1/recharges/${enc(v.rechargeId)}/reverse`,
      {transactionNo: newKey('REV'), reason: v.reason}),
    result: r => tr(`已申请冲正 ${r.id}，状态 ${r.status}`, `Reversal ${r.id} applied: ${r.status}`),
  }],
});

// Refunds have no list route of their own: the refund-detail finance report lists them.
listPage({
  id: 'refunds', path: '/refunds', section: 'finance', label: L('退电', 'Refunds'),
  filters: [...rangeFields(30), {name: 'meterNo', label: L('表号', 'Meter'), type: 'text'}],
  defaults: Object.fromEntries(rangeFields(30).map(f => [f.name, f.value])),
  url: p => '/api/v1/finance-reports/refund-detail' + query(p),
  export: p => '/api/v1/finance-reports/refund-detail' + query({...p, format: 'xlsx'}),
  columns: ['createdAt', 'meterNo', 'customer', 'kind', 'amount', 'status', 'transactionNo', 'operator', 'completedAt'],
  create: [{
    title: L('申请退电', 'Apply for a refund'),
    fields: [{name: 'meterNo', label: L('表号', 'Meter'), type: 'text', required: true},
      {name: 'amount', label: L('金额', 'Amount'), type: 'money', required: true, placeholder: '10.00'}],
    submitLabel: L('申请', 'Apply'),
    submit: v => api('POST', '/api/v1/refunds', {...v, transactionNo: newKey('RF')}),
    result: r => tr(`退电 ${r.id}：${r.status}（待审批）`, `Refund ${r.id}: ${r.status} (awaits an approver)`),
  }, {
    title: L('销户', 'Close an account'),
    fields: [{name: 'meterNo', label: L('表号', 'Meter'), type: 'text', required: true},
      {name: 'reason', label: L('原因', 'Reason'), type: 'text'}],
    submitLabel: L('销户', 'Close'),
    submit: v => api('POST', `/api/v1/meters/${enc(v.meterNo)}/close`, {transactionNo: newKey('CL'), reason: v.reason}),
    result: r => tr(`销户 ${r.id}：${r.status}`, `Closing ${r.id}: ${r.status}`),
  }],
});

listPage({
  id: 'issuing-groups', path: '/issuing-groups', section: 'finance', label: L('发券组', 'Issuing groups'),
  url: () => '/api/v1/issuing-groups',
  columns: ['name', 'customerIds', 'createdAt', 'id'],
  create: [{
    title: L('新建发券组', 'New issuing group'),
    fields: [{name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'customerIds', label: L('客户编号（逗号分隔）', 'Customer IDs (comma separated)'), type: 'list', required: true}],
    submit: async (v, ctx) => api('POST', '/api/v1/issuing-groups', {...v, projectId: (await currentProject(ctx)).id}),
  }],
});

listPage({
  id: 'voucher-batches', path: '/voucher-batches', section: 'finance', label: L('电子券', 'Vouchers'),
  url: p => '/api/v1/voucher-batches' + query(p),
  columns: ['name', 'faceValue', 'quantity', 'status', 'expiresAt', 'createdAt', 'id',
    {key: 'issue', label: L('操作', 'Actions'), render: r => (r.status === 'approved'
      ? button(L('发放', 'Issue'), ev => prefill(ev.target, 'batchId', r.id)) : '—')}],
  create: [{
    title: L('电子券申请', 'Apply for a voucher batch'),
    fields: [{name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'faceValue', label: L('面值', 'Face value'), type: 'money', required: true, placeholder: '10.00'},
      {name: 'quantity', label: L('数量', 'Quantity'), type: 'integer', required: true},
      {name: 'expiresAt', label: L('到期时间', 'Expires at'), type: 'datetime', required: true}],
    submitLabel: L('申请', 'Apply'),
    submit: async (v, ctx) => api('POST', '/api/v1/voucher-batches',
      {...v, projectId: (await currentProject(ctx)).id, transactionNo: newKey('VB')}),
  }, {
    title: L('电子券发放', 'Issue an approved batch'),
    fields: [{name: 'batchId', label: L('批次编号', 'Batch ID'), type: 'text', required: true, omit: true},
      {name: 'customerIds', label: L('客户编号（逗号分隔）', 'Customer IDs'), type: 'list'},
      {name: 'groupId', label: L('发券组编号', 'Issuing group ID'), type: 'text'}],
    submitLabel: L('发放', 'Issue'),
    submit: v => {
      const {_batchId, ...body} = v;
      return api('POST', `/api/v1/voucher-batches/${enc(_batchId)}/issue`, body);
    },
    result: r => tr(`已提交发放：${r.status || ''}`, `Issue applied: ${r.status || ''}`),
  }],
});

listPage({
  id: 'vouchers', path: '/vouchers', section: 'finance', label: L('代金券', 'Voucher list'),
  filters: [{name: 'batchId', label: L('批次', 'Batch'), type: 'text'},
    {name: 'customerId', label: L('客户', 'Customer'), type: 'text'},
    {name: 'status', label: L('状态', 'Status'), type: 'text'}],
  url: p => '/api/v1/vouchers' + query(p),
  create: [{
    title: L('代金券作废申请', 'Apply to void a voucher'),
    fields: [{name: 'voucher', label: L('券号或编号', 'Voucher number or ID'), type: 'text', required: true, omit: true},
      {name: 'reason', label: L('原因', 'Reason'), type: 'text', required: true}],
    submitLabel: L('申请', 'Apply'),
    submit: v => api('POST', `/api/v1/vouchers/${enc(v._voucher)}/void`, {reason: v.reason}),
  }, {
    title: L('使用代金券（抵扣一笔已完成的售电）', 'Redeem a voucher on a completed recharge'),
    fields: [{name: 'voucher', label: L('券号或编号', 'Voucher number or ID'), type: 'text', required: true, omit: true},
      {name: 'rechargeId', label: L('售电记录编号', 'Recharge ID'), type: 'text', required: true},
      {name: 'amount', label: L('抵扣金额', 'Amount'), type: 'money', required: true}],
    submitLabel: L('使用', 'Redeem'),
    submit: v => api('POST', `/api/v1/vouchers/${enc(v._voucher)}/redeem`,
      {rechargeId: v.rechargeId, amount: v.amount, transactionNo: newKey('VR')}),
  }],
});

listPage({
  id: 'invoices', path: '/invoices', section: 'finance', label: L('发票', 'Invoices'),
  filters: [{name: 'status', label: L('状态', 'Status'), type: 'text'}],
  url: p => '/api/v1/invoices' + query(p),
  export: p => '/api/v1/invoices' + query({status: p.status, format: 'xlsx'}),
  create: [{
    title: L('开票申请', 'Apply for an invoice'),
    fields: [{name: 'title', label: L('抬头', 'Title'), type: 'text', required: true},
      {name: 'taxId', label: L('税号', 'Tax ID'), type: 'text', required: true},
      {name: 'rechargeIds', label: L('售电记录编号（逗号分隔）', 'Recharge IDs (comma separated)'), type: 'list', required: true}],
    submitLabel: L('申请', 'Apply'),
    submit: async (v, ctx) => api('POST', '/api/v1/invoices',
      {...v, projectId: (await currentProject(ctx)).id, transactionNo: newKey('INV')}),
  }],
});

listPage({
  id: 'enterprises', path: '/enterprises', section: 'finance', label: L('企业客户', 'Enterprises'),
  url: p => '/api/v1/enterprises' + query(p),
  columns: rows => [{key: 'code', label: 'code'}, {key: 'name', label: 'name'}, {key: 'email', label: 'email'},
    {key: 'phone', label: 'phone'}, {key: 'createdAt', label: 'createdAt'},
    {key: 'open', label: L('详情', 'Detail'), render: r => h('a', {href: `#/enterprises/${enc(r.id)}`}, tr('查看', 'Open'))}],
  create: [{
    title: L('企业客户新增', 'Add an enterprise'),
    fields: [{name: 'code', label: L('编码', 'Code'), type: 'text', required: true},
      {name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'email', label: L('邮箱', 'E-mail'), type: 'text', required: true},
      {name: 'phone', label: L('电话', 'Phone'), type: 'text'}],
    submit: async (v, ctx) => api('POST', '/api/v1/enterprises', {...v, projectId: (await currentProject(ctx)).id}),
  }],
});

// kv shows an object's scalar fields as a definition list.
function kv(obj) {
  return h('dl', {class: 'vf-kv'}, ...Object.entries(obj || {})
    .filter(([, v]) => v === null || typeof v !== 'object')
    .flatMap(([k, v]) => [h('dt', {}, keyLabel(k)), h('dd', {}, cell(k, v))]));
}

register({
  id: 'enterprise', path: '/enterprises/:id', label: L('企业客户', 'Enterprise'),
  render: async (main, params, ctx) => {
    const root = page(main, 'enterprise', L('企业客户', 'Enterprise'));
    const id = params.id;
    const head = h('div', {});
    const box = errBox();
    root.append(box, head);
    const load = async () => {
      try {
        const e = await api('GET', `/api/v1/enterprises/${enc(id)}`);
        head.replaceChildren(h('h2', {}, `${e.name || ''} (${e.code || id})`), kv(e),
          ...(e.credit ? [h('h3', {}, tr('信用账户', 'Credit account')), kv(e.credit)] : []));
      } catch (err) {
        box.replaceChildren();
        head.replaceChildren();
        showError(box, err);
      }
    };
    await load();
    const staff = pagedList({url: () => `/api/v1/enterprises/${enc(id)}/staff`});
    const bills = pagedList({url: () => `/api/v1/enterprises/${enc(id)}/bills`});
    const forms = [
      [L('人员管理：新增', 'Add a staff member'), [{name: 'name', label: L('姓名', 'Name'), type: 'text', required: true},
        {name: 'phone', label: L('电话', 'Phone'), type: 'text'},
        {name: 'cards', label: L('卡号（逗号分隔）', 'Cards (comma separated)'), type: 'list'}],
      v => api('POST', `/api/v1/enterprises/${enc(id)}/staff`, v).then(async r => { await staff.reload(); return r; })],
      [L('企业充值', 'Recharge the wallet'), [{name: 'amount', label: L('金额', 'Amount'), type: 'money', required: true}],
        v => api('POST', '/api/v1/enterprise-recharges', {enterpriseId: id, amount: v.amount, transactionNo: newKey('ER')})],
      [L('信用额度申请', 'Credit limit application'), [
        {name: 'kind', label: L('类型', 'Kind'), type: 'select', required: true, options: [
          {value: 'open', label: L('开通', 'open')}, {value: 'adjust', label: L('调整', 'adjust')}]},
        {name: 'limit', label: L('额度', 'Limit'), type: 'money', required: true},
        {name: 'cycle', label: L('账期（如 720h）', 'Cycle (e.g. 720h)'), type: 'text'},
        {name: 'dueAfter', label: L('到期（如 240h）', 'Due after (e.g. 240h)'), type: 'text'},
        {name: 'grace', label: L('宽限（如 72h）', 'Grace (e.g. 72h)'), type: 'text'}],
      v => api('POST', '/api/v1/credit-applications', {...v, enterpriseId: id, applicationNo: newKey('CA')})],
      [L('信用消费', 'Charge to credit'), [{name: 'amount', label: L('金额', 'Amount'), type: 'money', required: true},
        {name: 'description', label: L('说明', 'Description'), type: 'text'}],
      v => api('POST', `/api/v1/enterprises/${enc(id)}/consumptions`, {...v, key: newKey('EC')}).then(async r => { await load(); return r; })],
      [L('还款', 'Repay credit'), [{name: 'amount', label: L('金额', 'Amount'), type: 'money', required: true}],
        v => api('POST', '/api/v1/repayments', {enterpriseId: id, amount: v.amount, transactionNo: newKey('RP')})
          .then(async r => { await load(); await bills.reload(); return r; })],
    ];
    for (const [title, fields, submit] of forms) {
      root.append(h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr(title.zh, title.en)),
        buildForm(fields, async v => { const r = await submit(v); return h('pre', {class: 'vf-json'}, JSON.stringify(r, null, 2)); })));
    }
    root.append(h('h3', {}, tr('人员与卡', 'Staff and cards')), staff.el, h('h3', {}, tr('账单', 'Bills')), bills.el);
    await Promise.all([staff.reload(), bills.reload()]);
  },
});

listPage({
  id: 'mail', path: '/mail', section: 'finance', label: L('邮件发件箱', 'Mail outbox'),
  filters: [{name: 'ref', label: L('关联前缀', 'Ref prefix'), type: 'text'}],
  url: p => '/api/v1/mail' + query(p),
});
