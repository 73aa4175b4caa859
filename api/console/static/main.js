// main.js — boots the console: session check, project picker, language
// switch, left navigation and the hash router.
import {
  api, h, tr, lang, setLang, clear, showError, token, setToken, match, pages, visible, hasRole,
  projectCode, setProjectCode, go,
} from './lib.js';
import './pages/index.js';

const SECTIONS = [
  ['home', '首页', 'Home'], ['metering', '电表', 'Metering'], ['charging', '充电', 'Charging'],
  ['finance', '财务', 'Finance'], ['reports', '报表', 'Reports'], ['setup', '设置', 'Setup'], ['system', '系统', 'System'],
];

const state = { me: null, project: null, cleanup: null, timers: new Set(), seq: 0 };

function currentPath() {
  const p = location.hash.replace(/^#/, '');
  return p === '' ? '/' : p;
}

async function loadMe() {
  state.me = await api('GET', '/api/v1/auth/me');
  const ps = state.me.projects || [];
  state.project = ps.find((p) => p.code === projectCode()) || ps[0] || null;
  if (state.project) setProjectCode(state.project.code);
}

function makeCtx(seq) {
  const ctx = {
    project: state.project,
    me: state.me,
    can: (role) => hasRole(state.me, state.project, role),
    go,
    // poll(fn, ms) runs fn every ms (after the previous run ended) until the
    // page is left; a run that throws does not stop it.
    poll(fn, ms = 2000) {
      let timer = null;
      let stopped = false;
      const stop = () => { stopped = true; clearTimeout(timer); };
      const tick = async () => {
        if (stopped || seq !== state.seq) return;
        try { await fn(); } catch (err) { console.error(err); }
        if (stopped || seq !== state.seq) return;
        timer = setTimeout(tick, ms);
      };
      timer = setTimeout(tick, ms);
      state.timers.add(stop);
      return stop;
    },
  };
  return ctx;
}

function renderChrome() {
  const anon = !state.me;
  document.body.classList.toggle('vf-anon', anon);
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = tr('Voltflow 运营控制台', 'Voltflow console');
  document.getElementById('vf-lang-zh').classList.toggle('vf-on', lang() === 'zh');
  document.getElementById('vf-lang-en').classList.toggle('vf-on', lang() === 'en');
  const picker = clear(document.getElementById('vf-project'));
  const user = clear(document.getElementById('vf-user'));
  const nav = clear(document.getElementById('vf-nav'));
  if (anon) return;
  for (const p of state.me.projects || []) {
    picker.appendChild(h('option', { value: p.code, selected: state.project && p.code === state.project.code }, `${p.name} (${p.code})`));
  }
  user.append(
    h('span', { class: 'vf-username', title: state.me.username }, state.me.displayName || state.me.username),
    ' ',
    h('a', { href: '#/password', class: 'vf-link' }, tr('修改密码', 'Password')),
    ' ',
    h('a', { href: '#/logout', class: 'vf-link', dataset: { action: 'logout' } }, tr('退出', 'Log out')),
  );
  const ctx = makeCtx(state.seq);
  const path = currentPath();
  for (const [id, zh, en] of SECTIONS) {
    const items = pages().filter((p) => p.section === id && visible(p, ctx));
    if (items.length === 0) continue;
    nav.appendChild(h('div', { class: 'vf-nav-section' }, tr(zh, en)));
    for (const p of items) {
      const href = p.path.includes(':') ? null : '#' + p.path;
      if (!href) continue;
      nav.appendChild(h('a', { href, class: ['vf-nav-item', path.split('?')[0] === p.path ? 'vf-on' : ''], dataset: { nav: p.id } }, tr(p.label)));
    }
  }
}

function stopPage() {
  state.seq++;
  for (const stop of state.timers) stop();
  state.timers.clear();
  if (typeof state.cleanup === 'function') {
    try { state.cleanup(); } catch (err) { console.error(err); }
  }
  state.cleanup = null;
}

async function route() {
  stopPage();
  const seq = state.seq;
  const path = currentPath();
  const main = clear(document.getElementById('main'));
  let m = match(path);
  const isPublic = m && m.page.public;
  if (!token() && !isPublic) {
    state.me = null;
    renderChrome();
    go('/login');
    return;
  }
  if (token() && !state.me && !isPublic) {
    try {
      await loadMe();
    } catch (err) {
      if (seq !== state.seq) return;
      if (!token()) return; // 401: the API sent us to the login page
      if (err.code === 'password_change_required') {
        // Until the password changes the API answers nothing else.
        mustChange();
        if (!m || m.page.id !== 'password') { go('/password'); return; }
      } else {
        renderChrome();
        showError(main, err);
        return;
      }
    }
    if (seq !== state.seq) return;
  }
  if (!m) m = match('/notfound');
  renderChrome();
  const root = h('div', { class: 'vf-page', dataset: { page: m.page.id } });
  main.appendChild(root);
  const ctx = makeCtx(seq);
  if (!m.page.public && !visible(m.page, ctx)) {
    showError(root, new Error(tr('没有权限查看此页面', 'You may not see this page')));
    return;
  }
  if (!m.page.public && !state.project && !m.page.noProject) {
    root.appendChild(h('p', { class: 'vf-empty' }, tr('您还没有任何项目的角色。', 'You have no role in any project yet.')));
    return;
  }
  try {
    const cleanup = await m.page.render(root, m.params, ctx);
    if (seq !== state.seq) { if (typeof cleanup === 'function') cleanup(); return; }
    state.cleanup = cleanup;
  } catch (err) {
    if (seq === state.seq) showError(root, err);
  }
}

// mustChange stands in for the operator whose password an administrator
// reset: no project, nothing but the password page.
function mustChange() {
  state.me = { username: '', displayName: '', platformAdmin: false, mustChangePassword: true, projects: [] };
  state.project = null;
}

/** session hooks the login and logout pages call (window-level so pages need not import main.js). */
window.vfSession = {
  async loggedIn(t) {
    setToken(t);
    state.me = null;
    try {
      await loadMe();
    } catch (err) {
      if (err.code !== 'password_change_required') throw err;
      mustChange();
    }
    if (state.me && state.me.mustChangePassword) { go('/password'); return; }
    const back = sessionStorage.getItem('vf.back');
    sessionStorage.removeItem('vf.back');
    go(back && !back.startsWith('/login') && !back.startsWith('/logout') ? back : '/');
  },
  loggedOut() {
    setToken('');
    state.me = null;
    state.project = null;
  },
  async refresh() { await loadMe(); },
};

function boot() {
  document.getElementById('vf-lang-zh').addEventListener('click', () => { setLang('zh'); route(); });
  document.getElementById('vf-lang-en').addEventListener('click', () => { setLang('en'); route(); });
  document.getElementById('vf-project').addEventListener('change', (ev) => {
    setProjectCode(ev.target.value);
    state.project = (state.me.projects || []).find((p) => p.code === ev.target.value) || state.project;
    route();
  });
  window.addEventListener('hashchange', () => {
    const p = currentPath();
    if (!token() && !p.startsWith('/login')) sessionStorage.setItem('vf.back', p);
    route();
  });
  if (!token() && !currentPath().startsWith('/login') && currentPath() !== '/') sessionStorage.setItem('vf.back', currentPath());
  route();
}

boot();
