export * from './list-response.js';
export * from './service-provider-config.js';
export * from './resource-types.js';
export * from './schemas.js';
