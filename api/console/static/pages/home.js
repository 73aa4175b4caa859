// Home (being built).
import { register, h, tr } from '../lib.js';

register({
  id: 'home', path: '/', section: 'home', label: { zh: '首页', en: 'Home' },
  async render(main) {
    main.append(h('h2', null, tr('首页', 'Home')));
  },
});
