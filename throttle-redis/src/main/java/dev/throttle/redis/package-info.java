/** Distributed limits on Redis. */
package dev.throttle.redis;
