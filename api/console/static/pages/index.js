// Every page module, one line each; a module registers its pages when loaded.
import './login.js';
import './home.js';
import './board.js';
import './meter.js';
import './sale.js';
import './tasks.js';
import './metering.js';
import './reports.js';
import './finance.js';
import './charging.js';
import './setup.js';
import './system.js';
