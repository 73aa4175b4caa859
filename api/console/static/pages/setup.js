// Setup (系统设置): a screen for every resource the API creates —
// organisations, projects, the site tree, units, customers, accounts (开户),
// operators and roles, API keys, project settings, gateways and tariffs.
import {register, api, h, tr} from '../lib.js';
import {
  L, listPage, page, buildForm, errBox, fail, act, button, grid, currentProject, allProjects, ROLES, hasRoute, cell,
} from './util.js';

const enc = encodeURIComponent;
const created = r => h('pre', {class: 'vf-json'}, JSON.stringify(r, null, 2));

// projectPage registers a page that works in the current project: render(root, project, ctx).
function projectPage({id, path, label, roles, render}) {
  register({
    id, path, section: 'setup', label, roles,
    render: async (main, params, ctx) => {
      const root = page(main, id, label);
      const box = errBox();
      root.append(box);
      try {
        const p = await currentProject(ctx);
        root.append(h('p', {class: 'vf-muted vf-intro'}, tr('项目：', 'Project: ') + `${p.name} (${p.code})`));
        await render(root, p, ctx, params);
      } catch (e) {
        fail(box, e);
      }
    },
  });
}

listPage({
  id: 'organisations', path: '/setup/organisations', section: 'setup', label: L('组织', 'Organisations'), roles: ['admin'],
  url: () => '/api/v1/organisations',
  columns: ['code', 'name', 'id', {key: 'rename', label: L('改名', 'Rename'), render: r => renameCell(
    'PATCH', '/api/v1/organisations/{code}', `/api/v1/organisations/${enc(r.code)}`, r.name)}],
  create: [{
    title: L('新建组织', 'New organisation'), open: true,
    fields: [{name: 'code', label: L('编码', 'Code'), type: 'text', required: true},
      {name: 'name', label: L('名称', 'Name'), type: 'text', required: true}],
    submit: v => api('POST', '/api/v1/organisations', v),
    result: r => tr(`已创建组织 ${r.code}`, `Organisation ${r.code} created`),
  }],
});

// renameCell is an inline rename, shown only when the API has the route.
function renameCell(method, pattern, path, current) {
  const el = h('span', {class: 'vf-actions'});
  hasRoute(method, pattern).then(ok => {
    if (!ok) { el.textContent = '—'; return; }
    const box = errBox();
    const input = h('input', {type: 'text', value: current || ''});
    el.append(input, button(L('保存', 'Save'), act(box, () => api(method, path, {name: input.value.trim()}))), box);
  });
  return el;
}

listPage({
  id: 'projects', path: '/setup/projects', section: 'setup', label: L('项目', 'Projects'),
  url: () => '/api/v1/projects',
  after: () => allProjects(true).catch(() => {}),
  columns: ['code', 'name', 'organisation', 'id', {key: 'rename', label: L('改名', 'Rename'), render: r => renameCell(
    'PATCH', '/api/v1/projects/{project}', `/api/v1/projects/${enc(r.code)}`, r.name)}],
  create: [{
    title: L('新建项目', 'New project'),
    fields: [{name: 'code', label: L('编码', 'Code'), type: 'text', required: true},
      {name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'organisation', label: L('所属组织（编码）', 'Organisation (code)'), type: 'select', required: true,
        options: () => api('GET', '/api/v1/organisations').then(r => (r.items || []).map(o => ({value: o.code, label: `${o.name} (${o.code})`})))}],
    submit: v => api('POST', '/api/v1/projects', v),
    result: r => tr(`已创建项目 ${r.code}`, `Project ${r.code} created`),
  }],
});

const LEVELS = {1: L('楼栋/区域', 'building / area'), 2: L('楼层', 'floor'), 3: L('区', 'zone'), 4: L('分区', 'sub-zone')};

// Site tree: nested lists with add-child, and rename / move where the API has them.
projectPage({
  id: 'sites', path: '/setup/sites', label: L('站点树', 'Site tree'),
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}/sites`;
    const canPatch = await hasRoute('PATCH', '/api/v1/projects/{project}/sites/{id}');
    const tree = h('div', {class: 'vf-tree'});
    const box = errBox();
    const parentSel = {value: null};
    const form = buildForm([
      {name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'parentId', label: L('上级站点编号（空 = 第一级）', 'Parent site ID (empty = level 1)'), type: 'text', nullable: true},
    ], async v => {
      let level = 1;
      if (v.parentId) level = (flat.get(v.parentId)?.level || 0) + 1;
      const r = await api('POST', base, {name: v.name, level, parentId: v.parentId ?? null});
      await load();
      return tr(`已创建站点 ${r.name}（${r.id}）`, `Site ${r.name} created (${r.id})`);
    }, {title: L('新建站点', 'New site'), submit: L('创建', 'Create')});
    parentSel.input = form.querySelector('[name=parentId]');
    const flat = new Map();
    const node = n => {
      flat.set(n.id, n);
      const line = h('div', {class: 'vf-tree-node', dataset: {site: n.id}},
        h('strong', {}, n.name), ' ', h('small', {}, `L${n.level} ${LEVELS[n.level] ? tr(LEVELS[n.level].zh, LEVELS[n.level].en) : ''} · ${n.id}`), ' ',
        ...(n.level < 4 ? [button(L('添加下级', 'Add child'), () => { parentSel.input.value = n.id; form.querySelector('[name=name]').focus(); })] : []));
      if (canPatch) {
        // Rename and move inline: a name field, and a choice of the new
        // parent among the other sites (or level 1); the API refuses a
        // move under the site itself or past level 4, shown readably.
        const nb = errBox();
        const edit = h('span', {class: 'vf-tree-edit', hidden: true});
        const name = h('input', {type: 'text', name: 'siteName', value: n.name});
        const parent = h('select', {name: 'siteParent'}, h('option', {value: ''}, tr('（第一级）', '(level 1)')),
          ...[...flat.values()].filter(x => x.id !== n.id && x.level < 4)
            .map(x => h('option', {value: x.id, selected: x.id === n.parentId}, `${'· '.repeat(x.level - 1)}${x.name}`)));
        edit.append(name, button(L('保存名称', 'Save name'), act(nb, () => api('PATCH', `${base}/${enc(n.id)}`, {name: name.value.trim()}), load)),
          parent, button(L('移到此处', 'Move here'), act(nb, () => api('PATCH', `${base}/${enc(n.id)}`, {parentId: parent.value || null}), load)));
        line.append(button(L('改名 / 移动', 'Rename / move'), () => { edit.hidden = !edit.hidden; }), edit, nb);
      }
      return h('li', {}, line, ...(n.children && n.children.length ? [h('ul', {}, ...n.children.map(node))] : []));
    };
    const load = async () => {
      box.replaceChildren();
      try {
        flat.clear();
        const {items} = await api('GET', base);
        const index = ns => ns.forEach(x => { flat.set(x.id, x); index(x.children || []); });
        index(items || []);
        tree.replaceChildren(items && items.length ? h('ul', {}, ...items.map(node))
          : h('p', {class: 'vf-empty'}, tr('还没有站点', 'No sites yet')));
      } catch (e) {
        fail(box, e);
      }
    };
    root.append(box, tree, form);
    await load();
  },
});

projectPage({
  id: 'units', path: '/setup/units', label: L('单元与客户', 'Units & customers'),
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}`;
    const units = h('div', {}), customers = h('div', {}), box = errBox();
    const lists = async () => {
      try {
        const [us, cs] = await Promise.all([api('GET', base + '/units'), api('GET', base + '/customers')]);
        units.replaceChildren(grid(['code', 'name', 'siteId', 'id'].map(k => ({key: k, label: k})), us.items));
        customers.replaceChildren(grid(['name', 'phone', 'kind', 'id'].map(k => ({key: k, label: k})), cs.items));
      } catch (e) {
        fail(box, e);
      }
    };
    const sites = async () => {
      const {items} = await api('GET', base + '/sites');
      const out = [];
      const walk = (ns, pre) => ns.forEach(n => { out.push({value: n.id, label: pre + n.name}); walk(n.children || [], pre + n.name + ' / '); });
      walk(items || [], '');
      return out;
    };
    root.append(
      buildForm([{name: 'code', label: L('单元编码', 'Unit code'), type: 'text', required: true},
        {name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
        {name: 'siteId', label: L('所属站点', 'Site'), type: 'select', required: true, options: sites}],
      async v => { const r = await api('POST', base + '/units', v); await lists(); return created(r); }, {title: L('新建单元', 'New unit')}),
      buildForm([{name: 'name', label: L('客户名称', 'Customer name'), type: 'text', required: true},
        {name: 'phone', label: L('电话', 'Phone'), type: 'text'},
        {name: 'kind', label: L('类型', 'Kind'), type: 'select', required: true, options: [
          {value: 'person', label: L('个人', 'person')}, {value: 'company', label: L('企业', 'company')}]}],
      async v => { const r = await api('POST', base + '/customers', v); await lists(); return created(r); }, {title: L('新建客户', 'New customer')}),
      box, h('h3', {}, tr('单元', 'Units')), units, h('h3', {}, tr('客户', 'Customers')), customers);
    await lists();
    if (await hasRoute('GET', '/api/v1/projects/{project}/units/{id}')) {
      const out = h('div', {});
      root.append(buildForm([{name: 'id', label: L('单元编号', 'Unit ID'), type: 'text', required: true}],
        async v => { out.replaceChildren(created(await api('GET', `${base}/units/${enc(v.id)}`))); return false; },
        {title: L('查看单元', 'Look up a unit'), submit: L('查询', 'Look up'), reset: false}), out);
    }
  },
});

projectPage({
  id: 'accounts', path: '/setup/accounts', label: L('开户', 'Open an account'),
  render: async (root, p) => {
    root.append(h('p', {class: 'vf-muted vf-intro'}, tr('一户多表：一个客户在一个单元开户，可包含多块电表，每块表余额独立。',
      'One account, several meters: a customer on a unit; each meter keeps its own balance.')),
    buildForm([{name: 'customerId', label: L('客户', 'Customer'), type: 'select', required: true,
      options: () => api('GET', `/api/v1/projects/${enc(p.code)}/customers`).then(r => (r.items || []).map(c => ({value: c.id, label: `${c.name} ${c.phone || ''}`})))},
    {name: 'unitId', label: L('单元', 'Unit'), type: 'select', required: true,
      options: () => api('GET', `/api/v1/projects/${enc(p.code)}/units`).then(r => (r.items || []).map(u => ({value: u.id, label: `${u.name} (${u.code})`})))},
      {name: 'meters', label: L('表号（逗号分隔）', 'Meters (comma separated)'), type: 'list', required: true}],
    async v => created(await api('POST', `/api/v1/projects/${enc(p.code)}/accounts`, v)), {submit: L('开户', 'Open')}));
  },
});

// Operators: create; then per username grant / revoke roles, disable,
// enable, reset the password, end sessions. A list appears when the API has one.
register({
  id: 'operators', path: '/setup/operators', section: 'setup', label: L('操作员与角色', 'Operators & roles'), roles: ['admin'],
  render: async (main, params, ctx) => {
    const root = page(main, 'operators', L('操作员与角色', 'Operators & roles'));
    const box = errBox();
    const list = h('div', {});
    root.append(box);
    const projectOpts = () => allProjects().then(ps => ps.map(x => ({value: x.code, label: `${x.name} (${x.code})`})));
    let cur = null;
    try {
      cur = await currentProject(ctx);
    } catch (e) {
      fail(box, e);
    }
    const load = async () => {
      if (!(await hasRoute('GET', '/api/v1/operators'))) return;
      try {
        const {items} = await api('GET', '/api/v1/operators');
        list.replaceChildren(grid([{key: 'username', label: 'username'}, {key: 'displayName', label: 'displayName'},
          {key: 'disabled', label: 'disabled'},
          {key: 'roles', label: 'roles', render: r => (r.roles || []).map(g => `${g.project}:${g.role}`).join(', ') || '—'}], items));
      } catch (e) {
        fail(box, e);
      }
    };
    const user = {name: 'username', label: L('用户名', 'Username'), type: 'text', required: true, omit: true, keep: true};
    const forms = [
      [L('新建操作员', 'New operator'), [{name: 'username', label: L('用户名', 'Username'), type: 'text', required: true},
        {name: 'displayName', label: L('姓名', 'Display name'), type: 'text'},
        {name: 'password', label: L('初始密码（10 位以上，含字母与数字或符号）', 'Password (10+ characters, letters and a digit or symbol)'), type: 'password', required: true}],
      v => api('POST', '/api/v1/operators', v)],
      [L('授予角色', 'Grant a role'), [user,
        {name: 'project', label: L('项目', 'Project'), type: 'select', required: true, options: projectOpts, value: cur && cur.code},
        {name: 'role', label: L('角色', 'Role'), type: 'select', required: true, options: ROLES},
        {name: 'siteIds', label: L('限定站点（逗号分隔，可空）', 'Only these sites (comma separated, optional)'), type: 'list'}],
      v => api('POST', `/api/v1/operators/${enc(v._username)}/roles`, {project: v.project, role: v.role, siteIds: v.siteIds})],
      [L('撤销角色', 'Revoke a role'), [user,
        {name: 'project', label: L('项目', 'Project'), type: 'select', required: true, options: projectOpts, value: cur && cur.code},
        {name: 'role', label: L('角色', 'Role'), type: 'select', required: true, options: ROLES}],
      v => api('DELETE', `/api/v1/operators/${enc(v._username)}/roles?project=${enc(v.project)}&role=${enc(v.role)}`)],
      [L('重置密码', 'Reset the password'), [user,
        {name: 'password', label: L('新密码', 'New password'), type: 'password', required: true}],
      v => api('POST', `/api/v1/operators/${enc(v._username)}/password`, {password: v.password})],
      [L('停用 / 启用 / 结束会话', 'Disable / enable / end sessions'), [user,
        {name: 'what', label: L('操作', 'Action'), type: 'select', required: true, omit: true, options: [
          {value: 'disable', label: L('停用', 'disable')}, {value: 'enable', label: L('启用', 'enable')},
          {value: 'sessions', label: L('结束全部会话', 'end every session')}]}],
      v => (v._what === 'sessions' ? api('DELETE', `/api/v1/operators/${enc(v._username)}/sessions`)
        : api('POST', `/api/v1/operators/${enc(v._username)}/${v._what}`))],
    ];
    for (const [title, fields, submit] of forms) {
      root.append(h('details', {class: 'vf-create vf-card'}, h('summary', {}, tr(title.zh, title.en)),
        buildForm(fields, async v => { const r = await submit(v); await load(); return r ? created(r) : undefined; })));
    }
    root.append(list);
    await load();
  },
});

projectPage({
  id: 'api-keys', path: '/setup/api-keys', label: L('API 密钥', 'API keys'), roles: ['admin'],
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}/api-keys`;
    const list = h('div', {});
    const box = errBox();
    const load = async () => {
      try {
        const {items} = await api('GET', base);
        list.replaceChildren(grid(['name', 'roles', 'createdAt', 'lastUsedAt', 'revokedAt', 'id'].map(k => ({key: k, label: k}))
          .concat([{key: 'revoke', label: L('操作', 'Actions'), render: r => (r.revokedAt ? '—'
            : button(L('吊销', 'Revoke'), act(box, () => api('DELETE', `${base}/${enc(r.id)}`), load), 'vf-danger'))}]), items));
      } catch (e) {
        fail(box, e);
      }
    };
    root.append(buildForm([{name: 'name', label: L('名称', 'Name'), type: 'text', required: true},
      {name: 'roles', label: L('角色（逗号分隔：admin, cashier, approver, maintenance, viewer）', 'Roles (comma separated: admin, cashier, approver, maintenance, viewer)'), type: 'list', required: true}],
    async v => {
      const r = await api('POST', base, v);
      await load();
      // The key is in this answer only: show it once, with a warning.
      return h('div', {class: 'vf-secret'}, h('p', {}, tr('密钥只显示这一次，请立即保存：', 'The key is shown this once only; keep it now:')),
        h('code', {class: 'vf-key', dataset: {key: 'new'}}, r.key));
    }, {title: L('新建 API 密钥', 'New API key')}), box, list);
    await load();
  },
});

projectPage({
  id: 'settings', path: '/setup/settings', label: L('项目参数', 'Project settings'), roles: ['admin'],
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}/settings`;
    const s = await api('GET', base);
    root.append(buildForm([
      {name: 'readingInterval', label: L('抄表间隔（如 30m）', 'Reading interval (e.g. 30m)'), type: 'text', nullable: true, value: s.readingInterval},
      {name: 'autoApproveUpTo', label: L('自动审批上限', 'Auto-approve up to'), type: 'money', required: true, value: s.autoApproveUpTo},
      {name: 'hoardingCap', label: L('囤积金额上限', 'Hoarding cap'), type: 'money', nullable: true, value: s.hoardingCap},
      {name: 'defaultPrice', label: L('默认单价', 'Default price'), type: 'text', nullable: true, value: s.defaultPrice},
      {name: 'alarm1', label: L('一级告警金额', 'Alarm 1 amount'), type: 'money', required: true, value: s.alarm1},
      {name: 'alarm2', label: L('二级告警金额', 'Alarm 2 amount'), type: 'money', required: true, value: s.alarm2},
    ], async v => { await api('PUT', base, v); return tr('已保存', 'Saved'); }, {submit: L('保存', 'Save'), reset: false}));
  },
});

projectPage({
  id: 'gateways', path: '/setup/gateways', label: L('网关', 'Gateways'),
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}/gateways/`;
    const out = h('div', {});
    // No list route for gateways: their codes come from the project's meters.
    const codes = async () => {
      const {items} = await api('GET', '/api/v1/meters?limit=500');
      return [...new Set((items || []).map(m => m.gateway).filter(Boolean))].sort();
    };
    root.append(buildForm([{name: 'code', label: L('网关编号', 'Gateway code'), type: 'select', required: true, options: codes}],
      async v => {
        const g = await api('GET', base + enc(v.code));
        out.replaceChildren(grid(['code', 'protocol', 'address', 'maxInFlight', 'meters', 'reachable', 'lastSweepAt'].map(k => ({key: k, label: k})), [g]),
          buildForm([{name: 'address', label: L('地址 host:port', 'Address host:port'), type: 'text', value: g.address},
            {name: 'maxInFlight', label: L('并发窗口（空 = 平台默认）', 'Pipelining window (empty = default)'), type: 'integer', nullable: true, value: g.maxInFlight}],
          async c => created(await api('PATCH', base + enc(v.code), c)), {title: L('修改网关', 'Change the gateway'), submit: L('保存', 'Save'), reset: false}));
        return false;
      }, {submit: L('查询', 'Look up'), inline: true, reset: false}), out);
  },
});

projectPage({
  id: 'tariffs', path: '/setup/tariffs', label: L('费率', 'Tariffs'),
  render: async (root, p) => {
    const base = `/api/v1/projects/${enc(p.code)}/tariffs`;
    const list = h('div', {});
    const box = errBox();
    const load = async () => {
      try {
        const r = await api('GET', base);
        const items = r.items || r;
        list.replaceChildren(grid([{key: 'code', label: 'code'}, {key: 'name', label: 'name'},
          {key: 'tariff', label: L('费率', 'Tariff'), render: t => cell('tariff', t.tariff || t.spec)},
          {key: 'meters', label: L('电表数', 'Meters'), render: t => cell('meters', t.meters ?? t.meterCount)}], items));
      } catch (e) {
        fail(box, e);
      }
    };
    root.append(buildForm([{name: 'code', label: L('编码', 'Code'), type: 'text', required: true},
      {name: 'name', label: L('名称', 'Name'), type: 'text'},
      {name: 'tariff', label: L('费率 (JSON)', 'Tariff (JSON)'), type: 'json', required: true, value: {kind: 'single', price: '1.0000'}}],
    async v => { const r = await api('POST', base, v); await load(); return created(r); }, {title: L('新建费率', 'New tariff')}),
    buildForm([{name: 'meterNo', label: L('表号', 'Meter'), type: 'text', required: true, omit: true},
      {name: 'tariff', label: L('费率编码', 'Tariff code'), type: 'text', required: true}],
    async v => created(await api('PUT', `/api/v1/meters/${enc(v._meterNo)}/tariff`, {tariff: v.tariff})),
    {title: L('为电表指定费率', 'Assign a tariff to a meter'), submit: L('保存', 'Save')}), box, list);
    await load();
  },
});
