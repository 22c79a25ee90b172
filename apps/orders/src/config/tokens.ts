/** Dependency-injection tokens for values that are not classes. */
export const ORDERS_CONFIG = Symbol('ORDERS_CONFIG');
export const CONTACT_POINT_SERVICE = Symbol('CONTACT_POINT_SERVICE');
