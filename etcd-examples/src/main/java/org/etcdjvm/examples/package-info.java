/**
 * Small runnable programs using {@code etcd-client} against nodes from {@code etcd-embedded}; each
 * starts what it needs on free loopback ports, prints what happens, and has a test that checks
 * what it claims.
 *
 * <ul>
 *   <li>{@link org.etcdjvm.examples.GettingStarted}: etcd's getting-started guide with the client.
 *   <li>{@link org.etcdjvm.examples.ServiceProxy}: an HTTP reverse proxy (round robin) whose
 *       backends ({@link org.etcdjvm.examples.Backend}) announce themselves with TTL keys and
 *       heartbeats; the proxy follows them through watch callbacks.
 *   <li>{@link org.etcdjvm.examples.LeaderElection}: a TTL lock refreshed with compare-and-set.
 *   <li>{@link org.etcdjvm.examples.EmbeddedCluster}: three nodes in one JVM, joining one by one.
 * </ul>
 *
 * <p>Run one with {@code bin/example service-proxy} (or {@code getting-started}, {@code
 * leader-election}, {@code embedded-cluster}), which builds what is missing first and passes the
 * {@code --add-opens} flags Atomix needs (see the project README).
 */
package org.etcdjvm.examples;
