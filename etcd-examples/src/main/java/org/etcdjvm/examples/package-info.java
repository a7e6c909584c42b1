/**
 * Small runnable programs using {@code etcd-client} against nodes from {@code etcd-embedded}; each
 * starts what it needs on free loopback ports and has a test that runs it.
 *
 * <ul>
 *   <li>{@link org.etcdjvm.examples.GettingStarted}: etcd's getting-started guide with the client.
 *   <li>{@link org.etcdjvm.examples.ServiceProxy}: a routing table kept up to date by a watch.
 *   <li>{@link org.etcdjvm.examples.LeaderElection}: a TTL lock refreshed with compare-and-set.
 *   <li>{@link org.etcdjvm.examples.EmbeddedCluster}: three nodes in one JVM.
 * </ul>
 *
 * <p>Run one with {@code mvn -q -pl etcd-examples exec:exec -Dexample=ServiceProxy} (after {@code
 * mvn install -DskipTests}); the JVM that runs a node needs the {@code --add-opens} flags named in
 * the project README, which that command passes.
 */
package org.etcdjvm.examples;
