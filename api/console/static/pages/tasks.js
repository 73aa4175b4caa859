// Task inbox (being built).
import { register, h, tr } from '../lib.js';

register({
  id: 'tasks', path: '/tasks', section: 'home', label: { zh: '待办审批', en: 'Task inbox' },
  async render(main) {
    main.append(h('h2', null, tr('待办审批', 'Task inbox')));
  },
});
