export * from './errors';
export * from './common';
export * from './accounts';
export * from './profiles';
export * from './directory';
export * from './rooms';
export * from './messages';
export * from './realtime';
