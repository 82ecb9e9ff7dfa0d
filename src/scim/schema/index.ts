export * from './types.js';
export * from './common.js';
export * from './core-user.js';
export * from './enterprise-user.js';
export * from './core-group.js';
export * from './registry.js';
export * from './validate.js';
export * from './project.js';
