// Meter (being built).
import { register, h, tr } from '../lib.js';

register({
  id: 'meter', path: '/meters/:meterNo', label: { zh: '电表详情', en: 'Meter' },
  async render(main) {
    main.append(h('h2', null, tr('电表详情', 'Meter')));
  },
});
