// Sale counter (being built).
import { register, h, tr } from '../lib.js';

register({
  id: 'sale', path: '/sale', section: 'metering', label: { zh: '售电', en: 'Sale counter' },
  async render(main) {
    main.append(h('h2', null, tr('售电', 'Sale counter')));
  },
});
