/**
 * etcd in your tests: {@link org.etcdjvm.test.EtcdCluster} runs one or more real etcd nodes
 * ({@code etcd-embedded}) inside the test JVM on free loopback ports, with {@code kill} and {@code
 * restart} of single members; {@link org.etcdjvm.test.EtcdExtension} does it for JUnit 5, per test
 * class or per test.
 *
 * <p>Add {@code org.etcdjvm:etcd-test} with test scope (it brings {@code etcd-embedded} and {@code
 * etcd-client}; JUnit comes from your project). The test JVM needs two {@code --add-opens} flags
 * for Atomix; without them the first start fails with the lines to paste into the build.
 *
 * <p>Conventions: every parameter and return value is non-null; arguments are checked when a
 * method is called; times are {@link java.time.Duration}s; failures are unchecked, so that test
 * fixtures need no {@code throws} clauses.
 */
package org.etcdjvm.test;
