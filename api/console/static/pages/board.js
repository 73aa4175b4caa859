// Meter board (being built).
import { register, h, tr } from '../lib.js';

register({
  id: 'board', path: '/meters/board', section: 'metering', label: { zh: '电表状态看板', en: 'Meter board' },
  async render(main) {
    main.append(h('h2', null, tr('电表状态看板', 'Meter board')));
  },
});
