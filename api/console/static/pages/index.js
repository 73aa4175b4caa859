// Every page module, one line each; a module registers its pages when loaded.
import './login.js';
import './home.js';
import './board.js';
import './meter.js';
import './sale.js';
import './tasks.js';
