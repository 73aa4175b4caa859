// Log in, log out, password change, and the page for unknown routes.
import { register, api, h, tr, form, notice, go } from '../lib.js';

register({
  id: 'login', path: '/login', public: true, label: { zh: '登录', en: 'Log in' },
  async render(main) {
    main.classList.add('vf-login');
    const f = form([
      { name: 'username', label: { zh: '用户名', en: 'Username' }, required: true, autocomplete: 'username' },
      { name: 'password', label: { zh: '密码', en: 'Password' }, type: 'password', required: true, autocomplete: 'current-password' },
    ], async (v) => {
      const out = await api('POST', '/api/v1/auth/login', { username: v.username, password: v.password });
      await window.vfSession.loggedIn(out.token);
    }, { submit: { zh: '登录', en: 'Log in' } });
    main.append(h('div', { class: 'vf-login-box' },
      h('h1', null, 'Voltflow'),
      h('p', { class: 'vf-muted' }, tr('预付费电表与充电运营控制台', 'Prepaid metering and charging console')),
      f));
    f.elements.namedItem('username').focus();
  },
});

register({
  id: 'logout', path: '/logout', public: true, label: { zh: '退出', en: 'Log out' },
  async render(main) {
    // The session ends on the server too, so a copied token stops working.
    try {
      const mine = await api('GET', '/api/v1/auth/sessions');
      const cur = (mine.items || []).find((s) => s.current);
      if (cur) await api('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(cur.id)}`);
    } catch (_) { /* logging out anyway */ }
    window.vfSession.loggedOut();
    main.append(h('p', null, tr('已退出。', 'Logged out.')));
    go('/login');
  },
});

register({
  id: 'password', path: '/password', label: { zh: '修改密码', en: 'Change password' }, noProject: true,
  async render(main, _params, ctx) {
    main.append(h('h2', null, tr('修改密码', 'Change password')));
    if (ctx.me && ctx.me.mustChangePassword) {
      main.append(h('p', { class: 'vf-warn' }, tr('管理员重置了您的密码，请先设置新密码。', 'An administrator reset your password: set a new one first.')));
    }
    main.append(form([
      { name: 'current', label: { zh: '当前密码', en: 'Current password' }, type: 'password', required: true, autocomplete: 'current-password' },
      { name: 'next', label: { zh: '新密码', en: 'New password' }, type: 'password', required: true, autocomplete: 'new-password' },
      { name: 'again', label: { zh: '再次输入新密码', en: 'New password again' }, type: 'password', required: true, autocomplete: 'new-password' },
    ], async (v, el) => {
      if (v.next !== v.again) throw new Error(tr('两次输入的新密码不一致', 'The new passwords differ'));
      await api('POST', '/api/v1/auth/password', { oldPassword: v.current, newPassword: v.next });
      el.reset();
      const forced = ctx.me && ctx.me.mustChangePassword;
      await window.vfSession.refresh();
      if (forced) { go('/'); return; }
      notice(main, tr('密码已修改。', 'Password changed.'));
    }, { submit: { zh: '修改', en: 'Change' } }));
  },
});

register({
  id: 'notfound', path: '/notfound', label: { zh: '未找到', en: 'Not found' }, noProject: true,
  async render(main) {
    main.append(h('div', { class: 'vf-error' }, tr('没有这个页面。', 'There is no such page.'), ' ', h('a', { href: '#/' }, tr('返回首页', 'Home'))));
  },
});
