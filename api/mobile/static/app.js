// The tenant's phone page: log in by phone and SMS code, see each meter's
// balance and use, pay by WeChat. Plain ES module, no inline script (CSP).
const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem('vt') || '' };

async function api(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const r = await fetch('/api/v1/tenant' + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401 && path !== '/sessions') { logout(); }
  if (!r.ok) throw new Error((data && data.detail) || ('请求失败 ' + r.status));
  return data;
}

function say(text) { $('message').textContent = text || ''; }
function show(id) { for (const s of ['login', 'meters', 'meter']) $(s).hidden = s !== id; $('logout').hidden = id === 'login'; }
function li(text, cls) { const e = document.createElement('li'); e.textContent = text; if (cls) e.className = cls; return e; }
function when(t) { return t ? new Date(t).toLocaleString('zh-CN', { hour12: false }) : '—'; }
const statusText = { completed: '已到账', dispatching: '下发中', approved: '处理中', pending_approval: '待审核', rejected: '已驳回',
  dispatch_failed: '下发失败', created: '待支付', credited: '已入账', closed: '已关闭', amount_mismatch: '金额不符' };

function logout() { state.token = ''; sessionStorage.removeItem('vt'); show('login'); }

async function sendCode() {
  const phone = $('login-form').phone.value.trim();
  try {
    await api('POST', '/login-codes', { phone });
    say('验证码已发送，5 分钟内有效');
    const b = $('send-code'); b.disabled = true; let n = 60;
    const t = setInterval(() => { b.textContent = (--n) + ' 秒'; if (n <= 0) { clearInterval(t); b.disabled = false; b.textContent = '获取验证码'; } }, 1000);
  } catch (e) { say(e.message); }
}

async function login(ev) {
  ev.preventDefault();
  const f = ev.target;
  try {
    const r = await api('POST', '/sessions', { phone: f.phone.value.trim(), code: f.code.value.trim() });
    state.token = r.token; sessionStorage.setItem('vt', r.token); say('');
    await meters();
  } catch (e) { say(e.message); }
}

async function meters() {
  const r = await api('GET', '/meters');
  const ul = $('meter-list'); ul.replaceChildren();
  for (const m of r.items) {
    const e = li('', 'meter');
    const b = document.createElement('div'); b.className = 'balance' + (m.remaining !== null && Number(m.remaining) < 20 ? ' low' : '');
    b.textContent = '余额 ' + (m.remaining ?? '—') + ' 元';
    const d = document.createElement('div');
    d.textContent = m.meterNo + (m.unit ? ' · ' + m.unit : '') + ' · 今日 ' + m.todayKwh + ' kWh · 本月 ' + m.monthKwh + ' kWh';
    e.append(b, d); e.addEventListener('click', () => meter(m.meterNo)); ul.append(e);
  }
  if (!r.items.length) ul.append(li('没有找到您名下的电表'));
  show('meters');
}

async function meter(no) {
  const m = await api('GET', '/meters/' + encodeURIComponent(no));
  state.meter = no;
  $('meter-title').textContent = '电表 ' + m.meterNo;
  const dl = $('meter-facts'); dl.replaceChildren();
  for (const [k, v] of [['余额', (m.remaining ?? '—') + ' 元'], ['今日用电', m.todayKwh + ' kWh'], ['本月用电', m.monthKwh + ' kWh'],
    ['电价', m.price + ' 元/kWh'], ['抄表时间', when(m.readAt)]]) {
    const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; dl.append(dt, dd);
  }
  const rs = $('recharges'); rs.replaceChildren();
  for (const r of m.recharges) rs.append(li(when(r.createdAt) + '  ' + r.amount + ' 元  ' + (statusText[r.status] || r.status)));
  if (!m.recharges.length) rs.append(li('暂无充值记录'));
  const rd = $('readings'); rd.replaceChildren();
  for (const r of m.readings) rd.append(li(when(r.readAt) + '  ' + r.energyKwh + ' kWh  余额 ' + r.remaining + ' 元'));
  if (!m.readings.length) rd.append(li('暂无读数'));
  $('pay-result').hidden = true;
  show('meter');
}

async function pay(ev) {
  ev.preventDefault();
  const amount = ev.target.amount.value.trim();
  try {
    const p = await api('POST', '/payments', { meterNo: state.meter, amount, provider: 'wechat', channel: 'native' });
    const box = $('pay-result'); box.hidden = false;
    box.textContent = '订单 ' + p.orderNo + '：请用微信扫码或在微信中打开 ' + p.codeUrl + ' 完成支付，支付后余额自动到账。';
    poll(p.orderNo);
  } catch (e) { say(e.message); }
}

async function poll(orderNo) {
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 3000));
    const p = await api('GET', '/payments/' + encodeURIComponent(orderNo)).catch(() => null);
    if (p && p.status !== 'created') { say(statusText[p.status] || p.status); await meter(state.meter); return; }
  }
}

$('send-code').addEventListener('click', sendCode);
$('login-form').addEventListener('submit', login);
$('pay-form').addEventListener('submit', pay);
$('back').addEventListener('click', () => meters().catch((e) => say(e.message)));
$('logout').addEventListener('click', logout);
for (const b of document.querySelectorAll('.amounts button')) b.addEventListener('click', () => { $('pay-form').amount.value = b.dataset.amount; });
if (state.token) meters().catch(() => logout()); else show('login');
