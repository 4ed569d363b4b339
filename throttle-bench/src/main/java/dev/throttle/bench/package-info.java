/**
 * Benchmarks of Throttle against the libraries people use instead, always in the same run. Run them with
 * {@code ./scripts/bench [--quick]}; each section of that command is a script in {@code scripts/bench.d/}.
 */
package dev.throttle.bench;
