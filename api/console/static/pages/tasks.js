// Task inbox (待办审批): what waits for a decision, with the amount, the
// meter and its customer, and who applied; approve or reject with a comment
// (the decision shows at once); a link to the process in the Temporal Web
// UI. Only operators who may decide see the buttons — the API refuses the
// others anyway (403).
import { register, api, h, tr, clear, showError, notice, money, fmtTime, badge, card, qs } from '../lib.js';

const TEMPORAL_UI = 'http://127.0.0.1:8233/namespaces/default/workflows/';

register({
  id: 'tasks', path: '/tasks', section: 'home', label: { zh: '待办审批', en: 'Task inbox' },
  async render(main, _params, ctx) {
    const code = encodeURIComponent(ctx.project.code);
    const canDecide = ctx.can('approver');
    let status = 'pending';
    const tabs = h('div', { class: 'vf-toolbar' });
    const list = h('div', { class: 'vf-tasks' });
    main.append(h('h2', null, tr('待办审批', 'Task inbox')), tabs, list);
    const decided = new Map(); // task id → the decision just made, until the list shows it

    // The tabs' words avoid 批准 / 驳回 and Approve / Reject: only the decision
    // buttons carry them (contracts.md, Console).
    function renderTabs() {
      clear(tabs).append(...[['pending', '待处理', 'Pending'], ['approved', '已通过', 'Accepted'], ['rejected', '未通过', 'Declined'], ['expired', '已过期', 'Expired']]
        .map(([s, zh, en]) => h('button', { type: 'button', class: ['vf-btn', s === status ? 'vf-primary' : ''], dataset: { tab: s },
          onclick: () => { status = s; renderTabs(); load(); } }, tr(zh, en))));
    }

    function taskCard(t) {
      const d = t.details || {};
      const comment = h('input', { type: 'text', name: 'comment', placeholder: tr('审批意见（可选）', 'Comment (optional)'), maxlength: '2000' });
      const box = h('div', { class: 'vf-card vf-task', dataset: { task: t.id, status: t.status } });
      const decide = async (approve, btn) => {
        btn.disabled = true;
        try {
          const out = await api('POST', `/api/v1/tasks/${encodeURIComponent(t.id)}/${approve ? 'approve' : 'reject'}`, comment.value ? { comment: comment.value } : null);
          decided.set(t.id, out.status || (approve ? 'approved' : 'rejected'));
          box.dataset.status = decided.get(t.id);
          clear(actions).append(badge(decided.get(t.id)), ' ', tr('已处理', 'Decided'));
          notice(main, approve ? tr(`已批准：${t.subject}`, `Approved: ${t.subject}`) : tr(`已驳回：${t.subject}`, `Rejected: ${t.subject}`));
        } catch (err) {
          showError(box, err);
          btn.disabled = false;
        }
      };
      const approveBtn = h('button', { type: 'button', class: 'vf-btn vf-primary', dataset: { action: 'approve' } }, tr('批准', 'Approve'));
      const rejectBtn = h('button', { type: 'button', class: 'vf-btn vf-danger', dataset: { action: 'reject' } }, tr('驳回', 'Reject'));
      approveBtn.addEventListener('click', () => decide(true, approveBtn));
      rejectBtn.addEventListener('click', () => decide(false, rejectBtn));
      const actions = h('div', { class: 'vf-actions' });
      if (t.status === 'pending' && canDecide) actions.append(comment, approveBtn, rejectBtn);
      else if (t.status === 'pending') actions.append(h('span', { class: 'vf-muted' }, tr('需要审批人角色才能处理', 'Needs the approver role to decide')));
      else actions.append(badge(t.status), ' ', t.decidedBy || '', ' ', fmtTime(t.decidedAt), t.comment ? ` — ${t.comment}` : '');
      box.append(
        h('h3', null, t.subject),
        h('dl', { class: 'vf-kv' },
          d.amount ? [h('dt', null, tr('金额', 'Amount')), h('dd', { class: 'vf-big' }, money(d.amount))] : null,
          d.meterNo ? [h('dt', null, tr('电表', 'Meter')), h('dd', null, h('a', { href: '#/meters/' + encodeURIComponent(d.meterNo) }, d.meterNo))] : null,
          t.customer ? [h('dt', null, tr('客户', 'Customer')), h('dd', null, t.customer)] : null,
          t.unit ? [h('dt', null, tr('单元', 'Unit')), h('dd', null, t.unit)] : null,
          [h('dt', null, tr('申请人', 'Applied by')), h('dd', null, t.applicant || '—')],
          [h('dt', null, tr('申请时间', 'Applied at')), h('dd', null, fmtTime(t.createdAt))],
          d.reason ? [h('dt', null, tr('原因', 'Reason')), h('dd', null, d.reason)] : null,
          [h('dt', null, tr('审批角色', 'Role')), h('dd', null, t.role)],
          [h('dt', null, tr('流程', 'Workflow')), h('dd', null, h('a', { href: TEMPORAL_UI + encodeURIComponent(t.workflowId), target: '_blank', rel: 'noopener' }, t.workflowId))]),
        actions);
      return box;
    }

    async function load() {
      try {
        const out = await api('GET', `/api/v1/projects/${code}/inbox` + qs({ status }));
        for (const old of main.querySelectorAll(':scope > .vf-error')) old.remove();
        // Keep a card whose comment is being typed: redraw only what changed.
        const items = out.items.filter((t) => !(status === 'pending' && decided.has(t.id) && t.status === 'pending'));
        const want = items.map((t) => t.id + ':' + t.status).join(',');
        if (list.dataset.shown === want) return;
        list.dataset.shown = want;
        const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.closest('[data-task]') : null;
        if (focused && items.some((t) => t.id === focused.dataset.task)) return;
        clear(list).append(...(items.length ? items.map(taskCard) : [h('p', { class: 'vf-empty' }, tr('没有待办', 'Nothing here'))]));
      } catch (err) {
        showError(main, err);
      }
    }

    renderTabs();
    await load();
    ctx.poll(load, 2000);
  },
});
