export { BaseCommand, type BaseFlags } from './base-command.js';
export { colorEnabled, createStyler, type StyleName, type Styler } from './style.js';
