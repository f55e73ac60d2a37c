export { ConsoleModule } from './console.module';
export { ConsoleSessionStore } from './console-session.store';
export { CONSOLE_CSP } from './console.guards';
export { CONSOLE_COOKIE } from './console-cookie';
export { CONSOLE_LANGUAGES } from './console.strings';
