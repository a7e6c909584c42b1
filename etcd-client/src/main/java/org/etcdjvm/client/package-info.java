/**
 * A fluent OkHttp + Moshi client for etcd's v1 HTTP API, as served by etcdjvm (etcd 0.1.2).
 *
 * <p>Start at {@link org.etcdjvm.client.EtcdClient}. Every request is a small immutable object
 * that ends in {@code send()} (blocking) or {@code sendAsync()} (a {@link
 * java.util.concurrent.CompletableFuture}); {@link org.etcdjvm.client.Watch} keeps watching a
 * prefix until closed and never skips an event silently.
 *
 * <p>Conventions: every parameter and return value is non-null unless its documentation says
 * otherwise; arguments are checked when the method is called; times are {@link java.time.Duration}
 * and {@link java.time.Instant}; etcd errors are checked {@link org.etcdjvm.client.EtcdException}s
 * and transport failures {@link java.io.IOException}s. The only runtime dependencies are OkHttp
 * and Moshi. Everything in {@code org.etcdjvm.client.internal} is implementation.
 */
package org.etcdjvm.client;
